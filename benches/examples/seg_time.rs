use chexlocalize_benches::sample_maps;
use chexlocalize_saliency::{Threshold, Upsampled, segment_rle};
/// CPU time of this thread in ns (robust to other load on the machine).
fn cpu() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}
fn main() {
    let maps = sample_maps().expect("sample");
    let n = maps.len() as u64 * 5;
    for _ in 0..3 {
        let t = cpu();
        for _ in 0..5 {
            for (m, h, w) in &maps {
                std::hint::black_box(Upsampled::new(m.view(), *h, *w));
            }
        }
        let t_new = cpu() - t;
        let ups: Vec<_> = maps
            .iter()
            .map(|(m, h, w)| Upsampled::new(m.view(), *h, *w))
            .collect();
        let t = cpu();
        let mut s = 0f32;
        for _ in 0..5 {
            for u in &ups {
                s += u.normalization().1;
            }
        }
        let t_norm = cpu() - t;
        let t = cpu();
        for _ in 0..5 {
            for (m, h, w) in &maps {
                std::hint::black_box(
                    segment_rle(m.view(), *h, *w, Threshold::Otsu { smoothing: None }).ok(),
                );
            }
        }
        let t_otsu = cpu() - t;
        let t = cpu();
        for _ in 0..5 {
            for (m, h, w) in &maps {
                std::hint::black_box(segment_rle(m.view(), *h, *w, Threshold::Fixed(0.5)).ok());
            }
        }
        let t_fixed = cpu() - t;
        println!(
            "cpu per map: new {} us, norm {} us, otsu {} us, fixed {} us ({s})",
            t_new / n / 1000,
            t_norm / n / 1000,
            t_otsu / n / 1000,
            t_fixed / n / 1000
        );
    }
}
