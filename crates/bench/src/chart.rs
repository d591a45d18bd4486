//! The one chart: Global Zendesk calls and minutes at 700 requests per minute against
//! accounts, ours beside the floor, first and second run (log-log).

use std::path::Path;

use plotters::prelude::*;

use crate::scenarios::SyncRun;

/// The rate the right-hand axis converts calls into minutes at.
pub const CHART_RPM: f64 = 700.0;

/// One line: (accounts, calls) points.
type Points = Vec<(f64, f64)>;

fn points(runs: &[&SyncRun], run: &str, value: impl Fn(&SyncRun) -> u64) -> Points {
    let mut out: Points = runs
        .iter()
        .filter(|r| r.run == run)
        .map(|r| (r.accounts as f64, value(r).max(1) as f64))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// A log-axis label: only at 1, 2 and 5 times a power of ten (the rest stay blank).
fn round_label(v: f64, decimals: usize) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let mantissa = v / 10f64.powf(v.log10().floor());
    let near = |m: f64| (mantissa - m).abs() < 0.05;
    if near(1.0) || near(2.0) || near(5.0) || near(10.0) {
        format!("{v:.decimals$}")
    } else {
        String::new()
    }
}

/// Writes the chart of the Global runs to `path` (nothing when there are none).
pub fn write(path: &Path, runs: &[&SyncRun]) -> anyhow::Result<bool> {
    if runs.is_empty() {
        return Ok(false);
    }
    // (label, points, colour, dashed: the floor)
    let lines: [(&str, Points, RGBColor, bool); 4] = [
        (
            "first run, ours",
            points(runs, "first", |r| r.calls.total),
            RED,
            false,
        ),
        (
            "first run, floor (dashed)",
            points(runs, "first", |r| r.floor.total),
            RED,
            true,
        ),
        (
            "second run, ours",
            points(runs, "second", |r| r.calls.total),
            BLUE,
            false,
        ),
        (
            "second run, floor (dashed)",
            points(runs, "second", |r| r.floor.total),
            BLUE,
            true,
        ),
    ];
    let all = lines.iter().flat_map(|(_, p, _, _)| p.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, 0.0f64, f64::MAX, 0.0f64);
    for (x, y) in all {
        x_min = x_min.min(*x);
        x_max = x_max.max(*x);
        y_min = y_min.min(*y);
        y_max = y_max.max(*y);
    }
    let (x_min, x_max) = (x_min / 2.0, x_max * 2.0);
    let (y_min, y_max) = ((y_min / 2.0).max(1.0), y_max * 2.0);

    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Zendesk calls per run (Global sync), ours and the floor",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())?
        .set_secondary_coord(
            (x_min..x_max).log_scale(),
            (y_min / CHART_RPM..y_max / CHART_RPM).log_scale(),
        );
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("Salesforce accounts")
        .y_desc("Zendesk calls")
        .x_label_formatter(&|x| round_label(*x, 0))
        .y_label_formatter(&|y| round_label(*y, 0))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("minutes at 700 requests/minute")
        .y_label_formatter(&|m| round_label(*m, 2))
        .draw()?;
    for (label, pts, color, dashed) in lines {
        if pts.is_empty() {
            continue;
        }
        let style = ShapeStyle::from(color).stroke_width(2);
        let drawn = if dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 6, style))?
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style))?
        };
        drawn.label(label).legend(move |(x, y)| {
            if dashed {
                PathElement::new(vec![(x, y), (x + 8, y)], style)
            } else {
                PathElement::new(vec![(x, y), (x + 20, y)], style)
            }
        });
        let marker = if dashed { style } else { style.filled() };
        chart.draw_series(pts.iter().map(|p| Circle::new(*p, 4, marker)))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(true)
}
