//! The sweep's own event file, `events.out.tfevents.hparams` in the sweep folder (TensorBoard's
//! run `.`): the HParams experiment of the plan, and the panels of the paper's Figure 1 that the
//! report computes from the runs, as scalars by epoch with a custom scalars layout that puts
//! them on charts.
//!
//! The panels are here because a search of 800–1200 runs opens in TensorBoard with the runs
//! past 500 unselected (its charts empty), and the best trial of a cell is many filters away;
//! the one run `.` holds Figure 1 whole.
//!
//! The file is written whole (a temporary file and a rename) and under the sweep's lock, by
//! the process that prepares a sweep (the experiment, keeping the panels the file has) and by
//! the report (both), so that the processes of one sweep never mix their writes nor undo a
//! later one's; no wall time or host name goes in, so the same runs give the same bytes from
//! every process.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::files::{read_bytes, MAX_RECORD};
use super::tfevents::custom_scalars::{self, Category};
use super::tfevents::{hparams, record, Event, Value, What};
use super::{warn, write_atomic};

/// The file's name (TensorBoard reads any name with `tfevents` in it).
pub(super) const SWEEP_EVENTS: &str = "events.out.tfevents.hparams";

/// A sweep's panels: curves by tag, and the charts that draw them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Panels {
    pub(crate) curves: Vec<PanelCurve>,
    pub(crate) layout: Vec<Category>,
}

/// One curve: its tag, and its value at each epoch it has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PanelCurve {
    pub(crate) tag: String,
    pub(crate) points: Vec<(usize, f64)>,
}

/// Writes the sweep's event file in `root`: the version record, the HParams `experiment`, and
/// `panels`, or where `None` the panels the file holds now (preparing a sweep knows its plan
/// but not its runs' curves, and keeps what the last report wrote).
pub(super) fn write(root: &Path, experiment: Value, panels: Option<&Panels>) -> Result<()> {
    let path = root.join(SWEEP_EVENTS);
    let head = [
        event(0, What::FileVersion),
        event(0, What::Summary(vec![experiment])),
    ];
    let mut bytes = frame(&head);
    match panels {
        Some(panels) => bytes.extend(frame(&panel_events(panels))),
        None => bytes.extend(kept_panels(&path)),
    }
    write_atomic(&path, &bytes)
}

fn event(step: i64, what: What) -> Event {
    Event {
        wall_time: 0.0,
        step,
        what,
    }
}

fn frame(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .flat_map(|e| record::frame(&e.encode()))
        .collect()
}

/// The panels as events: the layout at step 0, then per epoch one event with every curve's
/// value at it.
fn panel_events(panels: &Panels) -> Vec<Event> {
    let mut by_epoch: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for curve in &panels.curves {
        for &(epoch, value) in &curve.points {
            let scalar = Value::scalar(curve.tag.as_str(), value);
            by_epoch.entry(epoch).or_default().push(scalar);
        }
    }
    let layout = (!panels.layout.is_empty()).then(|| {
        event(
            0,
            What::Summary(vec![custom_scalars::layout(&panels.layout)]),
        )
    });
    let epochs = by_epoch
        .into_iter()
        .map(|(epoch, values)| event(epoch as i64, What::Summary(values)));
    layout.into_iter().chain(epochs).collect()
}

/// The framed records of the panels in the file at `path`: every summary but the experiment.
/// None when there is no file; none, with a warning, when it cannot be read (a link, say):
/// the next report writes them again.
fn kept_panels(path: &Path) -> Vec<u8> {
    if std::fs::symlink_metadata(path).is_err() {
        return Vec::new();
    }
    let bytes = match read_bytes(path, MAX_RECORD) {
        Ok(bytes) => bytes,
        Err(e) => {
            warn(&e, "its panels are left out until the next report");
            return Vec::new();
        }
    };
    let is_panel = |record: &&[u8]| match Event::decode(record) {
        Some(Event {
            what: What::Summary(values),
            ..
        }) => !values.iter().any(|v| v.tag() == hparams::EXPERIMENT_TAG),
        _ => false,
    };
    let (records, _) = record::read(&bytes);
    records
        .into_iter()
        .filter(is_panel)
        .flat_map(record::frame)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tfevents::custom_scalars::Chart;
    use crate::store::tfevents::file;

    fn panels() -> Panels {
        let curve = |tag: &str, points: Vec<(usize, f64)>| PanelCurve {
            tag: tag.into(),
            points,
        };
        Panels {
            curves: vec![
                curve("figure1/depth_2/plain/best", vec![(1, 2.0), (2, 1.0)]),
                curve("figure1/depth_2/plain/top10_mean", vec![(1, 3.0), (2, 1.5)]),
            ],
            layout: vec![Category {
                title: "Figure 1".into(),
                charts: vec![Chart {
                    title: "depth 2".into(),
                    tags: vec!["^figure1/depth_2/".into()],
                }],
            }],
        }
    }

    fn experiment(name: &str) -> Value {
        hparams::experiment(name, "", &[], &[])
    }

    /// (step, tag, scalar value) of every summary value in the file, in order.
    fn contents(root: &Path) -> Vec<(i64, String, Option<f32>)> {
        let events = file::read(&root.join(SWEEP_EVENTS)).unwrap();
        let mut out = Vec::new();
        for e in events {
            let What::Summary(values) = e.what else {
                continue;
            };
            for v in values {
                let scalar = match v {
                    Value::Scalar { value, .. } => Some(value),
                    _ => None,
                };
                out.push((e.step, v.tag().to_string(), scalar));
            }
        }
        out
    }

    /// The report's panels go in by epoch after the experiment and the layout; writing the
    /// experiment alone (a sweep prepared again) keeps them, and the same input gives the same
    /// bytes.
    #[test]
    fn panels_are_written_by_epoch_and_kept_when_the_experiment_is_written_again() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(root, experiment("a"), Some(&panels())).unwrap();
        let first = std::fs::read(root.join(SWEEP_EVENTS)).unwrap();
        let at = |step, tag: &str, value| (step, tag.to_string(), value);
        let (best, top) = (
            "figure1/depth_2/plain/best",
            "figure1/depth_2/plain/top10_mean",
        );
        let want = vec![
            at(0, hparams::EXPERIMENT_TAG, None),
            at(0, custom_scalars::CONFIG_TAG, None),
            at(1, best, Some(2.0)),
            at(1, top, Some(3.0)),
            at(2, best, Some(1.0)),
            at(2, top, Some(1.5)),
        ];
        assert_eq!(contents(root), want);
        write(root, experiment("b"), None).unwrap();
        assert_eq!(contents(root), want);
        write(root, experiment("a"), None).unwrap();
        assert_eq!(std::fs::read(root.join(SWEEP_EVENTS)).unwrap(), first);
        // New panels replace the old; none at all leave the experiment alone.
        write(root, experiment("a"), Some(&Panels::default())).unwrap();
        assert_eq!(contents(root), want[..1].to_vec());
    }
}
