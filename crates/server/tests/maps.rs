//! Confidence maps: the archive is validated with the segmentations and scored by the
//! pointing game; its hit rate equals `chexlocalize::evaluate` on the same split's maps.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use chexlocalize::{Bootstrap, Evaluate, Metric, Options, Predictor, evaluate};
use chexlocalize_io::Limits;
use chexlocalize_server::chrono::{self, Utc};
use chexlocalize_server::{
    Db, Scorer, Status, SubmitOutcome, WorkerOptions, pack_map_dir, public_split, work_one,
};

/// The fixtures' maps of the CXRs in the ground truth, copied into `dir`, but `leave_out`.
fn maps_of(dir: &Path, ids: &BTreeSet<String>, leave_out: Option<&str>) {
    std::fs::create_dir_all(dir).expect("dir");
    for e in std::fs::read_dir(common::fixtures().join("gradcam_maps_val")).expect("maps") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let (cxr, _) = chexlocalize_io::parse_heatmap_name(&p).expect("map name");
        if ids.contains(&cxr) && Some(name.as_str()) != leave_out {
            std::fs::copy(&p, dir.join(&name)).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_are_validated_and_scored_by_the_pointing_game() {
    let (gt_seg, pred_seg) = common::data();
    let dir = tempfile::tempdir().expect("tmp");
    let gt = chexlocalize_io::read_segmentations(gt_seg, &Limits::BUILTIN).expect("gt");
    let ids: BTreeSet<String> = gt.cxrs().iter().map(|c| c.cxr_id.clone()).collect();
    let all = dir.path().join("all");
    maps_of(&all, &ids, None);
    let missing = dir.path().join("missing");
    let one = "patient90001_study1_view1_frontal_Cardiomegaly_map.pkl";
    maps_of(&missing, &ids, Some(one));

    let db = Db::connect(&format!("sqlite:{}", dir.path().join("c.db").display()))
        .await
        .expect("connect");
    let cfg = common::config(gt_seg.clone(), 10, Utc::now() + chrono::Duration::days(1));
    db.init_competition(&cfg).await.expect("init");
    let token = db.add_team("t").await.expect("team");
    let team = db.team_by_token(&token).await.expect("q").expect("team");
    let seg = std::fs::read(pred_seg).expect("pred");
    let mut ids_of = Vec::new();
    for maps in [
        pack_map_dir(&all).expect("pack"),
        pack_map_dir(&missing).expect("pack"),
        b"not a tar archive".repeat(40),
    ] {
        let now = Utc::now();
        match db.submit(&team, seg.clone(), Some(maps), None, now).await {
            Ok(SubmitOutcome::Accepted { id }) => ids_of.push(id),
            other => panic!("{other:?}"),
        }
    }
    let opts = WorkerOptions::new(Scorer::InProcess);
    while work_one(&db, &opts).await.expect("work").is_some() {}

    let ok = db
        .submission(&team, ids_of[0])
        .await
        .expect("q")
        .expect("s");
    assert_eq!(ok.status, Status::Scored, "{ok:?}");
    assert!(ok.has_maps);
    let public = public_split(ids.iter().map(String::as_str), 0.5, 7);
    let split = dir.path().join("public_maps");
    maps_of(&split, &public, None);
    let mut gt_public = chexlocalize_io::Segmentations::new();
    for c in gt.cxrs().iter().filter(|c| public.contains(&c.cxr_id)) {
        for (t, r) in &c.masks {
            gt_public.insert(&c.cxr_id, *t, r.clone()).expect("unique");
        }
    }
    let gt_path = dir.path().join("gt_public.json");
    chexlocalize_io::write_segmentations(&gt_path, &gt_public).expect("write");
    let out = dir.path().join("hit");
    std::fs::create_dir_all(&out).expect("dir");
    let e = evaluate(
        &Evaluate {
            metric: Metric::HitMiss {
                tolerance_px: 0.0,
                boundary: chexlocalize::ToleranceBoundary::Inclusive,
            },
            gt_path,
            pred_path: split,
            predictor: Predictor::Saliency,
            save_dir: out,
            bootstrap: Bootstrap {
                seed: 0,
                ..Bootstrap::default()
            },
        },
        &Options::default(),
    )
    .expect("evaluate");
    let means: Vec<f64> = e
        .summary
        .iter()
        .map(|(_, c)| c.mean)
        .filter(|m| m.is_finite())
        .collect();
    let want = means.iter().sum::<f64>() / means.len() as f64;
    assert_eq!(ok.public.as_ref().and_then(|p| p.hit_rate), Some(want));

    let missing = db
        .submission(&team, ids_of[1])
        .await
        .expect("q")
        .expect("s");
    assert_eq!(missing.status, Status::Invalid);
    assert!(
        missing
            .problems
            .iter()
            .any(|p| p.contains("missing_heatmap") && p.contains("Cardiomegaly")),
        "{:?}",
        missing.problems
    );
    let garbage = db
        .submission(&team, ids_of[2])
        .await
        .expect("q")
        .expect("s");
    assert_eq!(garbage.status, Status::Invalid);
    assert!(
        garbage.problems[0].contains("map archive"),
        "{:?}",
        garbage.problems
    );
    db.close().await;
}
