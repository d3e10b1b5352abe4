//! `plot_pathology_features`: one PNG per feature with the per-task distributions, drawn as
//! letter-value ("boxen") plots like the reference's `seaborn.boxenplot`. The drawing lives in
//! `chexlocalize_report::pathology_feature_plot` (the report uses the same charts).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chexlocalize_io::{Task, layout};

use crate::error::Result;
use crate::features::{FEATURES, read_feature_rows};
use crate::options::{Notes, Options, Outcome};

/// Inputs of [`plot_pathology_features`] (`plot_pathology_features.py`).
#[derive(Clone, Debug)]
pub struct PlotPathologyFeatures {
    /// Folder with the four feature CSV files of `compute_pathology_features`.
    pub features_dir: PathBuf,
    /// Where to write `<feature>_dist.png`.
    pub save_dir: PathBuf,
}

/// One PNG per pathology feature: its distribution per task (`plot_pathology_features.py`),
/// all four or none.
pub fn plot_pathology_features(args: &PlotPathologyFeatures, options: &Options) -> Result<Outcome> {
    let rows = read_feature_rows(&args.features_dir, &options.limits)?;
    let mut pngs = Vec::new();
    for (i, (name, label)) in FEATURES.iter().enumerate() {
        let mut per_task: BTreeMap<Task, Vec<f64>> = BTreeMap::new();
        for r in &rows {
            per_task.entry(r.task).or_default().push(r.feature(i));
        }
        pngs.push((
            layout::feature_plot(name),
            chexlocalize_report::pathology_feature_plot(&per_task, label)?,
        ));
    }
    // All four plots or none.
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        pngs.iter().map(|(n, png)| (n, png.as_slice())),
    )?;
    let notes = Notes::default();
    notes.info(format!(
        "{} plots of {} (CXR, task) rows written to {}",
        pngs.len(),
        rows.len(),
        args.save_dir.display()
    ));
    Ok(notes.outcome(paths))
}
