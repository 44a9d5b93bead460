//! The HParams plugin's summaries (`tensorboard/plugins/hparams/plugin_data.proto`): the
//! experiment (which hyperparameters and metrics a sweep has), and a session start and end per
//! run. TensorBoard's HParams dashboard builds its table and parallel-coordinates view from them.

use super::event::Value;
use super::proto::Message;

pub(crate) const PLUGIN: &str = "hparams";
pub(crate) const EXPERIMENT_TAG: &str = "_hparams_/experiment";
pub(crate) const SESSION_START_TAG: &str = "_hparams_/session_start_info";
pub(crate) const SESSION_END_TAG: &str = "_hparams_/session_end_info";

/// A hyperparameter's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HValue {
    Number(f64),
    Text(String),
}

/// A hyperparameter the experiment declares: a number, or one of a list of strings.
pub(crate) struct HParamInfo {
    pub name: String,
    pub description: &'static str,
    /// `None`: a number; `Some(values)`: a string, one of `values`.
    pub choices: Option<Vec<String>>,
    /// Whether its value differs between the experiment's runs.
    pub differs: bool,
}

/// A metric the experiment declares: the tag of a scalar whose last value in a run is the metric.
pub(crate) struct MetricInfo {
    pub tag: &'static str,
    pub display_name: &'static str,
    pub training: bool,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionStatus {
    /// TensorBoard's `STATUS_UNKNOWN`: neither a success nor a failure (a trial stopped by
    /// successive halving).
    Unknown = 0,
    Success = 1,
    Failure = 2,
}

fn plugin_value(tag: &str, data: Message) -> Value {
    // HParamsPluginData { version: 0, <data> }
    let content = Message::new()
        .uint(1, 0)
        .0
        .into_iter()
        .chain(data.0)
        .collect();
    Value::Plugin {
        tag: tag.to_string(),
        plugin: PLUGIN.to_string(),
        content,
    }
}

/// The experiment summary: field 2 of `HParamsPluginData`.
pub(crate) fn experiment(
    name: &str,
    description: &str,
    hparams: &[HParamInfo],
    metrics: &[MetricInfo],
) -> Value {
    let mut e = Message::new().string(6, name).string(1, description);
    for h in hparams {
        let mut info = Message::new().string(1, &h.name).string(3, h.description);
        if h.differs {
            info = info.uint(7, 1); // differs
        }
        info = match &h.choices {
            None => info.uint(4, 3), // DATA_TYPE_FLOAT64
            Some(choices) => {
                let list = choices.iter().fold(Message::new(), |l, c| {
                    l.message(1, &proto_value(&HValue::Text(c.clone())))
                });
                info.uint(4, 1).message(5, &list) // DATA_TYPE_STRING, domain_discrete
            }
        };
        e = e.message(4, &info);
    }
    for m in metrics {
        let name = Message::new().string(1, "").string(2, m.tag);
        let dataset = if m.training { 1 } else { 2 }; // DATASET_TRAINING / _VALIDATION
        let info = Message::new()
            .message(1, &name)
            .string(3, m.display_name)
            .uint(5, dataset);
        e = e.message(5, &info);
    }
    plugin_value(EXPERIMENT_TAG, Message::new().message(2, &e))
}

/// A run's session start: its hyperparameter values (field 3 of `HParamsPluginData`).
pub(crate) fn session_start(hparams: &[(String, HValue)], start_time: f64) -> Value {
    let mut s = Message::new();
    for (name, value) in hparams {
        let entry = Message::new()
            .string(1, name)
            .message(2, &proto_value(value));
        s = s.message(1, &entry);
    }
    s = s.double(5, start_time);
    plugin_value(SESSION_START_TAG, Message::new().message(3, &s))
}

/// A run's session end (field 4 of `HParamsPluginData`).
pub(crate) fn session_end(status: SessionStatus, end_time: f64) -> Value {
    let s = Message::new().uint(1, status as u64).double(2, end_time);
    plugin_value(SESSION_END_TAG, Message::new().message(4, &s))
}

/// A `google.protobuf.Value`.
fn proto_value(v: &HValue) -> Message {
    match v {
        HValue::Number(x) => Message::new().double(2, *x),
        HValue::Text(s) => Message::new().string(3, s),
    }
}
