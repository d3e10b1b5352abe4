//! A line chart of measured series (`cargo xtask bench`'s scaling chart): each series a
//! polyline with its points marked, on linear axes from zero, with a legend.

use plotters::prelude::*;

use crate::ReportError;
use crate::charts::{FONT, render};

/// One line of a [`line_chart`]: its name in the legend and its `(x, y)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's text.
    pub name: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A `width × height` PNG of `series` under `title`, the axes labelled `x_label` and
/// `y_label`, both from zero to a little past the largest value.
///
/// ```
/// use chexlocalize_report::{Series, line_chart};
///
/// let s = Series { name: "2 threads".into(), points: vec![(1.0, 1.9), (2.0, 3.7), (4.0, 7.5)] };
/// let png = line_chart("Scaling", "maps (× val set)", "seconds", &[s], (640, 400))?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok::<(), chexlocalize_report::ReportError>(())
/// ```
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    (width, height): (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let x_max = points().map(|p| finite(p.0)).fold(0.0, f64::max).max(1e-9) * 1.05;
    let y_max = points().map(|p| finite(p.1)).fold(0.0, f64::max).max(1e-9) * 1.1;
    render(width, height, title, |root| {
        let draw = |e| ReportError::draw(title, e);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(draw)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(draw)?;
        for (i, s) in series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let line = std::iter::once(PathElement::new(s.points.clone(), colour.stroke_width(2)));
            chart
                .draw_series(line)
                .map_err(draw)?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            let marks = s.points.iter().map(|&p| Circle::new(p, 4, colour.filled()));
            chart.draw_series(marks).map_err(draw)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(draw)?;
        Ok(())
    })
}

/// A tick label: whole numbers without a fraction, others with the digits they need.
fn tick(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}
