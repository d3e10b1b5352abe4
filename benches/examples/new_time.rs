use chexlocalize_benches::sample_maps;
use chexlocalize_saliency::Upsampled;
use std::time::Instant;
fn main() {
    let maps = sample_maps().expect("sample");
    let (m, h, w) = &maps[0];
    for _ in 0..5 {
        let t = Instant::now();
        let mut s = 0usize;
        for _ in 0..50 {
            let u = Upsampled::new(m.view(), *h, *w);
            s += u.dim().0;
        }
        println!("new {:?} per map {s}", t.elapsed() / 50);
    }
}
