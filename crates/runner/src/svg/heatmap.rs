//! Heat maps as self-contained SVG, for the paper's layer × block views (its Figures 2 and 3):
//! one row per layer (the first at the top), one column per block, and a colour bar.

use std::fmt::Write;

use super::plot::{esc, fmt_num, panels, svg_open};

/// How values map to colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scale {
    /// Light to dark over `[min, max]`, for values of one sign (gate outputs).
    Sequential,
    /// Blue through white to red, symmetric about zero (biases, outputs, differences).
    Diverging,
}

#[derive(Debug, Clone)]
pub(crate) struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// `values[row][column]`.
    pub values: Vec<Vec<f64>>,
    pub scale: Scale,
}

const W: f64 = 360.0;
const H: f64 = 440.0;
const LEFT: f64 = 50.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 45.0;

impl Heatmap {
    /// The colour scale's ends: the data's range, or `±max |v|` for a diverging scale.
    pub(crate) fn limits(&self) -> (f64, f64) {
        let finite = || {
            self.values
                .iter()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
        };
        let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        match self.scale {
            _ if !lo.is_finite() => (0.0, 1.0),
            Scale::Diverging => {
                let m = lo.abs().max(hi.abs()).max(1e-12);
                (-m, m)
            }
            Scale::Sequential if hi - lo < 1e-12 => (lo, lo + 1.0),
            Scale::Sequential => (lo, hi),
        }
    }

    fn color(&self, v: f64, (lo, hi): (f64, f64)) -> String {
        if !v.is_finite() {
            return "#888".into();
        }
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        match self.scale {
            // White to dark blue.
            Scale::Sequential => format!("hsl(220,70%,{:.1}%)", 97.0 - 72.0 * t),
            // Blue (negative) to white to red (positive).
            Scale::Diverging => {
                let (hue, depth) = if t < 0.5 {
                    (220, 1.0 - 2.0 * t)
                } else {
                    (5, 2.0 * t - 1.0)
                };
                format!("hsl({hue},75%,{:.1}%)", 97.0 - 55.0 * depth)
            }
        }
    }

    /// The map as a standalone SVG: cells, frame, layer and block ticks, labels, colour bar.
    pub(crate) fn to_svg(&self) -> String {
        let rows = self.values.len().max(1);
        let cols = self.values.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let (cw, ch) = (pw / cols as f64, ph / rows as f64);
        let limits = self.limits();
        let mut s = svg_open(W, H, &self.title, LEFT + pw / 2.0, 14);
        let _ = writeln!(s, r#"<g shape-rendering="crispEdges">"#);
        for (r, row) in self.values.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{}"/>"#,
                    LEFT + c as f64 * cw,
                    TOP + r as f64 * ch,
                    cw + 0.05,
                    ch + 0.05,
                    self.color(v, limits)
                );
            }
        }
        let _ = writeln!(s, "</g>");
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        // Row ticks: the first, the last and about four between, 1-based as layers are counted.
        for r in ticks(rows) {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
                LEFT - 5.0,
                TOP + (r as f64 + 0.5) * ch,
                r + 1
            );
        }
        for c in ticks(cols) {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                LEFT + (c as f64 + 0.5) * cw,
                TOP + ph + 15.0,
                c + 1
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            H - 10.0,
            esc(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text x="14" y="{0}" text-anchor="middle" transform="rotate(-90 14 {0})">{1}</text>"#,
            TOP + ph / 2.0,
            esc(&self.y_label)
        );
        self.color_bar(limits, ph, &mut s);
        s.push_str("</svg>\n");
        s
    }

    /// The colour bar right of the map, the top end at the top, labelled with the limits.
    fn color_bar(&self, limits: (f64, f64), ph: f64, s: &mut String) {
        let bx = W - RIGHT + 12.0;
        let steps = 40;
        for i in 0..steps {
            let t = 1.0 - (i as f64 + 0.5) / steps as f64;
            let v = limits.0 + t * (limits.1 - limits.0);
            let _ = writeln!(
                s,
                r#"<rect x="{bx}" y="{:.2}" width="14" height="{:.2}" fill="{}"/>"#,
                TOP + i as f64 * ph / steps as f64,
                ph / steps as f64 + 0.05,
                self.color(v, limits)
            );
        }
        for (v, y) in [(limits.1, TOP + 4.0), (limits.0, TOP + ph)] {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{y:.1}" font-size="11">{}</text>"#,
                bx + 17.0,
                fmt_num(v)
            );
        }
    }
}

/// Heat maps side by side in one SVG, each panel a nested `<svg>`.
pub(crate) fn side_by_side(maps: &[Heatmap]) -> String {
    let svgs: Vec<String> = maps.iter().map(Heatmap::to_svg).collect();
    panels(&svgs, W, H, svgs.len())
}

/// 0-based indices to label along an axis of `n` cells.
fn ticks(n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let step = match n {
        0..=10 => 1,
        11..=25 => 5,
        26..=60 => 10,
        61..=150 => 25,
        _ => 100,
    };
    let mut t: Vec<usize> = std::iter::once(0)
        .chain((step - 1..n).step_by(step).filter(|&i| i > 0))
        .collect();
    if t.last() != Some(&(n - 1)) {
        if n - 1 - t.last().unwrap() < step / 2 {
            t.pop();
        }
        t.push(n - 1);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(scale: Scale) -> Heatmap {
        Heatmap {
            title: "b_T <&>".into(),
            x_label: "block".into(),
            y_label: "layer".into(),
            values: vec![vec![-3.0, -1.0, f64::NAN], vec![0.5, 2.0, -0.25]],
            scale,
        }
    }

    #[test]
    fn one_cell_per_value_valid_xml_and_symmetric_diverging_limits() {
        let m = map(Scale::Diverging);
        assert_eq!(m.limits(), (-3.0, 3.0));
        assert_eq!(map(Scale::Sequential).limits(), (-3.0, 2.0));
        let svg = side_by_side(&[m.clone(), map(Scale::Sequential)]);
        let doc = roxmltree::Document::parse(&svg).expect("valid SVG");
        let panels: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.has_tag_name("svg"))
            .collect();
        assert_eq!(panels.len(), 2);
        let cells = panels[0]
            .descendants()
            .filter(|n| n.has_tag_name("g"))
            .flat_map(|g| g.children().filter(|n| n.has_tag_name("rect")))
            .count();
        assert_eq!(cells, 6);
        // Zero is white on a diverging scale; the missing value is grey.
        assert!(m.color(0.0, m.limits()).ends_with(",75%,97.0%)"));
        assert_eq!(m.color(-3.0, m.limits()), "hsl(220,75%,42.0%)");
        assert_eq!(m.color(3.0, m.limits()), "hsl(5,75%,42.0%)");
        assert_eq!(m.color(f64::NAN, m.limits()), "#888");
        assert!(svg.contains("b_T &lt;&amp;&gt;"));
    }

    #[test]
    fn ticks_mark_the_first_and_last_layers() {
        assert_eq!(ticks(3), vec![0, 1, 2]);
        assert_eq!(ticks(49), vec![0, 9, 19, 29, 39, 48]);
        assert_eq!(ticks(50), vec![0, 9, 19, 29, 39, 49]);
    }
}
