//! The largest inputs the default limits let through, for the peak-memory bound of issue 17
//! ("about 1 GB for one heatmap or one submission with default limits"): each is just inside
//! one default limit, and the suite measures what reading and using it costs.

use super::pickle::record;

/// The side of the largest CXR the default limits accept as a square: 5 792² ≤ 2^25 pixels.
pub const MAX_SIDE: usize = 5792;

/// A heatmap at the default limits: a 2 048 x 2 048 map (2^22 elements, the tensor limit) of
/// pseudo-random values on a 5 792 x 5 792 CXR (the image-pixel limit). A 16 MiB pickle.
pub fn largest_heatmap(task: &str) -> Vec<u8> {
    let side = 2048usize;
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let values: Vec<f32> = (0..side * side)
        .map(|_| {
            // xorshift64*: a stand-in for a network's output, deterministic.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let dims = (MAX_SIDE as i64, MAX_SIDE as i64);
    record(task, dims, |p| {
        p.f32_tensor(&values, &[1, 1, side as i64, side as i64]);
    })
}

/// A segmentation JSON just under the default file limit (64 MiB): one CXR, ten 5 792 x 5 792
/// masks whose RLE counts are `runs` one-pixel runs then the rest of the image (each run one
/// character of the counts string), so the file is about `10 * runs` bytes and decodes to the
/// most runs a file of its size can hold.
pub fn largest_segmentations(cxr: &str, runs: usize) -> String {
    let pixels = (MAX_SIDE * MAX_SIDE) as u32;
    let mut counts = vec![1u32; runs];
    counts.push(pixels - runs as u32);
    let rle =
        chexlocalize_rle::Rle::from_runs(MAX_SIDE, MAX_SIDE, counts).expect("runs cover the image");
    let text = rle.to_counts_string();
    let masks: Vec<String> = super::TASKS
        .iter()
        .map(|t| format!("\"{t}\": {{\"size\": [{MAX_SIDE}, {MAX_SIDE}], \"counts\": \"{text}\"}}"))
        .collect();
    format!("{{\"{cxr}\": {{{}}}}}", masks.join(", "))
}

/// A JSON document of exactly `values` values: an object holding one array of `values - 2`
/// zeros (the object, its key and the array count as values too).
pub fn json_values(values: usize) -> String {
    let zeros = values - 3;
    let mut s = String::with_capacity(2 * zeros + 16);
    s.push_str("{\"a\": [");
    for i in 0..zeros {
        s.push_str(if i == 0 { "0" } else { ",0" });
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_where_the_limits_are() {
        let seg = largest_segmentations("c", 1000);
        assert!(
            seg.len() > 10 * 1000 && seg.len() < 10 * 1000 + 1000,
            "{}",
            seg.len()
        );
        // object, key "a", array and the zeros.
        assert_eq!(json_values(10).matches('0').count(), 7);
    }
}
