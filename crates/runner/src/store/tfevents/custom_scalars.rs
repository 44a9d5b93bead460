//! The custom scalars plugin's layout (`tensorboard/plugins/custom_scalar/layout.proto`):
//! categories of charts, each chart drawing every scalar tag that one of its regular
//! expressions matches, of every selected run, on one set of axes. TensorBoard's Scalars tab
//! gives each tag a chart of its own; this is how one chart shows a figure's several curves.

use super::event::Value;
use super::proto::Message;

pub(crate) const PLUGIN: &str = "custom_scalars";
/// The tag TensorBoard looks for the layout under (`metadata.CONFIG_SUMMARY_TAG`).
pub(crate) const CONFIG_TAG: &str = "custom_scalars__config__";

/// A collapsible group of charts in the Custom Scalars tab.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Category {
    pub(crate) title: String,
    pub(crate) charts: Vec<Chart>,
}

/// A multi-line chart: every scalar tag that one of `tags` matches (Python's `re.match`: from
/// the tag's start) is a line of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) tags: Vec<String>,
}

/// The summary value of a layout: `Layout { category … }` (version 0, the only one, left at
/// its default) as a string tensor, as the plugin's own `summary.pb` writes it.
pub(crate) fn layout(categories: &[Category]) -> Value {
    let layout = categories.iter().fold(Message::new(), |layout, c| {
        let category =
            c.charts
                .iter()
                .fold(Message::new().string(1, &c.title), |category, chart| {
                    let multiline = chart
                        .tags
                        .iter()
                        .fold(Message::new(), |m, t| m.string(1, t));
                    let chart = Message::new()
                        .string(1, &chart.title)
                        .message(2, &multiline);
                    category.message(2, &chart)
                });
        layout.message(2, &category)
    });
    Value::PluginBytes {
        tag: CONFIG_TAG.to_string(),
        plugin: PLUGIN.to_string(),
        bytes: layout.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tfevents::Event;
    use crate::store::tfevents::What;

    /// The bytes TensorBoard 2.21's own `custom_scalar.summary.pb` gives, with
    /// `tensor_util.make_tensor_proto` for TensorFlow's: `Layout(category=[Category(
    /// title="Figure 1", chart=[Chart(title="depth 10", multiline=MultilineChartContent(
    /// tag=[r"^figure1/depth_10/[^/]+/best$", "x"]))])])`, as a `Summary.Value`.
    #[test]
    fn encodes_as_tensorboard_does() {
        let categories = [Category {
            title: "Figure 1".into(),
            charts: vec![Chart {
                title: "depth 10".into(),
                tags: vec![r"^figure1/depth_10/[^/]+/best$".into(), "x".into()],
            }],
        }];
        let event = Event {
            wall_time: 0.0,
            step: 0,
            what: What::Summary(vec![layout(&categories)]),
        };
        let bytes = event.encode();
        let summary = &bytes[bytes.len() - WANT.len() / 2..];
        let got: String = summary.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, WANT);
        let back = Event::decode(&bytes).unwrap();
        assert_eq!(back.what, event.what);
    }

    const WANT: &str = "0a18637573746f6d5f7363616c6172735f5f636f6e6669675f5f424208071200423c123a\
        0a084669677572652031122e0a08646570746820313012220a1d5e666967757265312f64657074685f31302f\
        5b5e2f5d2b2f62657374240a01784a120a100a0e637573746f6d5f7363616c617273";
}
