//! Charts drawn with `plotters`' bitmap backend and an embedded DejaVu Sans (no system font is
//! needed): the pathology-feature letter-value plots of `plot-pathology-features`, and the
//! report's grouped bar charts with confidence-interval whiskers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chexlocalize_io::Task;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ReportError;
use crate::tables::Ci;

/// The family name under which the embedded DejaVu Sans is registered.
pub(crate) const FONT: &str = "chexlocalize-sans";

/// Registers the embedded font once per process.
fn register_font() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok { Ok(()) } else { Err(ReportError::Font) }
}

/// Encodes an RGB image as PNG.
pub(crate) fn encode_png(img: &image::RgbImage, what: &str) -> Result<Vec<u8>, ReportError> {
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|source| ReportError::Png {
            what: what.to_owned(),
            source,
        })?;
    Ok(png)
}

/// Encodes an RGB image as PNG with the strongest compression (for the report's own pictures,
/// which are embedded as base64 and so weigh a third more).
pub(crate) fn encode_png_best(img: &image::RgbImage, what: &str) -> Result<Vec<u8>, ReportError> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|source| ReportError::Png {
            what: what.to_owned(),
            source,
        })?;
    Ok(png)
}

/// Draws on a white `width × height` RGB canvas with `f`, then encodes it as PNG.
pub(crate) fn render(
    width: u32,
    height: u32,
    what: &str,
    f: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), ReportError>,
) -> Result<Vec<u8>, ReportError> {
    register_font()?;
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::draw(what, e))?;
        f(&root)?;
        root.present().map_err(|e| ReportError::draw(what, e))?;
    }
    let img = image::RgbImage::from_raw(width, height, buf).ok_or_else(|| ReportError::Canvas {
        what: what.to_owned(),
    })?;
    encode_png(&img, what)
}

/// `np.percentile(v, q)` with linear interpolation, `v` sorted and non-empty.
fn percentile(v: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos.fract());
    if lo + 1 >= v.len() {
        return v[v.len() - 1];
    }
    v[lo] + (v[lo + 1] - v[lo]) * frac
}

/// Letter values of seaborn's boxenplot with `k_depth="tukey"`: `k = max(floor(log2 n) - 3, 1)`
/// levels, the values at percentiles `100 * 0.5^(k+1) ... 25` and `75 ... 100 * (1 - 0.5^(k+1))`,
/// the median, and the points outside the outermost values (fliers).
struct LetterValues {
    k: usize,
    values: Vec<f64>,
    median: f64,
    fliers: Vec<f64>,
}

fn letter_values(mut v: Vec<f64>) -> Option<LetterValues> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let k = ((v.len() as f64).log2().floor() as i64 - 3).max(1) as usize;
    let mut pct: Vec<f64> = (2..=k + 1).rev().map(|e| 0.5f64.powi(e as i32)).collect();
    pct.extend((2..=k + 1).map(|e| 1.0 - 0.5f64.powi(e as i32)));
    let values: Vec<f64> = pct.iter().map(|p| percentile(&v, 100.0 * p)).collect();
    let (lo, hi) = (values[0], values[values.len() - 1]);
    Some(LetterValues {
        k,
        median: percentile(&v, 50.0),
        fliers: v.iter().copied().filter(|&x| x < lo || x > hi).collect(),
        values,
    })
}

/// Ten evenly spaced hues, like seaborn's `husl` palette.
fn palette(i: usize) -> RGBColor {
    let c = HSLColor(i as f64 / 10.0 + 0.02, 0.65, 0.55).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

fn blend(c: RGBColor, toward_white: f64) -> RGBColor {
    let m = |a: u8| (f64::from(a) + (255.0 - f64::from(a)) * toward_white).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The reference's tick labels: sorted task names, "Enlarged Cardiomediastinum" shortened to
/// "E. Cardiom."; two-word names are broken over two lines instead of being rotated.
fn task_label(task: Task) -> Vec<&'static str> {
    match task {
        Task::EnlargedCardiomediastinum => vec!["E. Cardiom."],
        t => t.name().split(' ').collect(),
    }
}

/// Writes a task's label under the x axis at pixel column `px`, one word per line.
fn draw_task_label(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    task: Task,
    (px, py): (i32, i32),
    size: u32,
    what: &str,
) -> Result<(), ReportError> {
    let style = TextStyle::from((FONT, size).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let line = (size as f64 * 1.3).round() as i32;
    for (l, text) in task_label(task).iter().enumerate() {
        root.draw_text(text, &style, (px, py + line * l as i32))
            .map_err(|e| ReportError::draw(what, e))?;
    }
    Ok(())
}

const FEATURE_PLOT_SIZE: (u32, u32) = (1800, 900);

/// The distribution of one pathology feature per task as a letter-value ("boxen") plot like the
/// reference's `seaborn.boxenplot`: a 1800×900 PNG, tasks in [`Task::SORTED`] order along the x
/// axis (a task missing from `per_task`, or with no finite value, gets an empty slot), `y_label`
/// on the y axis. This is the drawing of `chexlocalize plot-pathology-features`.
pub fn pathology_feature_plot(
    per_task: &BTreeMap<Task, Vec<f64>>,
    y_label: &str,
) -> Result<Vec<u8>, ReportError> {
    let what = format!("the {y_label} plot");
    let what = what.as_str();
    let (width, height) = FEATURE_PLOT_SIZE;
    render(width, height, what, |root| {
        let values: Vec<Vec<f64>> = Task::SORTED
            .iter()
            .map(|t| per_task.get(t).cloned().unwrap_or_default())
            .collect();
        let (mut lo, mut hi) = values
            .iter()
            .flatten()
            .copied()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.05).max(0.05 * hi.abs().max(1e-3));
        let mut chart = ChartBuilder::on(root)
            .margin(30)
            .margin_bottom(10)
            .x_label_area_size(110)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5f64..9.5f64, (lo - pad)..(hi + pad))
            .map_err(|e| ReportError::draw(what, e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_label)
            .axis_desc_style((FONT, 34))
            .y_label_style((FONT, 26))
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(|e| ReportError::draw(what, e))?;
        for (i, v) in values.into_iter().enumerate() {
            let x = i as f64;
            let color = palette(i);
            if let Some(lv) = letter_values(v) {
                // Segment j between values[j] and values[j+1]; level 0 outermost, k-1 the box
                // between the quartiles; widths halve per level outward (width_method
                // "exponential"), colours fade outward.
                let segments = lv.values.len() - 1;
                for j in 0..segments {
                    let level = j.min(segments - 1 - j);
                    let w = 0.8 * 0.5f64.powi((lv.k - 1 - level) as i32);
                    let fade = if lv.k > 1 {
                        0.75 * (1.0 - level as f64 / (lv.k - 1) as f64)
                    } else {
                        0.0
                    };
                    let (y0, y1) = (lv.values[j], lv.values[j + 1]);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - w / 2.0, y0), (x + w / 2.0, y1)],
                            blend(color, fade).filled(),
                        )))
                        .map_err(|e| ReportError::draw(what, e))?;
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - w / 2.0, y0), (x + w / 2.0, y1)],
                            RGBColor(90, 90, 90).stroke_width(1),
                        )))
                        .map_err(|e| ReportError::draw(what, e))?;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.4, lv.median), (x + 0.4, lv.median)],
                        RGBColor(40, 40, 40).stroke_width(3),
                    )))
                    .map_err(|e| ReportError::draw(what, e))?;
                chart
                    .draw_series(
                        lv.fliers.iter().map(|&y| {
                            Circle::new((x, y), 5, RGBColor(115, 115, 115).stroke_width(1))
                        }),
                    )
                    .map_err(|e| ReportError::draw(what, e))?;
            }
            let (px, py) = chart.backend_coord(&(x, lo - pad));
            draw_task_label(root, Task::SORTED[i], (px, py + 14), 23, what)?;
        }
        Ok(())
    })
}

/// The saliency method's colour (seaborn "deep" blue).
pub(crate) const SALIENCY_RGB: (u8, u8, u8) = (76, 114, 176);
/// The human benchmark's colour (seaborn "deep" orange).
pub(crate) const HUMAN_RGB: (u8, u8, u8) = (221, 132, 82);

const BAR_CHART_SIZE: (u32, u32) = (1600, 620);

/// One series of a bar chart: its legend label, colour and values per task.
pub(crate) struct Series<'a> {
    pub(crate) label: &'static str,
    pub(crate) rgb: (u8, u8, u8),
    pub(crate) values: &'a BTreeMap<Task, Ci>,
}

/// A grouped bar chart of one metric per task: one bar per series side by side (the saliency
/// method and the human benchmark; a series the run lacks is left out, legend included), each
/// with its 95 % confidence interval as a whisker (drawn when both bounds are known); a missing
/// value is marked "n/a", a zero shows as a sliver. The y axis runs from 0 to 1 (both metrics are
/// fractions).
pub(crate) fn metric_bar_chart(
    metric: &str,
    series: &[Series<'_>],
) -> Result<Vec<u8>, ReportError> {
    let what = format!("the {metric} chart");
    let what = what.as_str();
    let (width, height) = BAR_CHART_SIZE;
    render(width, height, what, |root| {
        let top = series
            .iter()
            .flat_map(|s| s.values.values())
            .flat_map(|c| [c.mean, c.upper])
            .filter(|x| x.is_finite())
            .fold(1.0f64, f64::max);
        let y_max = top * 1.05;
        let mut chart = ChartBuilder::on(root)
            .margin(24)
            .margin_top(70)
            .margin_bottom(8)
            .x_label_area_size(78)
            .y_label_area_size(96)
            .build_cartesian_2d(-0.5f64..9.5f64, 0f64..y_max)
            .map_err(|e| ReportError::draw(what, e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc(metric)
            .y_label_formatter(&|y| format!("{y:.1}"))
            .axis_desc_style((FONT, 26))
            .y_label_style((FONT, 21))
            .max_light_lines(1)
            .light_line_style(RGBColor(244, 244, 244))
            .bold_line_style(RGBColor(222, 222, 222))
            .draw()
            .map_err(|e| ReportError::draw(what, e))?;
        let bar = 0.36;
        let step = bar + 0.02;
        let first = -0.5 * step * (series.len().max(1) - 1) as f64;
        let na_style = TextStyle::from((FONT, 17).into_font())
            .color(&RGBColor(120, 120, 120))
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let ink = RGBColor(35, 35, 35).stroke_width(3);
        for (i, task) in Task::SORTED.into_iter().enumerate() {
            let x = i as f64;
            for (k, s) in series.iter().enumerate() {
                let cx = x + first + step * k as f64;
                let ci = s.values.get(&task).copied().unwrap_or(Ci::NAN);
                if !ci.mean.is_finite() {
                    let (px, py) = chart.backend_coord(&(cx, 0.0));
                    root.draw_text("n/a", &na_style, (px, py - 4))
                        .map_err(|e| ReportError::draw(what, e))?;
                    continue;
                }
                // A zero still shows as a sliver, unlike a missing value.
                let height = ci.mean.max(y_max * 0.006);
                let (r, g, b) = s.rgb;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(cx - bar / 2.0, 0.0), (cx + bar / 2.0, height)],
                        RGBColor(r, g, b).filled(),
                    )))
                    .map_err(|e| ReportError::draw(what, e))?;
                if ci.lower.is_finite() && ci.upper.is_finite() {
                    let cap = bar * 0.22;
                    chart
                        .draw_series([
                            PathElement::new(vec![(cx, ci.lower), (cx, ci.upper)], ink),
                            PathElement::new(vec![(cx - cap, ci.lower), (cx + cap, ci.lower)], ink),
                            PathElement::new(vec![(cx - cap, ci.upper), (cx + cap, ci.upper)], ink),
                        ])
                        .map_err(|e| ReportError::draw(what, e))?;
                }
            }
            let (px, py) = chart.backend_coord(&(x, 0.0));
            draw_task_label(root, task, (px, py + 12), 21, what)?;
        }
        // Legend above the plot area, right-aligned: the series, then the whisker.
        let legend = TextStyle::from((FONT, 22).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let ly = 36;
        let mut lx = width as i32 - 24 - 270 * series.len() as i32 - 110;
        for s in series {
            let (r, g, b) = s.rgb;
            root.draw(&Rectangle::new(
                [(lx, ly - 11), (lx + 30, ly + 11)],
                RGBColor(r, g, b).filled(),
            ))
            .map_err(|e| ReportError::draw(what, e))?;
            root.draw_text(s.label, &legend, (lx + 40, ly))
                .map_err(|e| ReportError::draw(what, e))?;
            lx += 270;
        }
        lx += 10;
        for (from, to) in [
            ((lx, ly - 12), (lx, ly + 12)),
            ((lx - 7, ly - 12), (lx + 7, ly - 12)),
            ((lx - 7, ly + 12), (lx + 7, ly + 12)),
        ] {
            root.draw(&PathElement::new(vec![from, to], ink))
                .map_err(|e| ReportError::draw(what, e))?;
        }
        root.draw_text("95 % CI", &legend, (lx + 18, ly))
            .map_err(|e| ReportError::draw(what, e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .expect("a PNG")
            .to_rgb8()
    }

    #[test]
    fn letter_values_like_seaborn() {
        // seaborn 0.13.2 LetterValues(k_depth="tukey", ...)(np.arange(40.)):
        // k = 2; percentiles [12.5, 25, 75, 87.5]; values np.percentile: [4.875, 9.75, 29.25, 34.125]
        let lv = letter_values((0..40).map(f64::from).collect()).expect("values");
        assert_eq!(lv.k, 2);
        assert_eq!(lv.values, vec![4.875, 9.75, 29.25, 34.125]);
        assert_eq!(lv.median, 19.5);
        assert_eq!(lv.fliers.len(), 10);
        assert!(letter_values(vec![f64::NAN]).is_none());
    }

    #[test]
    fn bar_chart_draws_bars_in_both_colours() {
        let ci = |m: f64| Ci {
            mean: m,
            lower: m - 0.1,
            upper: m + 0.1,
        };
        let sal = BTreeMap::from([(Task::Cardiomegaly, ci(0.4)), (Task::Edema, Ci::NAN)]);
        let hb = BTreeMap::from([(Task::Cardiomegaly, ci(0.8))]);
        let series = [
            Series {
                label: "Saliency method",
                rgb: SALIENCY_RGB,
                values: &sal,
            },
            Series {
                label: "Human benchmark",
                rgb: HUMAN_RGB,
                values: &hb,
            },
        ];
        let img = decode(&metric_bar_chart("mIoU", &series).expect("chart"));
        assert_eq!(img.dimensions(), BAR_CHART_SIZE);
        let count = |(r, g, b): (u8, u8, u8)| img.pixels().filter(|p| p.0 == [r, g, b]).count();
        // Bars (and the legend swatches) in both colours; the human bar is about twice as tall.
        let (s, h) = (count(SALIENCY_RGB), count(HUMAN_RGB));
        assert!(s > 1000 && h > 2 * s - 2000, "saliency {s}, human {h}");
        // Without the human benchmark: no orange at all, not even in the legend.
        let img = decode(&metric_bar_chart("mIoU", &series[..1]).expect("chart"));
        let (r, g, b) = HUMAN_RGB;
        assert!(!img.pixels().any(|p| p.0 == [r, g, b]));
        let (r, g, b) = SALIENCY_RGB;
        assert!(img.pixels().filter(|p| p.0 == [r, g, b]).count() > 1000);
    }

    #[test]
    fn feature_plot_has_the_cli_size() {
        let per_task = BTreeMap::from([
            (Task::Edema, vec![0.1, 0.2, 0.5]),
            (Task::Atelectasis, vec![]),
        ]);
        let img = decode(&pathology_feature_plot(&per_task, "Area Ratio").expect("plot"));
        assert_eq!(img.dimensions(), FEATURE_PLOT_SIZE);
        assert!(img.pixels().any(|p| p.0 != [255, 255, 255]));
    }
}
