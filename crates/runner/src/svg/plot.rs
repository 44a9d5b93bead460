//! Line charts as self-contained SVG: no system library, no fonts to install, readable in any
//! browser and includable in a paper.

use std::fmt::Write;

/// One line of a chart, with an optional shaded band (for example min–max over seeds).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub label: String,
    pub color: String,
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)` triples.
    pub band: Vec<(f64, f64, f64)>,
    pub dashed: bool,
    pub markers: bool,
    /// Draw the line through the points; without it only the markers (a scatter).
    pub line: bool,
}

impl Series {
    pub(crate) fn line(
        label: impl Into<String>,
        color: impl Into<String>,
        points: Vec<(f64, f64)>,
    ) -> Self {
        Self {
            label: label.into(),
            color: color.into(),
            points,
            band: Vec::new(),
            dashed: false,
            markers: false,
            line: true,
        }
    }

    /// Markers without a line: a scatter plot.
    pub(crate) fn scatter(
        label: impl Into<String>,
        color: impl Into<String>,
        points: Vec<(f64, f64)>,
    ) -> Self {
        Self {
            markers: true,
            line: false,
            ..Self::line(label, color, points)
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    /// A log x axis (for example the learning rate of a search).
    pub log_x: bool,
    /// A fixed y range (in data units) instead of one that fits the data.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
}

const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;

/// `n` colours from light to dark around one hue (HSL), for depths within a kind.
pub(crate) fn shades(hue: f64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let t = if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            };
            // Lighter to darker, and turning 40° of hue on the way, so that neighbours differ
            // in both and stay apart on a screen, in print and in grey.
            format!(
                "hsl({:.0},{:.0}%,{:.0}%)",
                (hue + 20.0 - 40.0 * t).rem_euclid(360.0),
                85.0 - 20.0 * t,
                74.0 - 54.0 * t
            )
        })
        .collect()
}

/// Where a chart's data lands on the page: the axis ranges and the plotting area.
struct Frame {
    log_y: bool,
    log_x: bool,
    /// The x range, in log10 units on a log axis.
    x0: f64,
    x1: f64,
    /// The y range, in log10 units on a log axis.
    y0: f64,
    y1: f64,
    /// Plot width and height.
    pw: f64,
    ph: f64,
}

impl Frame {
    fn y_ok(&self, y: f64) -> bool {
        y.is_finite() && (!self.log_y || y > 0.0)
    }

    fn x_ok(&self, x: f64) -> bool {
        x.is_finite() && (!self.log_x || x > 0.0)
    }

    fn x_map(&self, x: f64) -> f64 {
        if self.log_x {
            x.log10()
        } else {
            x
        }
    }

    fn y_map(&self, y: f64) -> f64 {
        if self.log_y {
            y.log10()
        } else {
            y
        }
    }

    fn px(&self, x: f64) -> f64 {
        LEFT + (self.x_map(x) - self.x0) / (self.x1 - self.x0) * self.pw
    }

    fn py(&self, y: f64) -> f64 {
        TOP + self.ph - (self.y_map(y) - self.y0) / (self.y1 - self.y0) * self.ph
    }

    fn x_ticks(&self) -> Vec<f64> {
        if self.log_x {
            (self.x0.ceil() as i32..=self.x1.floor() as i32)
                .map(|e| 10f64.powi(e))
                .collect()
        } else {
            nice_ticks(self.x0, self.x1)
        }
    }

    fn y_ticks(&self) -> Vec<f64> {
        if self.log_y {
            (self.y0 as i32..=self.y1 as i32)
                .map(|e| 10f64.powi(e))
                .collect()
        } else {
            nice_ticks(self.y0, self.y1)
        }
    }
}

impl Chart {
    /// The axis ranges that hold every finite point and band of every series.
    fn frame(&self) -> Frame {
        let mut frame = Frame {
            log_y: self.log_y,
            log_x: self.log_x,
            x0: 0.0,
            x1: 1.0,
            y0: 0.0,
            y1: 1.0,
            pw: W - LEFT - RIGHT,
            ph: H - TOP - BOTTOM,
        };
        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|&x| frame.x_ok(x))
            .map(|x| frame.x_map(x))
            .collect();
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            })
            .filter(|&y| frame.y_ok(y))
            .map(|y| frame.y_map(y))
            .collect();
        (frame.x0, frame.x1) = padded(range(&xs), if self.log_x { 0.03 } else { 0.0 });
        (frame.y0, frame.y1) = match self.y_range {
            Some((lo, hi)) => (frame.y_map(lo), frame.y_map(hi)),
            None => padded(range(&ys), 0.05),
        };
        if self.log_y {
            frame.y0 = frame.y0.floor();
            frame.y1 = frame.y1.ceil().max(frame.y0 + 1.0);
        }
        frame
    }

    pub(crate) fn to_svg(&self) -> String {
        let f = self.frame();
        let mut s = svg_open(W, H, &self.title, LEFT + f.pw / 2.0, 15);
        self.draw_axes(&f, &mut s);
        // Bands first, then lines on top.
        for series in &self.series {
            draw_band(&f, series, &mut s);
        }
        for series in &self.series {
            draw_line(&f, series, &mut s);
        }
        self.draw_legend(&f, &mut s);
        s.push_str("</svg>\n");
        s
    }

    /// Grid, tick labels, the frame and the axis labels.
    fn draw_axes(&self, f: &Frame, s: &mut String) {
        let (pw, ph) = (f.pw, f.ph);
        let yticks = f.y_ticks();
        let xticks = f.x_ticks();
        let _ = writeln!(s, r##"<g stroke="#ddd" stroke-width="1">"##);
        for &t in &yticks {
            let (x2, y) = (LEFT + pw, f.py(t));
            let _ = writeln!(
                s,
                r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}"/>"#
            );
        }
        for &t in &xticks {
            let (x, y2) = (f.px(t), TOP + ph);
            let _ = writeln!(s, r#"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2}"/>"#);
        }
        let _ = writeln!(s, "</g>");
        for &t in &yticks {
            let label = if self.log_y {
                format!("1e{}", t.log10().round() as i32)
            } else {
                fmt_num(t)
            };
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
                LEFT - 6.0,
                f.py(t)
            );
        }
        for &t in &xticks {
            let label = if self.log_x {
                format!("1e{}", t.log10().round() as i32)
            } else {
                fmt_num(t)
            };
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{label}</text>"#,
                f.px(t),
                TOP + ph + 18.0,
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            H - 12.0,
            esc(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text transform="translate(18,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + ph / 2.0,
            esc(&self.y_label)
        );
    }

    /// One line sample and label per series, right of the plot.
    fn draw_legend(&self, f: &Frame, s: &mut String) {
        for (i, series) in self.series.iter().enumerate() {
            let y = TOP + 10.0 + i as f64 * 18.0;
            let x = LEFT + f.pw + 14.0;
            if series.line {
                let _ = writeln!(
                    s,
                    r#"<line x1="{x}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="2.5"{}/>"#,
                    x + 24.0,
                    series.color,
                    dash(series)
                );
            }
            // A scatter's marker, or the markers a line carries.
            if series.markers || !series.line {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{}" cy="{y}" r="3.5" fill="{}"/>"#,
                    x + 12.0,
                    series.color
                );
            }
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{y}" dominant-baseline="middle">{}</text>"#,
                x + 30.0,
                esc(&series.label)
            );
        }
    }
}

fn dash(series: &Series) -> &'static str {
    if series.dashed {
        r#" stroke-dasharray="6,4""#
    } else {
        ""
    }
}

/// The series' band as a shaded polygon: along the highs, back along the lows.
fn draw_band(f: &Frame, series: &Series, s: &mut String) {
    let band: Vec<_> = series
        .band
        .iter()
        .filter(|b| f.y_ok(b.1) && f.y_ok(b.2))
        .collect();
    if band.len() < 2 {
        return;
    }
    let mut d = String::new();
    for (i, b) in band.iter().enumerate() {
        let pen = if i == 0 { "M" } else { "L" };
        let _ = write!(d, "{pen}{:.1},{:.1} ", f.px(b.0), f.py(b.2));
    }
    for b in band.iter().rev() {
        let _ = write!(d, "L{:.1},{:.1} ", f.px(b.0), f.py(b.1));
    }
    let _ = writeln!(
        s,
        r#"<path class="band" d="{}Z" fill="{}" fill-opacity="0.18" stroke="none"/>"#,
        d, series.color
    );
}

/// The series' line, broken where a point cannot be drawn, and its markers.
fn draw_line(f: &Frame, series: &Series, s: &mut String) {
    let mut d = String::new();
    let mut pen_down = false;
    for &(x, y) in &series.points {
        if f.x_ok(x) && f.y_ok(y) {
            let pen = if pen_down { "L" } else { "M" };
            let _ = write!(d, "{pen}{:.1},{:.1} ", f.px(x), f.py(y));
            pen_down = true;
        } else {
            pen_down = false;
        }
    }
    if series.line {
        let _ = writeln!(
            s,
            r#"<path class="series" data-label="{}" d="{}" fill="none" stroke="{}" stroke-width="2"{}/>"#,
            esc(&series.label),
            d.trim_end(),
            series.color,
            dash(series)
        );
    }
    if series.markers {
        for &(x, y) in series.points.iter().filter(|p| f.x_ok(p.0) && f.y_ok(p.1)) {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"#,
                f.px(x),
                f.py(y),
                series.color
            );
        }
    }
}

/// Charts side by side in one SVG, `columns` to a row, each panel a nested `<svg>`.
pub(crate) fn side_by_side(charts: &[Chart], columns: usize) -> String {
    let svgs: Vec<String> = charts.iter().map(Chart::to_svg).collect();
    panels(&svgs, W, H, columns)
}

/// [`side_by_side`] with the charts' text at 16 px instead of 12 (titles at 18): for grids of
/// many panels, which a page shows scaled down.
pub(crate) fn side_by_side_large(charts: &[Chart], columns: usize) -> String {
    let svgs: Vec<String> = charts
        .iter()
        .map(|c| {
            c.to_svg()
                .replacen(r#"font-size="12""#, r#"font-size="16""#, 1)
                .replacen(r#"font-size="15""#, r#"font-size="18""#, 1)
        })
        .collect();
    panels(&svgs, W, H, columns)
}

/// The opening of a standalone SVG of `w` × `h`: a white background and a centred title.
pub(crate) fn svg_open(w: f64, h: f64, title: &str, title_x: f64, title_size: u32) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{title_x}" y="22" text-anchor="middle" font-size="{title_size}">{}</text>
"#,
        esc(title)
    )
}

/// Standalone SVGs of `w` × `h` each, `columns` to a row, nested in one SVG.
pub(crate) fn panels(svgs: &[String], w: f64, h: f64, columns: usize) -> String {
    let columns = columns.clamp(1, svgs.len().max(1));
    let rows = svgs.len().div_ceil(columns);
    let (tw, th) = (w * columns as f64, h * rows as f64);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{tw}" height="{th}" viewBox="0 0 {tw} {th}">"#
    );
    s.push('\n');
    for (i, svg) in svgs.iter().enumerate() {
        let (x, y) = ((i % columns) as f64 * w, (i / columns) as f64 * h);
        s.push_str(&svg.replacen("<svg ", &format!(r#"<svg x="{x}" y="{y}" "#), 1));
    }
    s.push_str("</svg>\n");
    s
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

fn padded((lo, hi): (f64, f64), frac: f64) -> (f64, f64) {
    if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = (hi - lo) * frac;
        (lo - pad, hi + pad)
    }
}

/// About five round-numbered ticks covering `[lo, hi]`.
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    out
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else if v.abs() >= 0.01 {
        format!("{:.4}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.0e}")
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_xml_with_one_path_per_series_and_skips_bad_points() {
        let mut a = Series::line(
            "plain <d10>",
            "red",
            vec![(1.0, 1.0), (2.0, f64::NAN), (3.0, 0.01)],
        );
        a.band = vec![(1.0, 0.5, 2.0), (3.0, 0.005, 0.02)];
        let b = Series::line("highway", "blue", vec![(1.0, 0.0), (2.0, 0.1)]);
        let chart = Chart {
            title: "t".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            log_y: true,
            log_x: false,
            y_range: None,
            series: vec![a, b],
        };
        let svg = chart.to_svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let paths: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("series"))
            .collect();
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[0].attribute("data-label"), Some("plain <d10>"));
        // NaN breaks the line into two pieces; the zero is skipped on a log axis.
        assert_eq!(paths[0].attribute("d").unwrap().matches('M').count(), 2);
        assert_eq!(paths[1].attribute("d").unwrap().matches('M').count(), 1);
        assert!(svg.contains(">1e-3<") || svg.contains(">1e-2<"));
    }

    #[test]
    fn panels_nest_as_valid_svg() {
        let chart = |label: &str| Chart {
            title: label.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_y: false,
            log_x: false,
            y_range: None,
            series: vec![Series::line(label, "red", vec![(0.0, 1.0), (1.0, 2.0)])],
        };
        let svg = side_by_side(&[chart("a"), chart("b"), chart("c")], 3);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("series"))
                .count(),
            3
        );
        assert_eq!(doc.root_element().attribute("width"), Some("2160"));
    }

    #[test]
    fn scatter_on_log_axes_draws_markers_only_and_a_fixed_range_holds() {
        let chart = Chart {
            title: "t".into(),
            x_label: "lr".into(),
            y_label: "loss".into(),
            log_y: true,
            log_x: true,
            y_range: None,
            series: vec![Series::scatter(
                "relu",
                "red",
                vec![(1e-3, 1.0), (1e-1, 0.01), (-1.0, 1.0), (1e-2, f64::NAN)],
            )],
        };
        let svg = chart.to_svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(
            doc.descendants()
                .filter(|n| n.attribute("class") == Some("series"))
                .count(),
            0,
            "no line"
        );
        // Two drawable points, plus the legend's marker; decade ticks on x.
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("circle"))
                .count(),
            3
        );
        assert!(svg.contains(">1e-3<") && svg.contains(">1e-1<"), "{svg}");
        // The second point (larger lr, smaller loss) lies right of and below the first.
        let at: Vec<(f64, f64)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .take(2)
            .map(|n| {
                let v = |a| n.attribute(a).unwrap().parse::<f64>().unwrap();
                (v("cx"), v("cy"))
            })
            .collect();
        assert!(at[1].0 > at[0].0 && at[1].1 > at[0].1);
        let fixed = Chart {
            log_y: false,
            log_x: false,
            y_range: Some((0.0, 1.0)),
            series: vec![Series::line(
                "flat",
                "blue",
                vec![(10.0, 0.0), (100.0, 0.0)],
            )],
            ..chart
        };
        let svg = fixed.to_svg();
        assert!(
            svg.contains(">1<") && svg.contains(">0<"),
            "the range, not the data: {svg}"
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(shades(220.0, 3).len(), 3);
    }
}
