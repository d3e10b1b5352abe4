//! `load_prob` (the probability without the tensors' bytes) against the whole read: the same
//! `prob` whenever it answers, `None` (read the whole file) whenever it cannot be sure, and only
//! a few kilobytes read from a real heatmap.

use std::io::{Cursor, Read, Seek, SeekFrom};

use chexlocalize_pickle::{
    CxrImg, HeatmapRecord, Limits, Prob, Tensor, TensorData, Value, dump_heatmap, load_heatmap,
    load_prob,
};

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn record(prob: Prob, side: usize) -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(
            vec![1, 1, side, side],
            TensorData::F32((0..side * side).map(|i| i as f32 * 1e-3).collect()),
        )
        .expect("map"),
        prob,
        task: "Edema".into(),
        gt: Value::Int(1),
        cxr_img: CxrImg::Path("view1_frontal.jpg".into()),
        cxr_dims: (2828, 2320),
    }
}

#[test]
fn sample_pickles_give_the_whole_reads_prob_from_a_few_kilobytes() {
    let Some(dir) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(dir.join("gradcam_maps_val")).expect("sample maps") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("pickle");
        let whole = load_heatmap(&bytes, &Limits::default()).expect("decodes");
        let mut file = Counting {
            inner: std::fs::File::open(&path).expect("open"),
            read: 0,
        };
        assert_eq!(
            load_prob(&mut file, &Limits::default()).map(|s| (s.prob, s.cxr_dims)),
            Some((whole.prob, whole.cxr_dims)),
            "{}",
            path.display()
        );
        // Two tensors of 0.4 and 1.2 MB (the map and the CXR image); 8 KiB buffered reads.
        assert!(file.read < 32 << 10, "{} bytes read", file.read);
        assert!(bytes.len() > 1 << 20);
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn every_protocol_and_kind_of_prob_reads_as_the_whole_read() {
    let probs = [
        Prob::Float(0.25),
        Prob::Float(-0.0),
        Prob::Tensor(Tensor::new(vec![14], TensorData::F32(vec![0.5; 14])).expect("t")),
        Prob::Tensor(Tensor::new(vec![1], TensorData::F64(vec![0.125])).expect("t")),
    ];
    for protocol in 2..=5 {
        for prob in &probs {
            for side in [4, 320] {
                let bytes = dump_heatmap(&record(prob.clone(), side), protocol).expect("dump");
                let whole = load_heatmap(&bytes, &Limits::default())
                    .expect("whole")
                    .prob;
                let got = load_prob(Cursor::new(&bytes), &Limits::default()).map(|s| s.prob);
                assert_eq!(got, Some(whole), "protocol {protocol}, side {side}");
            }
        }
    }
}

#[test]
fn a_prob_whose_storage_was_skipped_means_reading_the_whole_file() {
    // A prob tensor of 20 000 float32 (80 kB): its elements are cut, so there is no answer.
    let prob =
        Prob::Tensor(Tensor::new(vec![20_000], TensorData::F32(vec![0.5; 20_000])).expect("t"));
    let bytes = dump_heatmap(&record(prob, 4), 3).expect("dump");
    assert!(load_heatmap(&bytes, &Limits::default()).is_ok());
    assert_eq!(load_prob(Cursor::new(&bytes), &Limits::default()), None);
}

#[test]
fn damaged_files_are_never_answered_differently() {
    let bytes = dump_heatmap(&record(Prob::Float(0.75), 320), 3).expect("dump");
    // Cut anywhere (the map's elements included), or with bytes after the end.
    let cuts = (0..bytes.len()).step_by(997).chain([bytes.len() - 1]);
    for cut in cuts {
        let part = &bytes[..cut];
        let got = load_prob(Cursor::new(part), &Limits::default());
        assert_eq!(got, None, "cut at {cut}");
        assert!(load_heatmap(part, &Limits::default()).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(b'.');
    assert_eq!(load_prob(Cursor::new(&longer), &Limits::default()), None);
    // A length past the object limit is left to the whole read to report.
    let small = Limits {
        max_bytes_object: 1000,
        ..Limits::default()
    };
    assert_eq!(load_prob(Cursor::new(&bytes), &small), None);
    // Every single-byte change either gives the whole read's prob or no answer.
    let whole = |b: &[u8]| load_heatmap(b, &Limits::default()).ok().map(|r| r.prob);
    let head = bytes.len().min(600);
    for i in (0..head).chain(bytes.len() - 200..bytes.len()) {
        for x in [0u8, 1, 0x7f, 0xff, b'.', b'\n'] {
            let mut b = bytes.clone();
            b[i] = x;
            if let Some(p) = load_prob(Cursor::new(&b), &Limits::default()).map(|s| s.prob) {
                assert_eq!(Some(p), whole(&b), "byte {i} set to {x:#x}");
            }
        }
    }
}
