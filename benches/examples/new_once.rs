use chexlocalize_benches::sample_maps;
use chexlocalize_saliency::{Threshold, Upsampled, segment_rle};
fn main() {
    let maps = sample_maps().expect("sample");
    let which = std::env::args().nth(1).unwrap_or_default();
    for (m, h, w) in maps.iter().take(4) {
        match which.as_str() {
            "new" => {
                std::hint::black_box(Upsampled::new(m.view(), *h, *w));
            }
            _ => {
                std::hint::black_box(
                    segment_rle(m.view(), *h, *w, Threshold::Otsu { smoothing: None }).ok(),
                );
            }
        }
    }
}
