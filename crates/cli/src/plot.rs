//! `plot-pathology-features`: one PNG per feature with the per-task distributions, drawn as
//! letter-value ("boxen") plots like the reference's `seaborn.boxenplot`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use chexlocalize_io::Task;
use clap::Args;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::features::{FEATURES, FeatureRow, read_feature_rows};

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

const WIDTH: u32 = 1800;
const HEIGHT: u32 = 900;
/// The family name under which the embedded DejaVu Sans is registered (no system fonts needed).
const FONT: &str = "chexlocalize-sans";

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
/// "E. Cardiom."; we break two-word names over two lines instead of rotating them.
fn task_label(task: Task) -> Vec<&'static str> {
    match task {
        Task::EnlargedCardiomediastinum => vec!["E. Cardiom."],
        t => t.name().split(' ').collect(),
    }
}

fn draw(rows: &[FeatureRow], feature: usize, label: &str) -> Result<Vec<u8>> {
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("drawing: {e}"))?;
        let per_task: Vec<Vec<f64>> = Task::SORTED
            .iter()
            .map(|t| {
                rows.iter()
                    .filter(|r| r.task == *t)
                    .map(|r| r.feature(feature))
                    .collect()
            })
            .collect();
        let all: Vec<f64> = per_task
            .iter()
            .flatten()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let (mut lo, mut hi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.05).max(0.05 * hi.abs().max(1e-3));
        let mut chart = ChartBuilder::on(&root)
            .margin(30)
            .margin_bottom(10)
            .x_label_area_size(110)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5f64..9.5f64, (lo - pad)..(hi + pad))
            .map_err(|e| anyhow!("drawing: {e}"))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(label)
            .axis_desc_style((FONT, 34))
            .y_label_style((FONT, 26))
            .max_light_lines(1)
            .light_line_style(RGBColor(242, 242, 242))
            .bold_line_style(RGBColor(220, 220, 220))
            .draw()
            .map_err(|e| anyhow!("drawing: {e}"))?;
        for (i, values) in per_task.into_iter().enumerate() {
            let x = i as f64;
            let color = palette(i);
            if let Some(lv) = letter_values(values) {
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
                        .map_err(|e| anyhow!("drawing: {e}"))?;
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - w / 2.0, y0), (x + w / 2.0, y1)],
                            RGBColor(90, 90, 90).stroke_width(1),
                        )))
                        .map_err(|e| anyhow!("drawing: {e}"))?;
                }
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.4, lv.median), (x + 0.4, lv.median)],
                        RGBColor(40, 40, 40).stroke_width(3),
                    )))
                    .map_err(|e| anyhow!("drawing: {e}"))?;
                chart
                    .draw_series(
                        lv.fliers.iter().map(|&y| {
                            Circle::new((x, y), 5, RGBColor(115, 115, 115).stroke_width(1))
                        }),
                    )
                    .map_err(|e| anyhow!("drawing: {e}"))?;
            }
            // Tick label under the axis, one word per line.
            let (px, py) = chart.backend_coord(&(x, lo - pad));
            for (l, text) in task_label(Task::SORTED[i]).iter().enumerate() {
                let style = TextStyle::from((FONT, 23).into_font()).color(&BLACK).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Top,
                    ),
                );
                root.draw_text(text, &style, (px, py + 14 + 30 * l as i32))
                    .map_err(|e| anyhow!("drawing: {e}"))?;
            }
        }
        root.present().map_err(|e| anyhow!("drawing: {e}"))?;
    }
    let img = image::RgbImage::from_raw(WIDTH, HEIGHT, buf)
        .ok_or_else(|| anyhow!("plot buffer of the wrong size"))?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .context("encoding the PNG")?;
    Ok(png)
}

pub(crate) fn plot_pathology_features(args: &PlotArgs) -> Result<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow!("the embedded DejaVu Sans font could not be loaded"))?;
    let rows = read_feature_rows(&args.features_dir)?;
    let mut pngs = Vec::new();
    for (i, (name, label)) in FEATURES.iter().enumerate() {
        pngs.push((format!("{name}_dist.png"), draw(&rows, i, label)?));
    }
    for (name, png) in &pngs {
        chexlocalize_io::write_atomic(&args.save_dir.join(name), png)?;
    }
    eprintln!(
        "{} plots of {} (CXR, task) rows written to {}",
        pngs.len(),
        rows.len(),
        args.save_dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
