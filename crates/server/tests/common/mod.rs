//! Shared test data: the fixtures' ground truth and Grad-CAM/Otsu predictions.

#![allow(dead_code, unreachable_pub)]

pub mod server;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chexlocalize::{
    AnnotationsToSegmentations, HeatmapsToSegmentations, Options, PolygonFill, Smoothing,
    Thresholds,
};
use chexlocalize_server::{CompetitionConfig, DateTime, MetricKind, ScoringRule};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `(gt segmentation JSON, prediction segmentation JSON)`, made once per test binary.
pub fn data() -> &'static (PathBuf, PathBuf) {
    static DATA: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("server-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let gt = dir.join("gt_seg.json");
        let pred = dir.join("pred_seg.json");
        let o = Options::default();
        chexlocalize::annotations_to_segmentations(
            &AnnotationsToSegmentations {
                ann_path: fixtures().join("gt_annotations_val.json"),
                output_path: gt.clone(),
                fill_rule: PolygonFill::Pillow,
            },
            &o,
        )
        .expect("gt");
        chexlocalize::heatmaps_to_segmentations(
            &HeatmapsToSegmentations {
                map_dir: fixtures().join("gradcam_maps_val"),
                thresholds: Thresholds::Otsu,
                smoothing: Smoothing::None,
                output_path: pred.clone(),
            },
            &o,
        )
        .expect("predictions");
        // The fixtures have maps of one CXR without annotations: a submission has exactly
        // the test set's CXRs.
        let limits = chexlocalize_io::Limits::BUILTIN;
        let g = chexlocalize_io::read_segmentations(&gt, &limits).expect("gt");
        let p = chexlocalize_io::read_segmentations(&pred, &limits).expect("pred");
        let mut kept = chexlocalize_io::Segmentations::new();
        for c in p.cxrs().iter().filter(|c| g.contains(&c.cxr_id)) {
            for (t, r) in &c.masks {
                kept.insert(&c.cxr_id, *t, r.clone()).expect("unique");
            }
        }
        chexlocalize_io::write_segmentations(&pred, &kept).expect("write");
        (gt, pred)
    })
}

pub fn config(gt_path: PathBuf, daily_limit: u32, phase_end: DateTime) -> CompetitionConfig {
    CompetitionConfig {
        name: "test".into(),
        gt_path,
        public_fraction: 0.5,
        split_seed: 7,
        daily_limit,
        total_limit: None,
        final_selections: 2,
        phase_end,
        metric: MetricKind::Iou,
        scoring: ScoringRule::TruePosOnly,
        max_upload_bytes: 64 << 20,
        bootstrap_replicates: 1000,
        seed: 0,
    }
}

/// A fresh database URL: SQLite in `dir`, or a new Postgres database when `DATABASE_URL` is
/// set and `postgres` is asked for (None then: the caller prints a notice and returns).
pub async fn postgres_url(tag: &str) -> Option<String> {
    let Ok(base) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL is not set: skipping the Postgres test {tag}");
        return None;
    };
    sqlx::any::install_default_drivers();
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).expect("random");
    let name: String = format!(
        "chexlocalize_test_{tag}_{}",
        r.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let pool = sqlx::AnyPool::connect(&base)
        .await
        .expect("DATABASE_URL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("CREATE DATABASE");
    pool.close().await;
    let (head, _) = base.rsplit_once('/').expect("a database URL with a path");
    Some(format!("{head}/{name}"))
}

/// Drops a database made by [`postgres_url`] (the pools on it closed first).
pub async fn drop_postgres(url: &str) {
    let Ok(base) = std::env::var("DATABASE_URL") else {
        return;
    };
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    let pool = sqlx::AnyPool::connect(&base)
        .await
        .expect("DATABASE_URL reachable");
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&pool)
        .await;
    pool.close().await;
}
