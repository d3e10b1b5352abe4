//! Upsampling against torch 2.15: FNV-1a hashes of the output's float32 bytes and the argmax,
//! produced by (torch.set_num_threads(1); numpy 2.4.6):
//!
//! ```python
//! m = np.array([[((i*W+j)*37 % 101)/101.0*0.01 for j in range(W)] for i in range(H)], np.float32)
//! t = F.interpolate(torch.from_numpy(m)[None,None], size=(oh,ow), mode='bilinear', align_corners=False)[0,0].numpy()
//! fnv1a64(t.astype('<f4').tobytes()), divmod(int(np.argmax(t)), ow)
//! ```

use chexlocalize_saliency::{max_point, upsample_bilinear};
use ndarray::Array2;

fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Input height and width, output height and width, hash of the output, first argmax.
type Case = (usize, usize, usize, usize, u64, (usize, usize));

#[test]
fn matches_torch_bit_for_bit() {
    let cases: [Case; 3] = [
        (5, 7, 70, 75, 0xf3f2_f9a5_e397_c460, (63, 26)),
        (20, 20, 97, 131, 0x381d_e91d_c3e8_e395, (31, 75)),
        (9, 4, 300, 200, 0xaffd_2794_3599_bd66, (249, 124)),
    ];
    for (h, w, oh, ow, hash, argmax) in cases {
        let m = Array2::from_shape_fn((h, w), |(i, j)| {
            (((i * w + j) * 37 % 101) as f64 / 101.0 * 0.01) as f32
        });
        let up = upsample_bilinear(m.view(), oh, ow);
        let got = fnv1a64(up.iter().flat_map(|v| v.to_le_bytes()));
        assert_eq!(got, hash, "{h}x{w} -> {oh}x{ow}");
        assert_eq!(max_point(m.view(), oh, ow), argmax, "{h}x{w} -> {oh}x{ow}");
    }
}
