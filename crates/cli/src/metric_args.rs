//! The `--metric` flags shared by `eval` and `compare`.

use chexlocalize::{Localisation, Metric, Scoring, Spacing, ToleranceBoundary};
use clap::{Args, ValueEnum};

use crate::args::py_bool;

/// `--metric` and the flags that qualify it.
#[derive(Args, Debug, Clone)]
pub(crate) struct MetricArgs {
    /// What is scored. From segmentation JSON: `iou` (the paper's mIoU), `dice`, `hd95`,
    /// `surface-dice` (with --tolerance). From heatmap
    /// folders: `hitmiss` (pointing game; also salient points of the human benchmark), and the
    /// threshold-free `auroc`, `auprc`, `relevance-mass`, `relevance-rank`,
    /// `topk-intersection` (with --k), `energy-pointing-game`.
    #[arg(long, value_enum)]
    metric: MetricArg,
    /// IoU only on CXRs where both masks are non-empty (True), or also false positives and
    /// negatives (False).
    #[arg(long = "true-pos-only", visible_alias = "true_pos_only", action = clap::ArgAction::Set, value_parser = py_bool, default_value = "True")]
    true_pos_only: bool,
    /// Pointing game tolerance in pixels: a hit when a ground-truth pixel lies within this
    /// distance of the point: 0 to 1000 (0 = the reference's exact rule; TorchRay uses 15).
    #[arg(
        long = "tolerance-px",
        visible_alias = "tolerance_px",
        default_value_t = 0.0,
        value_parser = tolerance,
        allow_negative_numbers = true
    )]
    tolerance_px: f64,
    /// Whether a ground-truth pixel exactly --tolerance-px away counts: `inclusive` (≤, this
    /// project's rule) or `strict` (<, TorchRay's).
    #[arg(long = "tolerance-boundary", value_enum, default_value_t = BoundaryArg::Inclusive)]
    tolerance_boundary: BoundaryArg,
    /// The size of a pixel for `hd95` and `surface-dice`: `S` (square) or `ROW,COL`, e.g. in
    /// millimetres; distances are in pixels without it.
    #[arg(long = "spacing-mm", visible_alias = "spacing_mm", value_parser = spacing)]
    spacing_mm: Option<Spacing>,
    /// The surface Dice tolerance, in pixels or the spacing's unit: 0 to 1000.
    #[arg(long, value_parser = tolerance)]
    tolerance: Option<f64>,
    /// Pixels of the top-k intersection (`--metric topk-intersection`): 1 to 2^32.
    #[arg(long, value_parser = crate::args::int_in::<usize>(1, 1 << 32, "a number of pixels"))]
    k: Option<usize>,
}

/// A pointing-game tolerance: a finite number of pixels from 0 to 1000.
fn tolerance(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|t| (0.0..=1000.0).contains(t))
        .ok_or_else(|| format!("expected a number of pixels from 0 to 1000, found {s:?}"))
}

/// A pixel spacing: `S` or `ROW,COL`, each finite and above 0.
fn spacing(s: &str) -> Result<Spacing, String> {
    let parts: Vec<Option<f64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
    let sp = match parts.as_slice() {
        [Some(v)] => Spacing::new(*v, *v),
        [Some(r), Some(c)] => Spacing::new(*r, *c),
        _ => None,
    };
    sp.ok_or_else(|| format!("expected S or ROW,COL, each above 0, found {s:?}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BoundaryArg {
    Inclusive,
    Strict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MetricArg {
    Iou,
    Hitmiss,
    Dice,
    Hd95,
    #[value(alias = "surface_dice")]
    SurfaceDice,
    Auroc,
    Auprc,
    #[value(alias = "relevance_mass")]
    RelevanceMass,
    #[value(alias = "relevance_rank")]
    RelevanceRank,
    #[value(alias = "topk_intersection")]
    TopkIntersection,
    #[value(alias = "energy_pointing_game")]
    EnergyPointingGame,
}

impl MetricArgs {
    /// A combination the value parsers cannot see: `--k` belongs to `topk-intersection`.
    pub(crate) fn usage_error(&self) -> Option<String> {
        let boundary = matches!(self.metric, MetricArg::Hd95 | MetricArg::SurfaceDice);
        if self.spacing_mm.is_some() && !boundary {
            return Some("--spacing-mm is for --metric hd95 and surface-dice only".into());
        }
        match (self.metric, self.tolerance) {
            (MetricArg::SurfaceDice, None) => {
                return Some("--metric surface-dice needs --tolerance (a distance)".into());
            }
            (MetricArg::SurfaceDice, Some(_)) | (_, None) => {}
            (_, Some(_)) => return Some("--tolerance is for --metric surface-dice only".into()),
        }
        match (self.metric, self.k) {
            (MetricArg::TopkIntersection, None) => {
                Some("--metric topk-intersection needs --k (a number of pixels)".into())
            }
            (MetricArg::TopkIntersection, Some(_)) | (_, None) => None,
            (_, Some(_)) => Some("--k is for --metric topk-intersection only".into()),
        }
    }

    /// The library's metric (after [`MetricArgs::usage_error`]).
    pub(crate) fn metric(&self) -> Metric {
        let l = Metric::Localisation;
        match self.metric {
            MetricArg::Iou => Metric::Iou(if self.true_pos_only {
                Scoring::TruePositivesOnly
            } else {
                Scoring::All
            }),
            MetricArg::Hitmiss => Metric::HitMiss {
                tolerance_px: self.tolerance_px,
                boundary: match self.tolerance_boundary {
                    BoundaryArg::Inclusive => ToleranceBoundary::Inclusive,
                    BoundaryArg::Strict => ToleranceBoundary::Strict,
                },
            },
            MetricArg::Dice => Metric::Dice,
            MetricArg::Hd95 => Metric::Hd95(self.spacing_mm.unwrap_or(Spacing::PIXELS)),
            MetricArg::SurfaceDice => Metric::SurfaceDice {
                spacing: self.spacing_mm.unwrap_or(Spacing::PIXELS),
                tolerance: self.tolerance.unwrap_or(0.0),
            },
            MetricArg::Auroc => l(Localisation::Auroc),
            MetricArg::Auprc => l(Localisation::Auprc),
            MetricArg::RelevanceMass => l(Localisation::RelevanceMass),
            MetricArg::RelevanceRank => l(Localisation::RelevanceRank),
            MetricArg::TopkIntersection => l(Localisation::TopKIntersection {
                k: self.k.unwrap_or(1),
            }),
            MetricArg::EnergyPointingGame => l(Localisation::EnergyPointingGame),
        }
    }
}
