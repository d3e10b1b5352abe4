//! The forest plot of a comparison: one row per pair of methods, the difference of their overall
//! scores as a dot with its confidence interval as a bar, a line at zero; a pair whose interval
//! excludes zero (and whose Holm-adjusted p-value is below the level) is drawn dark.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;
use crate::charts::{FONT, render};

/// One row of the plot.
pub(crate) struct ForestRow {
    /// `A − B`.
    pub(crate) label: String,
    /// Mean difference and interval.
    pub(crate) mean: f64,
    /// Lower bound.
    pub(crate) lower: f64,
    /// Upper bound.
    pub(crate) upper: f64,
    /// The pair differs.
    pub(crate) significant: bool,
}

/// The plot's width; its height grows with the rows.
pub(crate) const FOREST_WIDTH: u32 = 1300;

/// The plot's height for `n` rows.
pub(crate) fn forest_height(n: usize) -> u32 {
    130 + 60 * n.max(1) as u32
}

/// Draws the rows (`metric` names the x axis).
pub(crate) fn forest_plot(metric: &str, rows: &[ForestRow]) -> Result<Vec<u8>, ReportError> {
    let what = format!("the {metric} forest plot");
    let what = what.as_str();
    let bound = rows
        .iter()
        .flat_map(|r| [r.lower.abs(), r.upper.abs(), r.mean.abs()])
        .filter(|x| x.is_finite())
        .fold(0.05f64, f64::max)
        * 1.1;
    let n = rows.len().max(1);
    render(FOREST_WIDTH, forest_height(rows.len()), what, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(18)
            .margin_right(40)
            .x_label_area_size(80)
            .y_label_area_size(520)
            .build_cartesian_2d(-bound..bound, -0.5f64..n as f64 - 0.5)
            .map_err(|e| ReportError::draw(what, e))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(7)
            .x_desc(format!("difference of the overall {metric} (A − B)"))
            .x_label_formatter(&|x| format!("{x:+.2}"))
            .axis_desc_style((FONT, 28))
            .x_label_style((FONT, 24))
            .light_line_style(RGBColor(244, 244, 244))
            .bold_line_style(RGBColor(222, 222, 222))
            .draw()
            .map_err(|e| ReportError::draw(what, e))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
                RGBColor(120, 120, 120).stroke_width(2),
            )))
            .map_err(|e| ReportError::draw(what, e))?;
        let label = TextStyle::from((FONT, 27).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, r) in rows.iter().enumerate() {
            // The first pair at the top.
            let y = (n - 1 - i) as f64;
            let (px, py) = chart.backend_coord(&(-bound, y));
            root.draw_text(&r.label, &label, (px - 14, py))
                .map_err(|e| ReportError::draw(what, e))?;
            if !r.mean.is_finite() {
                continue;
            }
            let colour = if r.significant {
                RGBColor(33, 60, 120)
            } else {
                RGBColor(150, 162, 185)
            };
            if r.lower.is_finite() && r.upper.is_finite() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(r.lower, y), (r.upper, y)],
                        colour.stroke_width(4),
                    )))
                    .map_err(|e| ReportError::draw(what, e))?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (r.mean, y),
                    8,
                    colour.filled(),
                )))
                .map_err(|e| ReportError::draw(what, e))?;
        }
        Ok(())
    })
}
