//! The 20 heatmap pickles of the original sample decode to what torch reads from them, as
//! summarised in `reference/pkl_summary.csv` (torch 2.15 `CPU_Unpickler`, see that folder's README).

use chexlocalize_pickle::{CxrImg, DType, Limits, Prob, Value, load_heatmap};

#[test]
fn sample_pickles_match_pkl_summary() {
    let Some(dir) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let summary = std::fs::read_to_string(dir.join("reference/pkl_summary.csv")).expect("summary");
    let mut n = 0;
    for line in summary.lines().skip(1) {
        // file,task,gt,cxr_img,cxr_w,cxr_h,prob,map_shape,map_min,map_max,map_sum_f64,argmax_row,argmax_col
        let f: Vec<&str> = line.split(',').collect();
        let bytes = std::fs::read(dir.join("gradcam_maps_val").join(f[0])).expect("pickle");
        let rec = load_heatmap(&bytes, &Limits::default()).expect("decodes");
        assert_eq!(rec.task, f[1]);
        assert_eq!(rec.gt, Value::Int(f[2].parse().expect("gt")));
        let CxrImg::Tensor(img) = &rec.cxr_img else {
            panic!("cxr_img is a tensor in the sample")
        };
        assert_eq!(img.dtype(), DType::F32);
        assert_eq!(
            format!(
                "tensor:float32:{}",
                img.shape
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("x")
            ),
            f[3].split(":sum=").next().expect("prefix")
        );
        let want_img_sum: f64 = f[3]
            .split(":sum=")
            .nth(1)
            .expect("sum")
            .parse()
            .expect("f64");
        let img_sum: f64 = img.to_f64_vec().iter().sum();
        assert!(
            (img_sum - want_img_sum).abs() <= 1e-9 * want_img_sum.abs(),
            "{img_sum} vs {want_img_sum}"
        );
        assert_eq!(
            rec.cxr_dims,
            (f[4].parse().expect("w"), f[5].parse().expect("h"))
        );
        assert_eq!(rec.prob, Prob::Float(f[6].parse().expect("prob")));
        assert_eq!(
            rec.map
                .shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("x"),
            f[7]
        );
        let m = rec.map.to_f64_vec();
        let min = m.iter().copied().fold(f64::INFINITY, f64::min);
        let max = m.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(min, f[8].parse::<f64>().expect("min"));
        assert_eq!(max, f[9].parse::<f64>().expect("max"));
        let sum: f64 = m.iter().sum();
        let want: f64 = f[10].parse().expect("sum");
        assert!(
            (sum - want).abs() <= 1e-9 * want.abs().max(1e-300),
            "{sum} vs {want}"
        );
        let first_max = m.iter().position(|&x| x == max).expect("max present");
        let w = rec.map.shape[3];
        assert_eq!((first_max / w).to_string(), f[11]);
        assert_eq!((first_max % w).to_string(), f[12]);
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn every_prefix_of_a_sample_pickle_is_an_error_not_a_panic() {
    let Some(dir) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let path = dir.join("gradcam_maps_val/patient64542_study1_view1_frontal_Edema_map.pkl");
    let bytes = std::fs::read(path).expect("pickle");
    let limits = Limits::default();
    // Every prefix up to the first tensor's data, then a stride through the rest.
    let cuts: Vec<usize> = (0..2000).chain((2000..bytes.len()).step_by(997)).collect();
    for cut in cuts {
        assert!(
            load_heatmap(&bytes[..cut], &limits).is_err(),
            "prefix of {cut} bytes decoded"
        );
    }
    assert!(load_heatmap(&bytes, &limits).is_ok());
}
