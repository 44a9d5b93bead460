//! Line charts as self-contained SVG: no system library, no fonts to install, readable in any
//! browser and includable in a paper.

use std::fmt::Write;

/// The shape of a series' markers, so that series stay apart without their colours (in grey,
/// in print, for a reader who tells few colours apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Marker {
    #[default]
    Circle,
    Square,
    Triangle,
    Diamond,
    /// A diagonal cross (×), for points that are not values (diverged runs).
    Cross,
}

impl Marker {
    /// Shapes in the order series of one family take them.
    pub(crate) const ALL: [Marker; 4] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
    ];

    /// The `i`-th of [`Marker::ALL`], cycling.
    pub(crate) fn nth(i: usize) -> Marker {
        Marker::ALL[i % Marker::ALL.len()]
    }

    /// The SVG element of this marker centred on `(x, y)`, about `2r` across.
    fn svg(self, x: f64, y: f64, r: f64, color: &str) -> String {
        match self {
            Marker::Circle => {
                format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{color}"/>"#)
            }
            Marker::Square => {
                let a = r * 0.9;
                format!(
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/>"#,
                    x - a,
                    y - a,
                    2.0 * a,
                    2.0 * a
                )
            }
            Marker::Triangle => format!(
                r#"<path d="M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{color}"/>"#,
                y - 1.25 * r,
                x + 1.15 * r,
                y + 0.8 * r,
                x - 1.15 * r,
                y + 0.8 * r
            ),
            Marker::Diamond => format!(
                r#"<path d="M{x:.1},{:.1} L{:.1},{y:.1} L{x:.1},{:.1} L{:.1},{y:.1} Z" fill="{color}"/>"#,
                y - 1.3 * r,
                x + 1.1 * r,
                y + 1.3 * r,
                x - 1.1 * r
            ),
            Marker::Cross => format!(
                r#"<path d="M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}" stroke="{color}" stroke-width="2" fill="none"/>"#,
                x - r,
                y - r,
                x + r,
                y + r,
                x - r,
                y + r,
                x + r,
                y - r
            ),
        }
    }
}

/// Where a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum Place {
    /// At its points, on the chart's axes.
    #[default]
    Data,
    /// In a strip above the plot, at each point's x (its y is ignored): values off the scale,
    /// such as runs that diverged and have no final loss.
    Above,
    /// A horizontal line across the whole plot at this y (the points are ignored): a
    /// reference, such as the loss of a uniform prediction.
    Across(f64),
}

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
    /// The markers' shape.
    pub marker: Marker,
    /// Draw the line through the points; without it only the markers (a scatter).
    pub line: bool,
    pub place: Place,
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
            marker: Marker::Circle,
            line: true,
            place: Place::Data,
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

    /// Crosses at `xs` in a strip above the plot, labelled there by `label`: values off the
    /// scale.
    pub(crate) fn above(label: impl Into<String>, color: impl Into<String>, xs: &[f64]) -> Self {
        Self {
            marker: Marker::Cross,
            place: Place::Above,
            ..Self::scatter(label, color, xs.iter().map(|&x| (x, f64::NAN)).collect())
        }
    }

    /// A dashed horizontal line across the plot at `y`.
    pub(crate) fn across(label: impl Into<String>, color: impl Into<String>, y: f64) -> Self {
        Self {
            dashed: true,
            place: Place::Across(y),
            ..Self::line(label, color, Vec::new())
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

/// A chart's size: every chart, and every panel of a grid, is `W` × `H`.
const W: f64 = 720.0;
const H: f64 = 440.0;
/// The text size of a chart on its own, and of the panels of a grid of more than one column,
/// which a page shows scaled down (a two-column grid is 1,440 px wide: 16 px shows as 13 px
/// at 1,200).
pub(crate) const TEXT: f64 = 12.0;
pub(crate) const TEXT_IN_GRID: f64 = 16.0;
/// The largest share of `W` the legend may take.
const LEGEND_MAX: f64 = 0.42;

/// `n` colours from light to dark around one hue (HSL), for depths within a kind: the hue
/// turns by `spread` degrees on the way and the lightness falls from 60% to 22%, so that
/// neighbours differ in both and stay apart on a screen, in print and in grey.
pub(crate) fn shades(hue: f64, spread: f64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let t = if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            };
            format!(
                "hsl({:.0},{:.0}%,{:.0}%)",
                (hue + spread / 2.0 - spread * t).rem_euclid(360.0),
                85.0 - 15.0 * t,
                60.0 - 38.0 * t
            )
        })
        .collect()
}

/// How many columns a grid of `n` panels takes, at most `max`: as few rows as `max` allows,
/// filled evenly (four panels at most three to a row: 2 × 2, not 3 + 1).
pub(crate) fn grid_columns(n: usize, max: usize) -> usize {
    let max = max.max(1);
    if n == 0 {
        return 1;
    }
    let rows = n.div_ceil(max);
    n.div_ceil(rows)
}

/// About how wide `text` is at `size` px in Helvetica.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * 0.6 * size
}

/// The margins of one chart at one text size.
#[derive(Debug, Clone, Copy)]
struct Layout {
    font: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    /// The height of the strip above the plot for [`Place::Above`] series; 0 without.
    strip: f64,
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
    /// The plot's top-left corner, width and height.
    left: f64,
    top: f64,
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
        self.left + (self.x_map(x) - self.x0) / (self.x1 - self.x0) * self.pw
    }

    fn py(&self, y: f64) -> f64 {
        self.top + self.ph - (self.y_map(y) - self.y0) / (self.y1 - self.y0) * self.ph
    }

    fn x_ticks(&self) -> Vec<f64> {
        if self.log_x {
            log_ticks(self.x0, self.x1)
        } else {
            nice_ticks(self.x0, self.x1)
        }
    }

    fn y_ticks(&self) -> Vec<f64> {
        if self.log_y {
            log_ticks(self.y0, self.y1)
        } else {
            nice_ticks(self.y0, self.y1)
        }
    }
}

/// Ticks for a log axis over `[lo, hi]` (log10 units): the powers of ten within where three or
/// more lie within, else 1-2-5 steps (where they are few enough), else the powers of ten, then
/// every digit, then round linear steps: an axis always has at least two labelled ticks.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let eps = 1e-9 * (hi - lo).abs().max(1e-12);
    let within = |v: f64| v > 0.0 && v.log10() >= lo - eps && v.log10() <= hi + eps;
    let steps = |mantissas: &[f64]| -> Vec<f64> {
        (lo.floor() as i32..=hi.ceil() as i32)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|&v| within(v))
            .collect()
    };
    let decades = steps(&[1.0]);
    if decades.len() >= 3 {
        return decades;
    }
    let one_two_five = steps(&[1.0, 2.0, 5.0]);
    if (2..=10).contains(&one_two_five.len()) {
        return one_two_five;
    }
    if decades.len() >= 2 {
        return decades;
    }
    let digits = steps(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if digits.len() >= 2 {
        return digits;
    }
    nice_ticks(10f64.powf(lo), 10f64.powf(hi))
        .into_iter()
        .filter(|&v| v > 0.0)
        .collect()
}

/// A log axis's tick labels: `1eN` when every tick is a power of ten, else the plain numbers.
fn log_labels(ticks: &[f64]) -> Vec<String> {
    let decade = |t: &f64| (t.log10() - t.log10().round()).abs() < 1e-9;
    if ticks.iter().all(decade) {
        ticks
            .iter()
            .map(|t| format!("1e{}", t.log10().round() as i32))
            .collect()
    } else {
        ticks.iter().map(|&t| fmt_num(t)).collect()
    }
}

impl Chart {
    /// The margins at text size `font`: the left for the tick labels and the axis label, the
    /// right for the legend (as wide as its longest label needs), the top for the title and
    /// the strip of [`Place::Above`] series.
    fn layout(&self, font: f64) -> Layout {
        let longest = self
            .series
            .iter()
            .map(|s| text_width(&s.label, font))
            .fold(0.0, f64::max);
        let right = if self.series.is_empty() {
            30.0
        } else {
            (longest + 2.8 * font + 24.0).clamp(150.0, LEGEND_MAX * W)
        };
        let strip = if self.series.iter().any(|s| s.place == Place::Above) {
            2.6 * font
        } else {
            0.0
        };
        Layout {
            font,
            left: 6.7 * font,
            right,
            top: 3.4 * font + strip,
            bottom: 4.6 * font,
            strip,
        }
    }

    /// The axis ranges that hold every finite point and band of every series.
    fn frame(&self, l: &Layout) -> Frame {
        let mut frame = Frame {
            log_y: self.log_y,
            log_x: self.log_x,
            x0: 0.0,
            x1: 1.0,
            y0: 0.0,
            y1: 1.0,
            left: l.left,
            top: l.top,
            pw: W - l.left - l.right,
            ph: H - l.top - l.bottom,
        };
        let xs: Vec<f64> = self
            .series
            .iter()
            .filter(|s| !matches!(s.place, Place::Across(_)))
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|&x| frame.x_ok(x))
            .map(|x| frame.x_map(x))
            .collect();
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| -> Vec<f64> {
                match s.place {
                    Place::Data => s
                        .points
                        .iter()
                        .map(|p| p.1)
                        .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
                        .collect(),
                    Place::Above => Vec::new(),
                    Place::Across(y) => vec![y],
                }
            })
            .filter(|&y| frame.y_ok(y))
            .map(|y| frame.y_map(y))
            .collect();
        // Markers keep off the frame: a margin on x where any series has them.
        let markers = self.series.iter().any(|s| s.markers);
        let x_pad = if self.log_x || markers { 0.03 } else { 0.0 };
        (frame.x0, frame.x1) = padded(range(&xs), x_pad);
        // A margin beyond the data, or beyond a fixed range, so that no point lies on the
        // frame.
        (frame.y0, frame.y1) = match self.y_range {
            Some((lo, hi)) => padded((frame.y_map(lo), frame.y_map(hi)), 0.03),
            None => padded(range(&ys), 0.05),
        };
        frame
    }

    /// The chart as a standalone SVG, its text at 12 px.
    pub(crate) fn to_svg(&self) -> String {
        self.render(TEXT)
    }

    /// The chart as a standalone SVG with its text at `font` px.
    pub(crate) fn render(&self, font: f64) -> String {
        let l = self.layout(font);
        let f = self.frame(&l);
        let title_size = fit(&self.title, font * 1.25, W - 16.0, font);
        let mut s = svg_open_sized(W, H, &self.title, W / 2.0, title_size, font);
        self.draw_axes(&f, &l, &mut s);
        // Bands first, then reference lines, then lines and markers on top.
        for series in &self.series {
            draw_band(&f, series, &mut s);
        }
        for series in &self.series {
            draw_line(&f, &l, series, &mut s);
        }
        self.draw_legend(&f, &l, &mut s);
        s.push_str("</svg>\n");
        s
    }

    /// Grid, tick labels, the frame, the axis labels, and the strip above the plot.
    fn draw_axes(&self, f: &Frame, l: &Layout, s: &mut String) {
        let (left, top, pw, ph, font) = (f.left, f.top, f.pw, f.ph, l.font);
        let yticks = f.y_ticks();
        let xticks = f.x_ticks();
        let _ = writeln!(s, r##"<g stroke="#ddd" stroke-width="1">"##);
        for &t in &yticks {
            let (x2, y) = (left + pw, f.py(t));
            let _ = writeln!(
                s,
                r#"<line x1="{left:.1}" x2="{x2:.1}" y1="{y:.1}" y2="{y:.1}"/>"#
            );
        }
        for &t in &xticks {
            let (x, y2) = (f.px(t), top + ph);
            let _ = writeln!(
                s,
                r#"<line x1="{x:.1}" x2="{x:.1}" y1="{top:.1}" y2="{y2:.1}"/>"#
            );
        }
        let _ = writeln!(s, "</g>");
        self.draw_tick_labels(f, l, &yticks, &xticks, s);
        self.draw_strip(f, l, s);
        let _ = writeln!(
            s,
            r##"<rect x="{left:.1}" y="{top:.1}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            left + pw / 2.0,
            H - 0.9 * font,
            esc(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            1.4 * font,
            top + ph / 2.0,
            esc(&self.y_label)
        );
    }

    /// The tick labels of both axes, those that would overlap left out.
    fn draw_tick_labels(
        &self,
        f: &Frame,
        l: &Layout,
        yticks: &[f64],
        xticks: &[f64],
        s: &mut String,
    ) {
        let (left, top, ph, font) = (f.left, f.top, f.ph, l.font);
        let ylabels = if self.log_y {
            log_labels(yticks)
        } else {
            yticks.iter().map(|&t| fmt_num(t)).collect()
        };
        let ylabels = spaced(yticks, ylabels, |t| f.py(t), |_| 1.2 * font);
        for (&t, label) in yticks.iter().zip(ylabels) {
            if label.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
                left - 0.5 * font,
                f.py(t)
            );
        }
        let xlabels = if self.log_x {
            log_labels(xticks)
        } else {
            xticks.iter().map(|&t| fmt_num(t)).collect()
        };
        let xlabels = spaced(
            xticks,
            xlabels,
            |t| f.px(t),
            |label| text_width(label, font) + 0.6 * font,
        );
        for (&t, label) in xticks.iter().zip(xlabels) {
            if label.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
                f.px(t),
                top + ph + 1.5 * font,
            );
        }
    }

    /// The strip above the plot for the points drawn there, with its series' label.
    fn draw_strip(&self, f: &Frame, l: &Layout, s: &mut String) {
        let (left, top, pw, font) = (f.left, f.top, f.pw, l.font);
        if l.strip > 0.0 {
            let label = self
                .series
                .iter()
                .find(|s| s.place == Place::Above)
                .map_or(String::new(), |s| esc(&s.label));
            let _ = writeln!(
                s,
                r##"<rect class="strip" x="{left:.1}" y="{:.1}" width="{pw:.1}" height="{:.1}" fill="#f3f3f3" stroke="#bbb"/>"##,
                top - l.strip,
                l.strip - STRIP_GAP * font,
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
                left - 0.5 * font,
                strip_y(f, l),
            );
        }
    }

    /// One line sample or marker and label per series, right of the plot.
    fn draw_legend(&self, f: &Frame, l: &Layout, s: &mut String) {
        let font = l.font;
        for (i, series) in self.series.iter().enumerate() {
            let y = f.top - l.strip + 0.8 * font + i as f64 * 1.5 * font;
            let x = f.left + f.pw + 1.2 * font;
            let sample = 2.0 * font;
            if series.line {
                let _ = writeln!(
                    s,
                    r#"<line x1="{x:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="2.5"{}/>"#,
                    x + sample,
                    series.color,
                    dash(series)
                );
            }
            // A scatter's marker, or the markers a line carries.
            if series.markers || !series.line {
                let _ = writeln!(
                    s,
                    "{}",
                    series
                        .marker
                        .svg(x + sample / 2.0, y, 0.3 * font, &series.color)
                );
            }
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{y:.1}" dominant-baseline="middle">{}</text>"#,
                x + sample + 0.5 * font,
                esc(&series.label)
            );
        }
    }
}

/// Tick labels with those that would crowd the last one kept (closer than `room` of either,
/// at the positions `at` gives) left blank, the first one always kept: the grid line stays.
fn spaced(
    ticks: &[f64],
    labels: Vec<String>,
    at: impl Fn(f64) -> f64,
    room: impl Fn(&str) -> f64,
) -> Vec<String> {
    let mut last: Option<(f64, f64)> = None;
    ticks
        .iter()
        .zip(labels)
        .map(|(&t, label)| {
            let (pos, need) = (at(t), room(&label));
            match last {
                Some((p, n)) if (pos - p).abs() < (n + need) / 2.0 => String::new(),
                _ => {
                    last = Some((pos, need));
                    label
                }
            }
        })
        .collect()
}

/// The gap between the strip above the plot and the plot, in text heights: room for the top
/// tick label, which is centred on the frame.
const STRIP_GAP: f64 = 1.0;

/// The middle of the strip above the plot.
fn strip_y(f: &Frame, l: &Layout) -> f64 {
    f.top - l.strip + (l.strip - STRIP_GAP * l.font) / 2.0
}

/// `size`, or smaller where `text` would not fit in `width` at `size` (but not below `min`:
/// a title that long should be shortened).
fn fit(text: &str, size: f64, width: f64, min: f64) -> f64 {
    let w = text_width(text, size);
    if w <= width {
        size
    } else {
        (size * width / w).max(min).floor()
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
    if series.place != Place::Data {
        return;
    }
    let band: Vec<_> = series
        .band
        .iter()
        .filter(|b| f.x_ok(b.0) && f.y_ok(b.1) && f.y_ok(b.2))
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

/// The series' line, broken where a point cannot be drawn, and its markers; a reference line
/// across the plot; or the crosses in the strip above it.
fn draw_line(f: &Frame, l: &Layout, series: &Series, s: &mut String) {
    let r = 0.3 * l.font;
    match series.place {
        Place::Across(y) => {
            if f.y_ok(y) {
                let _ = writeln!(
                    s,
                    r#"<line class="reference" data-label="{}" x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="1.5"{}/>"#,
                    esc(&series.label),
                    f.left,
                    f.left + f.pw,
                    f.py(y),
                    f.py(y),
                    series.color,
                    dash(series)
                );
            }
            return;
        }
        Place::Above => {
            let y = strip_y(f, l);
            for &(x, _) in series.points.iter().filter(|p| f.x_ok(p.0)) {
                let marker = series.marker.svg(f.px(x), y, r, &series.color);
                let _ = writeln!(s, r#"<g class="point">{marker}</g>"#);
            }
            return;
        }
        Place::Data => {}
    }
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
            let marker = series.marker.svg(f.px(x), f.py(y), r, &series.color);
            // A data point's marker, told apart from the legend's.
            let _ = writeln!(s, r#"<g class="point">{marker}</g>"#);
        }
    }
}

/// Charts in a grid of at most `columns` to a row (as few rows as that allows, filled evenly:
/// [`grid_columns`]), each panel a nested `<svg>`; with more than one column their text is
/// larger ([`TEXT_IN_GRID`]), as a page shows the grid scaled down.
pub(crate) fn side_by_side(charts: &[Chart], columns: usize) -> String {
    let columns = grid_columns(charts.len(), columns);
    let font = if columns > 1 { TEXT_IN_GRID } else { TEXT };
    let svgs: Vec<String> = charts.iter().map(|c| c.render(font)).collect();
    panels(&svgs, W, H, columns)
}

/// The opening of a standalone SVG of `w` × `h`: a white background and a centred title, the
/// text at 12 px.
pub(crate) fn svg_open(w: f64, h: f64, title: &str, title_x: f64, title_size: u32) -> String {
    svg_open_sized(w, h, title, title_x, f64::from(title_size), TEXT)
}

/// [`svg_open`] with the text at `font` px.
fn svg_open_sized(w: f64, h: f64, title: &str, title_x: f64, title_size: f64, font: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="{font}">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{title_x}" y="{:.0}" text-anchor="middle" font-size="{title_size}">{}</text>
"#,
        1.6 * title_size,
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

    /// The plot's frame rectangle of a standalone chart: (left, top, right, bottom).
    fn frame_of(doc: &roxmltree::Document) -> (f64, f64, f64, f64) {
        let r = doc
            .descendants()
            .find(|n| n.has_tag_name("rect") && n.attribute("stroke") == Some("#333"))
            .unwrap();
        let v = |a| r.attribute(a).unwrap().parse::<f64>().unwrap();
        (v("x"), v("y"), v("x") + v("width"), v("y") + v("height"))
    }

    /// The centres of the chart's circles and crosses, legend included.
    fn marker_centres(doc: &roxmltree::Document) -> Vec<(f64, f64)> {
        let v = |n: &roxmltree::Node, a| n.attribute(a).unwrap().parse::<f64>().unwrap();
        doc.descendants()
            .filter_map(|n| match n.tag_name().name() {
                "circle" => Some((v(&n, "cx"), v(&n, "cy"))),
                // A cross: "Mx0,y0 Lx1,y1 ...", centred between its first two corners.
                "path"
                    if n.attribute("stroke-width") == Some("2")
                        && n.attribute("fill") == Some("none")
                        && n.attribute("class").is_none() =>
                {
                    let d = n.attribute("d").unwrap();
                    let nums: Vec<f64> = d
                        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                        .filter(|t| !t.is_empty())
                        .map(|t| t.parse().unwrap())
                        .collect();
                    Some(((nums[0] + nums[2]) / 2.0, (nums[1] + nums[3]) / 2.0))
                }
                _ => None,
            })
            .collect()
    }

    /// Points off the scale go to the strip above the plot and leave the y axis alone; a
    /// reference line spans the plot and is on the axis; markers keep off the frame.
    #[test]
    fn off_scale_points_sit_above_the_plot_and_a_reference_line_spans_it() {
        let chart = Chart {
            title: "t".into(),
            x_label: "lr".into(),
            y_label: "loss".into(),
            log_y: true,
            log_x: true,
            y_range: None,
            series: vec![
                Series::scatter("relu", "red", vec![(1e-3, 0.01), (1e-1, 0.1)]),
                Series::above("diverged", "grey", &[1e-2, 5e-2]),
                Series::across("chance", "black", 10f64.ln()),
            ],
        };
        let svg = chart.to_svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let (left, top, right, bottom) = frame_of(&doc);
        let markers = marker_centres(&doc);
        // Two points, two crosses, and the legend's circle and cross.
        assert_eq!(markers.len(), 6, "{svg}");
        let in_plot: Vec<_> = markers.iter().filter(|m| m.0 < right).collect();
        assert_eq!(in_plot.len(), 4);
        let above = in_plot.iter().filter(|m| m.1 < top).count();
        assert_eq!(above, 2, "the crosses are above the frame");
        for m in &in_plot {
            assert!(m.0 > left + 2.0 && m.0 < right - 2.0, "{m:?} on the frame");
            assert!(
                m.1 < top - 2.0 || (m.1 > top + 2.0 && m.1 < bottom - 2.0),
                "{m:?}"
            );
        }
        let line = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("reference"))
            .unwrap();
        let v = |a| line.attribute(a).unwrap().parse::<f64>().unwrap();
        assert_eq!((v("x1"), v("x2")), (left, right));
        assert!(v("y1") > top && v("y1") < bottom);
        // The strip is labelled with the series' name.
        assert!(svg.contains(">diverged</text>"));
    }

    /// A log axis spanning less than a decade still gets at least two labelled ticks.
    #[test]
    fn a_log_axis_within_a_decade_has_tick_labels() {
        let t = log_ticks(0.02f64.log10(), 0.09f64.log10());
        assert_eq!(log_labels(&t), vec!["0.02", "0.05"]);
        // Labels that would overlap are left out, the grid keeps its lines.
        let t = [0.06, 0.07, 0.08, 0.09];
        let labels = spaced(&t, log_labels(&t), |v| 100.0 * v.log10(), |_| 6.0);
        assert_eq!(labels, ["0.06", "0.07", "", "0.09"]);
        let t = log_ticks(0.062f64.log10(), 0.089f64.log10());
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(log_ticks(0.0611f64.log10(), 0.0612f64.log10()).len() >= 2);
        let t = log_ticks(-3.2, -0.9);
        assert_eq!(log_labels(&t), vec!["1e-3", "1e-2", "1e-1"]);
        // Less than two decades: 1-2-5 steps.
        let t = log_ticks(0.015f64.log10(), 2.5f64.log10());
        assert_eq!(
            log_labels(&t),
            vec!["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"]
        );
        // Every panel of a narrow-range scatter has labels on both axes.
        let chart = Chart {
            title: "t".into(),
            x_label: "lr".into(),
            y_label: "loss".into(),
            log_y: true,
            log_x: true,
            y_range: None,
            series: vec![Series::scatter(
                "a",
                "red",
                vec![(0.061, 0.003), (0.088, 0.004)],
            )],
        };
        let svg = chart.to_svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let ticks: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("tick"))
            .collect();
        let x = ticks
            .iter()
            .filter(|n| n.attribute("text-anchor") == Some("middle"))
            .count();
        assert!(x >= 2 && ticks.len() - x >= 2, "{svg}");
    }

    /// Panels fill as few rows as the column limit allows, evenly; a grid of several columns
    /// has its text at 16 px.
    #[test]
    fn grid_fits_the_panel_count() {
        assert_eq!(grid_columns(4, 3), 2);
        assert_eq!(grid_columns(4, 2), 2);
        assert_eq!(grid_columns(3, 3), 3);
        assert_eq!(grid_columns(3, 2), 2);
        assert_eq!(grid_columns(5, 3), 3);
        assert_eq!(grid_columns(1, 2), 1);
        assert_eq!(grid_columns(0, 2), 1);
        let chart = |label: &str| Chart {
            title: label.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            log_y: false,
            log_x: false,
            y_range: None,
            series: vec![Series::line(label, "red", vec![(0.0, 1.0), (1.0, 2.0)])],
        };
        let four: Vec<Chart> = ["a", "b", "c", "d"].iter().map(|l| chart(l)).collect();
        let svg = side_by_side(&four, 3);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.root_element().attribute("width"), Some("1440"));
        assert_eq!(doc.root_element().attribute("height"), Some("880"));
        assert!(svg.contains(r#"font-size="16""#) && !svg.contains(r#"font-size="12""#));
        assert!(chart("a").to_svg().contains(r#"font-size="12""#));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(shades(220.0, 60.0, 3).len(), 3);
    }
}
