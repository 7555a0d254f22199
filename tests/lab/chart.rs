//! The timeline as an SVG chart: four panels over the same time axis (load,
//! qps per pod as the HPA saw it, temperature, replicas), the lab overrides
//! in the title and the summary under it. Plain SVG 1.1, no script.

use std::fmt::Write as _;

use super::run::Outcome;
use super::settings::Route;
use super::timeline::Row;

const WIDTH: f64 = 900.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const PANEL: f64 = 120.0;
const GAP: f64 = 34.0;

struct Series<'a> {
    label: &'a str,
    color: &'a str,
    value: fn(&Row) -> Option<f64>,
    /// Held until the next change (counts, sampled values), not interpolated.
    step: bool,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A round axis maximum at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * p)
}

#[allow(clippy::too_many_arguments)]
fn panel(
    svg: &mut String,
    top: f64,
    title: &str,
    rows: &[Row],
    t_max: f64,
    series: &[Series],
    guide: Option<(f64, &str)>,
) {
    let y_max = nice(
        rows.iter()
            .flat_map(|r| series.iter().filter_map(|s| (s.value)(r)))
            .chain(guide.map(|g| g.0))
            .fold(0.0, f64::max)
            * 1.1,
    );
    let x = |t: f64| LEFT + t / t_max * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| top + PANEL - v / y_max * PANEL;
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{top}" width="{}" height="{PANEL}" fill="none" stroke="#999"/><text x="{LEFT}" y="{}" font-weight="bold">{}</text>"##,
        WIDTH - LEFT - RIGHT,
        top - 6.0,
        escape(title)
    );
    for tick in [0.0, y_max / 2.0, y_max] {
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{tick}</text>"##,
            LEFT - 4.0,
            y(tick) + 4.0
        );
    }
    if let Some((v, label)) = guide {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{yv:.1}" y2="{yv:.1}" stroke="#c00" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" fill="#c00">{}</text>"##,
            WIDTH - RIGHT,
            WIDTH - RIGHT + 4.0,
            y(v) + 4.0,
            escape(label),
            yv = y(v),
        );
    }
    for (i, s) in series.iter().enumerate() {
        let mut d = String::new();
        let mut prev: Option<f64> = None;
        for r in rows {
            match (s.value)(r) {
                Some(v) => {
                    let cmd = if prev.is_none() { 'M' } else { 'L' };
                    if let (true, Some(p)) = (s.step, prev) {
                        let _ = write!(d, "L{:.1},{:.1} ", x(r.t), y(p));
                    }
                    let _ = write!(d, "{cmd}{:.1},{:.1} ", x(r.t), y(v));
                    prev = Some(v);
                }
                None => prev = None,
            }
        }
        let _ = writeln!(
            svg,
            r##"<path d="{d}" fill="none" stroke="{}" stroke-width="1.6"/><text x="{}" y="{}" fill="{}">{}</text>"##,
            s.color,
            WIDTH - RIGHT + 4.0,
            top + 14.0 + 14.0 * i as f64,
            s.color,
            escape(s.label)
        );
    }
}

pub fn svg(o: &Outcome, summary: &str) -> String {
    let rows = &o.timeline.rows;
    let t_max = rows.last().map_or(1.0, |r| r.t.max(1.0));
    let notes: Vec<String> = if o.overrides.is_empty() {
        vec!["lab overrides: none".into()]
    } else {
        o.overrides.iter().map(|s| format!("LAB OVERRIDE: {s}")).collect()
    };
    let head = 44.0 + 14.0 * notes.len() as f64;
    let summary_lines: Vec<&str> = summary.lines().collect();
    let height = head + 4.0 * (PANEL + GAP) + 14.0 * summary_lines.len() as f64 + 30.0;
    let queries = match o.route {
        Route::Adapter => "adapter queries",
        Route::Keda => "KEDA trigger queries",
    };
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="18" font-size="14" font-weight="bold">Autoscaling lab: real app pods, Prometheus, {queries}, loadgen; modelled HPA controller</text>
"##
    );
    for (i, n) in notes.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="{}" fill="#a40">{}</text>"##,
            34.0 + 14.0 * i as f64,
            escape(n)
        );
    }
    let target = |m: &str| o.targets.iter().find(|(n, _)| n == m).map(|t| t.1);
    let series = |label, color, value: fn(&Row) -> Option<f64>, step| Series {
        label,
        color,
        value,
        step,
    };
    let panels = [
        (
            "load (requests/s through the Service)",
            vec![
                series("offered", "#888", |r| Some(r.offered_rps), false),
                series("served", "#06c", |r| Some(r.served_rps), false),
            ],
            None,
        ),
        (
            "qps per pod, as the HPA saw it at each sync",
            vec![series("qps per pod (HPA)", "#06c", |r| r.hpa_qps, true)],
            target("qps").map(|v| (v, "target")),
        ),
        (
            "temperature per pod (°C), as the HPA saw it",
            vec![series("cpuTemperature (HPA)", "#b60", |r| r.hpa_temperature, true)],
            target("cpuTemperature").map(|v| (v, "target")),
        ),
        (
            "replicas",
            vec![
                series("desired (HPA)", "#c00", |r| Some(f64::from(r.desired)), true),
                series("ready", "#080", |r| Some(f64::from(r.ready)), true),
                series("terminating", "#999", |r| Some(f64::from(r.terminating)), true),
            ],
            Some((f64::from(o.max), "max")),
        ),
    ];
    let mut top = head + 10.0 - GAP;
    for (title, lines, guide) in &panels {
        top += GAP;
        panel(&mut svg, top, title, rows, t_max, lines, *guide);
        top += PANEL;
    }
    top += 16.0;
    let step = nice(t_max / 8.0);
    for t in (0..).map(|i| f64::from(i) * step).take_while(|t| *t <= t_max) {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{top}" text-anchor="middle">{t:.0} s</text>"##,
            LEFT + t / t_max * (WIDTH - LEFT - RIGHT)
        );
    }
    for (i, line) in summary_lines.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="{}" font-family="monospace">{}</text>"##,
            top + 20.0 + 14.0 * i as f64,
            escape(line)
        );
    }
    svg + "</svg>\n"
}
