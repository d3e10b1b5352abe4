//! `plot-pathology-features`: one PNG per feature with the per-task distributions, drawn as
//! letter-value ("boxen") plots like the reference's `seaborn.boxenplot`. The drawing lives in
//! `chexlocalize_report::pathology_feature_plot` (the report uses the same charts).

use chexlocalize_io::Limits;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chexlocalize_io::Task;
use clap::Args;

use crate::features::{FEATURES, read_feature_rows};

/// Arguments of `chexlocalize plot-pathology-features`.
#[derive(Args, Debug)]
pub(crate) struct PlotArgs {
    /// Folder with the four feature CSV files of `compute-pathology-features`.
    #[arg(long = "features-dir", visible_alias = "features_dir")]
    features_dir: PathBuf,
    /// Where to write `<feature>_dist.png`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

pub(crate) fn plot_pathology_features(args: &PlotArgs, limits: &Limits) -> Result<()> {
    let rows = read_feature_rows(&args.features_dir, limits)?;
    let mut pngs = Vec::new();
    for (i, (name, label)) in FEATURES.iter().enumerate() {
        let mut per_task: BTreeMap<Task, Vec<f64>> = BTreeMap::new();
        for r in &rows {
            per_task.entry(r.task).or_default().push(r.feature(i));
        }
        pngs.push((
            format!("{name}_dist.png"),
            chexlocalize_report::pathology_feature_plot(&per_task, label)?,
        ));
    }
    // All four plots or none.
    let paths: Vec<PathBuf> = pngs.iter().map(|(n, _)| args.save_dir.join(n)).collect();
    let outputs: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&pngs)
        .map(|(p, (_, png))| (p.as_path(), png.as_slice()))
        .collect();
    chexlocalize_io::write_atomic_all(&outputs)?;
    eprintln!(
        "{} plots of {} (CXR, task) rows written to {}",
        pngs.len(),
        rows.len(),
        args.save_dir.display()
    );
    Ok(())
}
