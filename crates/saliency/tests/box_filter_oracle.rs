//! The box filter against OpenCV 5.0.0: FNV-1a hashes of the bytes of
//! `cv2.boxFilter(img, -1, (k, k))` for the formula image
//! `img[i][j] = (i*131 + j*71 + (i*j)%17*13) % 256` (uint8), computed once with cv2.

use chexlocalize_saliency::box_filter;
use ndarray::Array2;

fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn matches_opencv() {
    let cases: [(usize, usize, usize, u64); 10] = [
        (37, 41, 1, 0x0092_63fb_9ac1_f8a0),
        (37, 41, 2, 0xc800_057b_a090_551a),
        (37, 41, 3, 0xa240_f201_929e_7c0b),
        (40, 33, 4, 0x44bb_4c75_4dbf_b5c9),
        (64, 70, 5, 0x2d25_4e11_d929_9dd9),
        (30, 30, 7, 0x8905_a411_da5c_1655),
        (50, 45, 16, 0xf895_848a_fb49_d195),
        (50, 45, 17, 0xef54_6905_a7ad_a72d),
        (9, 11, 5, 0xcc58_b06f_1dc1_007f),
        (3, 4, 5, 0x32ef_bf74_875e_c056),
    ];
    for (h, w, k, hash) in cases {
        let img = Array2::from_shape_fn((h, w), |(i, j)| {
            ((i * 131 + j * 71 + (i * j) % 17 * 13) % 256) as u8
        });
        let out = box_filter(&img, k);
        assert_eq!(fnv1a64(out.iter().copied()), hash, "{h}x{w}, k = {k}");
    }
}
