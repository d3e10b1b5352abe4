//! `cargo xtask fixtures`: a synthetic CheXlocalize dataset, deterministic from a ChaCha seed.
//!
//! Layout (like the original repository's `sample/`):
//! ```text
//! gradcam_maps_val/<cxr_id>_<task>_map.pkl   heatmap pickles (legacy torch format, our writer)
//! gt_annotations_val.json                     radiologist polygons
//! hb_annotations_val.json, hb_salient_pts_val.json   human benchmark polygons and points
//! tuning_results.csv, probability_tuning_results.csv  thresholds for heatmap-to-segmentation
//! valid/<patient>/<study>/view1_frontal.jpg   CXR-like grayscale images
//! ```
//! The small set (committed in `fixtures/`) is 60 CXRs. Its first 8 (patient90001-90008) carry
//! the hard cases: odd image sizes, a constant map, an all-zero map, negative values, tied maxima,
//! float64 and 14-vector probabilities, a tensor `cxr_img`, polygons partly outside the image, a
//! 2-point polygon, a CXR with heatmaps but no ground truth. The 52 after them (patient90009-90060,
//! a random stream of their own, so the first 8 do not depend on them) are plain, all in the
//! ground truth, and give every task at least 17 findings that are also in the human benchmark
//! and its salient points, so that `cargo xtask reproduce` has data for every stage (only the
//! first 6 of them have a JPEG, at half size, enough for the report's overlays). `--scale val` writes a validation-sized set (234 CXRs x 10 tasks, 320x320
//! maps, CXRs of 2000-2900 px) under `target/` for benchmarks; `--scale test` a test-sized one
//! like it (668 CXRs from 500 patients, as the CheXlocalize test set: the first 168 patients
//! have two studies each) for the competition server's benchmark.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value};
use chexlocalize_io::{
    Annotations, CsvWriter, CxrAnnotations, Field, HeatmapRecord, SalientPoints, Task,
    annotations_to_json_string, salient_points_to_json_string, write_atomic, write_heatmap,
};
use clap::{Args, ValueEnum};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use crate::util::workspace_root;

/// Arguments of `cargo xtask fixtures`.
#[derive(Args, Debug)]
pub(crate) struct FixturesArgs {
    /// `small`: the committed test set in `fixtures/` (60 CXRs: 8 with the hard cases, 52 plain
    /// ones that give every task enough findings for every stage); `mid`: 40 CXRs, small images (the
    /// regression oracle of `crates/stats/tests/data`); `val`: 234 CXRs for benchmarks; `test`:
    /// 668 CXRs from 500 patients (the test set's size) for the server benchmark.
    #[arg(long, value_enum, default_value_t = Scale::Small)]
    scale: Scale,
    /// Output folder (default `fixtures/` for small, `target/fixtures-<scale>/` otherwise).
    #[arg(long)]
    out: Option<PathBuf>,
    /// ChaCha seed.
    #[arg(long, default_value_t = 20_261_123)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scale {
    Small,
    Mid,
    Val,
    Test,
}

pub(crate) fn run(args: &FixturesArgs) -> Result<()> {
    let root = workspace_root();
    let out = args.out.clone().unwrap_or_else(|| match args.scale {
        Scale::Small => root.join("fixtures"),
        Scale::Mid => root.join("target/fixtures-mid"),
        Scale::Val => root.join("target/fixtures-val"),
        Scale::Test => root.join("target/fixtures-test"),
    });
    let spec = match args.scale {
        Scale::Small => Spec::small(),
        Scale::Mid => Spec::mid(),
        Scale::Val => Spec::val(),
        Scale::Test => Spec::test(),
    };
    generate(&out, &spec, args.seed)?;
    println!(
        "fixtures: {} CXRs written to {}",
        spec.n_cxrs + spec.extra_cxrs,
        out.display()
    );
    Ok(())
}

/// The val-scale set into `out` (with the default seed), for benchmarks.
pub(crate) fn generate_val(out: &Path) -> Result<()> {
    generate(out, &Spec::val(), 20_261_123)
}

/// The test-scale set into `out` (with the default seed), for the server benchmark.
pub(crate) fn generate_test(out: &Path) -> Result<()> {
    generate(out, &Spec::test(), 20_261_123)
}

/// Size parameters of a generated set.
pub(crate) struct Spec {
    n_cxrs: usize,
    /// CXRs after the first `n_cxrs`, drawn from a stream of their own, without hard cases,
    /// each with ground truth, with a scheduled finding for every task every third CXR.
    extra_cxrs: usize,
    map_size: usize,
    min_dim: usize,
    max_dim: usize,
    hard_cases: bool,
    images: bool,
    /// Patients of the CXRs (0: one each); see [`Spec::cxr_ref`].
    patients: usize,
}

impl Spec {
    /// The committed `fixtures/`: the 8 hard-case CXRs, then 52 plain ones (see the module doc).
    pub(crate) fn small() -> Self {
        Spec {
            n_cxrs: 8,
            extra_cxrs: 52,
            map_size: 20,
            min_dim: 150,
            max_dim: 420,
            hard_cases: true,
            images: true,
            patients: 0,
        }
    }

    /// Enough CXRs per task for every regression of the reference (n > 3 per task), small enough
    /// to run the whole original pipeline in seconds; no hard cases (the reference must not crash).
    pub(crate) fn mid() -> Self {
        Spec {
            n_cxrs: 40,
            extra_cxrs: 0,
            map_size: 20,
            min_dim: 150,
            max_dim: 420,
            hard_cases: false,
            images: false,
            patients: 0,
        }
    }

    pub(crate) fn val() -> Self {
        Spec {
            n_cxrs: 234,
            extra_cxrs: 0,
            map_size: 320,
            min_dim: 2000,
            max_dim: 2900,
            hard_cases: false,
            images: false,
            patients: 0,
        }
    }

    /// The CheXlocalize test set's size: 668 CXRs from 500 patients, like `val` otherwise.
    pub(crate) fn test() -> Self {
        Spec {
            n_cxrs: 668,
            patients: 500,
            ..Spec::val()
        }
    }

    /// Patient index and study number of CXR `i`: with `p` patients for `n` CXRs, the first
    /// `n - p` patients have two studies (CXRs `2j` and `2j + 1`), the others one; without
    /// `patients`, CXR `i` is patient `i`'s only study.
    fn cxr_ref(&self, i: usize) -> (usize, usize) {
        let n = self.n_cxrs + self.extra_cxrs;
        let doubles = if self.patients == 0 {
            0
        } else {
            n.saturating_sub(self.patients)
        };
        if i < 2 * doubles {
            (i / 2, i % 2 + 1)
        } else {
            (i - doubles, 1)
        }
    }
}

/// Mixed into the seed for the stream of the extra CXRs.
const EXTRA_STREAM: u64 = 0x6578_7472_6163_7872;

/// How many of the extra CXRs get an X-ray JPEG (at half size): the report's overlays need them.
const EXTRA_IMAGES: usize = 6;

/// Whether a task's finding is in a CXR's ground truth.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// Drawn at random (the first `n_cxrs` CXRs: 40 %; the extras: 35 %).
    Drawn(bool),
    /// Extra CXR `j`, task `k` with `(j + k) % 3 == 0`: present, and in the human benchmark and
    /// salient points. So each task has a finding in at least `extra_cxrs / 3` (rounded down)
    /// extras, and any 6 consecutive extras hold every task at least twice.
    Scheduled,
}

/// A small wrapper over ChaCha for the few distributions we need.
struct Gen(ChaCha8Rng);

impl Gen {
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn int(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + (self.0.next_u64() % (hi_inclusive - lo + 1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Rounds to `d` decimals, like the annotation files' 5-decimal coordinates.
    fn coord(&mut self, x: f64) -> f64 {
        (x * 1e5).round() / 1e5
    }
}

struct Blob {
    cx: f64,
    cy: f64,
    r: f64,
}

fn cxr_id((patient, study): (usize, usize)) -> String {
    format!("patient{}_study{study}_view1_frontal", 90001 + patient)
}

fn image_rel_path((patient, study): (usize, usize)) -> String {
    format!(
        "valid/patient{}/study{study}/view1_frontal.jpg",
        90001 + patient
    )
}

pub(crate) fn generate(out: &Path, spec: &Spec, seed: u64) -> Result<()> {
    let mut g = Gen(ChaCha8Rng::seed_from_u64(seed));
    let maps_dir = out.join("gradcam_maps_val");
    std::fs::create_dir_all(&maps_dir)
        .with_context(|| format!("creating {}", maps_dir.display()))?;
    let mut gt = Annotations::default();
    let mut hb = Annotations::default();
    let mut hb_pts = SalientPoints::default();
    // The extra CXRs draw from their own stream, so that the first `n_cxrs` (and the tuning
    // CSVs drawn after them) are the same with or without them.
    let mut extra_g = Gen(ChaCha8Rng::seed_from_u64(seed ^ EXTRA_STREAM));
    for i in 0..spec.n_cxrs + spec.extra_cxrs {
        let extra = i.checked_sub(spec.n_cxrs);
        let g = if extra.is_some() {
            &mut extra_g
        } else {
            &mut g
        };
        let cxr = spec.cxr_ref(i);
        let id = cxr_id(cxr);
        let (h, w) = if spec.hard_cases && i == 0 {
            (97, 131) // tiny, odd, non-square
        } else {
            (
                g.int(spec.min_dim, spec.max_dim),
                g.int(spec.min_dim, spec.max_dim),
            )
        };
        match extra {
            None if spec.images => write_image(&out.join(image_rel_path(cxr)), h, w, g)?,
            // The report shows, per task, the first two CXRs (by id) with the finding: the
            // first EXTRA_IMAGES extras hold every task at least twice (see `Presence`).
            Some(j) if j < EXTRA_IMAGES => {
                write_image(&out.join(image_rel_path(cxr)), h / 2, w / 2, g)?;
            }
            _ => {}
        }
        // The last CXR of the small set has heatmaps but no ground truth.
        let in_gt = !(spec.hard_cases && i == spec.n_cxrs - 1);
        let mut gt_tasks = Vec::new();
        let mut hb_tasks = Vec::new();
        let mut pt_tasks = Vec::new();
        let tensor_prob = spec.hard_cases && (i == 1 || i == 4);
        let probs: Vec<f32> = (0..14).map(|_| g.unit() as f32).collect();
        for (k, task) in Task::ALL.into_iter().enumerate() {
            let presence = match extra {
                None => Presence::Drawn(in_gt && g.chance(0.4)),
                Some(j) if (j + k) % 3 == 0 => Presence::Scheduled,
                Some(_) => Presence::Drawn(g.chance(0.35)),
            };
            let present = in_gt && presence != Presence::Drawn(false);
            // A scheduled finding is always in the human benchmark and its salient points.
            let p_hb = if presence == Presence::Scheduled {
                1.0
            } else {
                0.9
            };
            let blob = Blob {
                cx: g.range(0.15, 0.85) * w as f64,
                cy: g.range(0.15, 0.85) * h as f64,
                r: g.range(0.06, 0.2) * h.min(w) as f64,
            };
            if present {
                // The extras' outlines are coarser: the annotation files stay small.
                let max_vertices = if extra.is_some() { 12 } else { 20 };
                let mut polys = vec![blob_polygon(&blob, g, 1.0, max_vertices)];
                if g.chance(0.3) {
                    let b2 = Blob {
                        cx: g.range(0.0, 1.0) * w as f64,
                        cy: g.range(0.0, 1.0) * h as f64,
                        r: g.range(0.05, 0.12) * h.min(w) as f64,
                    };
                    polys.push(blob_polygon(&b2, g, 1.0, max_vertices));
                }
                if spec.hard_cases && i == 2 && k == 0 {
                    // partly outside the image, negative coordinates included
                    let b3 = Blob {
                        cx: -5.5,
                        cy: h as f64 * 0.5,
                        r: h as f64 * 0.2,
                    };
                    polys.push(blob_polygon(&b3, g, 1.0, max_vertices));
                }
                if spec.hard_cases && i == 3 && k == 1 {
                    // a 2-point polygon: Pillow draws it as a line
                    polys.push(vec![[10.25, 12.75], [60.5, 40.0]]);
                }
                let hb_polys: Vec<Vec<[f64; 2]>> = polys
                    .iter()
                    .map(|p| {
                        p.iter()
                            .map(|[x, y]| {
                                let (dx, dy) = (g.range(-4.0, 4.0), g.range(-4.0, 4.0));
                                [g.coord(x + dx), g.coord(y + dy)]
                            })
                            .collect()
                    })
                    .collect();
                // The extras' readers point closer to the finding (a human benchmark that hits
                // more often than the saliency maps, as in the paper).
                let spread = if extra.is_some() { 0.9 } else { 1.5 };
                let n_pts = g.int(1, 3);
                let pts: Vec<[f64; 2]> = (0..n_pts)
                    .map(|_| {
                        let x = (blob.cx + g.range(-spread, spread) * blob.r)
                            .clamp(0.0, (w - 1) as f64);
                        let y = (blob.cy + g.range(-spread, spread) * blob.r)
                            .clamp(0.0, (h - 1) as f64);
                        [g.coord(x), g.coord(y)]
                    })
                    .collect();
                gt_tasks.push((task, polys));
                if g.chance(p_hb) {
                    hb_tasks.push((task, hb_polys));
                }
                if g.chance(p_hb) {
                    pt_tasks.push((task, pts));
                }
            }
            let map = heatmap(spec, &blob, present, h, w, i, k, g)?;
            let prob = if tensor_prob {
                Prob::Tensor(Tensor::new(vec![14], TensorData::F32(probs.clone()))?)
            } else {
                let p = if present {
                    g.range(0.3, 0.95)
                } else {
                    g.range(0.0, 0.5)
                };
                Prob::Float(p)
            };
            let cxr_img = if spec.hard_cases && i == 1 {
                let n = 3 * 16 * 16;
                CxrImg::Tensor(Tensor::new(
                    vec![3, 16, 16],
                    TensorData::F32((0..n).map(|_| g.range(-2.0, 2.5) as f32).collect()),
                )?)
            } else {
                CxrImg::Path(image_rel_path(cxr))
            };
            let rec = HeatmapRecord {
                map,
                prob,
                task: task.name().to_owned(),
                gt: Value::Int(i64::from(present)),
                cxr_img,
                cxr_dims: (w as i64, h as i64),
            };
            let protocol = if spec.hard_cases && i == 5 { 2 } else { 3 };
            let path = maps_dir.join(format!("{id}_{}_map.pkl", task.name()));
            write_heatmap(&path, &rec, protocol)?;
        }
        if in_gt {
            gt.cxrs.push(CxrAnnotations {
                cxr_id: id.clone(),
                height: h,
                width: w,
                tasks: gt_tasks,
            });
            hb.cxrs.push(CxrAnnotations {
                cxr_id: id.clone(),
                height: h,
                width: w,
                tasks: hb_tasks,
            });
            hb_pts.cxrs.push((id, pt_tasks));
        }
    }
    write_atomic(
        &out.join("gt_annotations_val.json"),
        annotations_to_json_string(&gt).as_bytes(),
    )?;
    write_atomic(
        &out.join("hb_annotations_val.json"),
        annotations_to_json_string(&hb).as_bytes(),
    )?;
    write_atomic(
        &out.join("hb_salient_pts_val.json"),
        salient_points_to_json_string(&hb_pts).as_bytes(),
    )?;
    write_tuning_csvs(out, &mut g)?;
    Ok(())
}

/// An irregular blob polygon around `b` with 8 to `max_vertices` vertices and 5-decimal
/// coordinates.
fn blob_polygon(b: &Blob, g: &mut Gen, scale: f64, max_vertices: usize) -> Vec<[f64; 2]> {
    let n = g.int(8, max_vertices);
    (0..n)
        .map(|j| {
            let t = j as f64 / n as f64 * std::f64::consts::TAU;
            let r = b.r * scale * g.range(0.7, 1.3);
            [g.coord(b.cx + r * t.cos()), g.coord(b.cy + r * t.sin())]
        })
        .collect()
}

/// A Grad-CAM-like map: Gaussian blobs, one near the ground truth when there is one.
#[allow(clippy::too_many_arguments)]
fn heatmap(
    spec: &Spec,
    gt_blob: &Blob,
    present: bool,
    h: usize,
    w: usize,
    i: usize,
    k: usize,
    g: &mut Gen,
) -> Result<Tensor> {
    let s = spec.map_size;
    let mut blobs = Vec::new();
    if present && g.chance(0.8) {
        blobs.push((
            gt_blob.cx / w as f64 * s as f64,
            gt_blob.cy / h as f64 * s as f64,
            gt_blob.r / h.min(w) as f64 * s as f64,
            1.0,
        ));
    }
    for _ in 0..g.int(1, 3) {
        blobs.push((
            g.range(0.0, s as f64),
            g.range(0.0, s as f64),
            g.range(0.05, 0.25) * s as f64,
            g.range(0.2, 0.9),
        ));
    }
    let scale = g.range(1e-4, 2e-2);
    let mut data: Vec<f32> = (0..s * s)
        .map(|p| {
            let (y, x) = ((p / s) as f64 + 0.5, (p % s) as f64 + 0.5);
            let v: f64 = blobs
                .iter()
                .map(|(cx, cy, r, a)| {
                    a * (-((x - cx).powi(2) + (y - cy).powi(2)) / (2.0 * r * r)).exp()
                })
                .sum();
            (v * scale) as f32
        })
        .collect();
    if spec.hard_cases {
        match (i, k) {
            (0, 0) => data.iter_mut().for_each(|v| *v = 0.0), // all zero: NaN after normalising
            (0, 1) => data.iter_mut().for_each(|v| *v = 0.25), // constant
            (2, 2) => data.iter_mut().for_each(|v| *v -= 0.5 * scale as f32), // negative values
            (3, 3) => {
                // coarse levels: many tied maxima
                data.iter_mut()
                    .for_each(|v| *v = (*v / scale as f32 * 4.0).round() / 4.0);
            }
            _ => {}
        }
    }
    Ok(Tensor::new(vec![1, 1, s, s], TensorData::F32(data))?)
}

/// A CXR-like grayscale JPEG: a bright body, two darker lungs, a spine, some noise.
fn write_image(path: &Path, h: usize, w: usize, g: &mut Gen) -> Result<()> {
    let noise_seed = g.0.next_u64();
    let mut n = ChaCha8Rng::seed_from_u64(noise_seed);
    let img = image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
        let (u, v) = (x as f64 / w as f64 - 0.5, y as f64 / h as f64 - 0.5);
        let body = if (u / 0.45).powi(2) + (v / 0.55).powi(2) < 1.0 {
            150.0
        } else {
            20.0
        };
        let lung = |cx: f64| ((u - cx) / 0.17).powi(2) + ((v + 0.05) / 0.32).powi(2) < 1.0;
        let lungs = if lung(-0.2) || lung(0.2) { -90.0 } else { 0.0 };
        let spine = if u.abs() < 0.04 { 60.0 } else { 0.0 };
        let noise = (n.next_u32() % 21) as f64 - 10.0;
        image::Luma([(body + lungs + spine + noise).clamp(0.0, 255.0) as u8])
    });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&img)
        .context("encoding a fixture JPEG")?;
    write_atomic(path, &bytes)?;
    Ok(())
}

/// Threshold CSVs in the format of the original sample's, with a duplicate task row (the first
/// wins), tied mIoUs (the first wins) and a NaN mIoU.
fn write_tuning_csvs(out: &Path, g: &mut Gen) -> Result<()> {
    let mut t = CsvWriter::new();
    t.row(["threshold", "task"]);
    for task in Task::SORTED {
        let x = (g.int(2, 7) as f64) / 10.0;
        t.row([Field::Float(x), Field::from(task.name())]);
    }
    t.row([Field::Float(0.8), Field::from(Task::Edema.name())]);
    t.write(&out.join("tuning_results.csv"))?;
    let mut p = CsvWriter::new();
    p.row(["prob_threshold", "mIoU", "task"]);
    for task in Task::SORTED {
        let start = if task == Task::LungLesion { 1 } else { 0 };
        let peak = g.int(start, 8);
        for c in start..9 {
            let cutoff = [
                0.0,
                0.1,
                0.2,
                0.30000000000000004,
                0.4,
                0.5,
                0.6000000000000001,
                0.7000000000000001,
                0.8,
            ][c];
            let miou = if task == Task::Consolidation && c == 0 {
                f64::NAN
            } else if c == peak || (task == Task::Edema && c == peak.saturating_sub(1)) {
                0.25
            } else {
                (g.range(0.0, 0.24) * 1000.0).round() / 1000.0
            };
            p.row([
                Field::Float((cutoff * 10.0f64).round() / 10.0),
                Field::Float(miou),
                Field::from(task.name()),
            ]);
        }
    }
    p.write(&out.join("probability_tuning_results.csv"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Spec, cxr_id};

    #[test]
    fn test_scale_has_668_cxrs_of_500_patients() {
        let spec = Spec::test();
        let ids: std::collections::BTreeSet<_> =
            (0..668).map(|i| cxr_id(spec.cxr_ref(i))).collect();
        assert_eq!(ids.len(), 668);
        let patients: std::collections::BTreeSet<_> = (0..668).map(|i| spec.cxr_ref(i).0).collect();
        assert_eq!(patients.len(), 500);
        assert_eq!(spec.cxr_ref(0), (0, 1));
        assert_eq!(spec.cxr_ref(1), (0, 2));
        assert_eq!(spec.cxr_ref(336), (168, 1));
        assert_eq!(Spec::val().cxr_ref(5), (5, 1));
    }
}
