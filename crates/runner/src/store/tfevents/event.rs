//! TensorBoard's `Event` and `Summary` messages: scalars, histograms and plugin summaries, and
//! the reader our tests, the resume logic and the sweep's panels use.

use super::proto::{fields, Field, Message};

/// The version string of the first event of every file.
pub(crate) const FILE_VERSION: &str = "brain.Event:2";

/// One event: what was recorded at `step` (an epoch, for us) at `wall_time`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub wall_time: f64,
    pub step: i64,
    pub what: What,
}

/// What an event carries.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    FileVersion,
    Summary(Vec<Value>),
}

/// One tagged value of a summary.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar {
        tag: String,
        value: f32,
    },
    /// The distribution of `values`, in equal-width buckets between their minimum and maximum.
    Histogram {
        tag: String,
        values: Vec<f64>,
    },
    /// A plugin's summary (the HParams plugin's, here): the plugin's name and its serialized
    /// data, with the empty float tensor TensorBoard's own writers attach.
    Plugin {
        tag: String,
        plugin: String,
        content: Vec<u8>,
    },
    /// A plugin's summary whose data is one byte string (the custom scalars plugin's layout):
    /// a scalar `DT_STRING` tensor holding `bytes`, and metadata naming the plugin with no
    /// content, as TensorBoard's own `summary.pb` writes it.
    PluginBytes {
        tag: String,
        plugin: String,
        bytes: Vec<u8>,
    },
}

/// TensorFlow's `DataType` of byte strings.
const DT_STRING: u64 = 7;

/// Buckets of a histogram.
const BUCKETS: usize = 30;

impl Event {
    pub fn encode(&self) -> Vec<u8> {
        let mut m = Message::new().double(1, self.wall_time);
        if self.step != 0 {
            m = m.uint(2, self.step as u64);
        }
        m = match &self.what {
            What::FileVersion => m.string(3, FILE_VERSION),
            What::Summary(values) => {
                let summary = values
                    .iter()
                    .fold(Message::new(), |s, v| s.message(1, &v.encode()));
                m.message(5, &summary)
            }
        };
        m.0
    }

    /// Reads an encoded event back; `None` if it is not one we could have written.
    pub fn decode(bytes: &[u8]) -> Option<Event> {
        let mut event = Event {
            wall_time: 0.0,
            step: 0,
            what: What::Summary(Vec::new()),
        };
        for (field, value) in fields(bytes)? {
            match (field, value) {
                (1, v) => event.wall_time = v.as_f64()?,
                (2, Field::Varint(s)) => event.step = s as i64,
                (3, Field::Bytes(_)) => event.what = What::FileVersion,
                (5, Field::Bytes(b)) => event.what = What::Summary(decode_summary(b)?),
                _ => {}
            }
        }
        Some(event)
    }

    /// The step of an encoded event, read without decoding the rest.
    pub fn step_of(bytes: &[u8]) -> Option<i64> {
        let step = fields(bytes)?.into_iter().find_map(|(f, v)| match (f, v) {
            (2, Field::Varint(s)) => Some(s as i64),
            _ => None,
        });
        Some(step.unwrap_or(0))
    }
}

impl Value {
    pub fn scalar(tag: impl Into<String>, value: f64) -> Value {
        Value::Scalar {
            tag: tag.into(),
            value: value as f32,
        }
    }

    pub fn tag(&self) -> &str {
        match self {
            Value::Scalar { tag, .. }
            | Value::Histogram { tag, .. }
            | Value::Plugin { tag, .. }
            | Value::PluginBytes { tag, .. } => tag,
        }
    }

    fn encode(&self) -> Message {
        let m = Message::new().string(1, self.tag());
        match self {
            Value::Scalar { value, .. } => m.float(2, *value),
            Value::Histogram { values, .. } => m.message(5, &histogram(values)),
            Value::Plugin {
                plugin, content, ..
            } => {
                let data = Message::new().string(1, plugin).bytes(2, content);
                let metadata = Message::new().message(1, &data);
                // TensorProto { dtype: DT_FLOAT, tensor_shape { dim { size: 0 } } }
                let shape = Message::new().message(2, &Message::new());
                let tensor = Message::new().uint(1, 1).message(2, &shape);
                m.message(9, &metadata).message(8, &tensor)
            }
            Value::PluginBytes { plugin, bytes, .. } => {
                let data = Message::new().string(1, plugin);
                let metadata = Message::new().message(1, &data);
                // TensorProto { dtype: DT_STRING, tensor_shape {}, string_val: [bytes] }
                let tensor = Message::new()
                    .uint(1, DT_STRING)
                    .message(2, &Message::new())
                    .bytes(8, bytes);
                // In field order, as Python's protobuf writes it.
                m.message(8, &tensor).message(9, &metadata)
            }
        }
    }
}

/// A `HistogramProto` of `values` (finite ones only).
fn histogram(values: &[f64]) -> Message {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (min, max) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut m = Message::new();
    if finite.is_empty() {
        return m.double(1, 0.0).double(2, 0.0).double(3, 0.0);
    }
    let width = (max - min) / BUCKETS as f64;
    let (limits, counts): (Vec<f64>, Vec<f64>) = if width > 0.0 {
        let mut counts = vec![0.0; BUCKETS];
        for v in &finite {
            counts[(((v - min) / width) as usize).min(BUCKETS - 1)] += 1.0;
        }
        let limits = (1..=BUCKETS).map(|i| min + width * i as f64).collect();
        (limits, counts)
    } else {
        (vec![max], vec![finite.len() as f64])
    };
    m = m
        .double(1, min)
        .double(2, max)
        .double(3, finite.len() as f64)
        .double(4, finite.iter().sum())
        .double(5, finite.iter().map(|v| v * v).sum());
    m.doubles(6, &limits).doubles(7, &counts)
}

fn decode_summary(bytes: &[u8]) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    for (field, value) in fields(bytes)? {
        if let (1, Field::Bytes(b)) = (field, value) {
            out.push(decode_value(b)?);
        }
    }
    Some(out)
}

fn decode_value(bytes: &[u8]) -> Option<Value> {
    let (mut tag, mut scalar, mut histo, mut plugin) = (String::new(), None, None, None);
    let mut string = None;
    for (field, value) in fields(bytes)? {
        match (field, value) {
            (1, Field::Bytes(b)) => tag = String::from_utf8(b.to_vec()).ok()?,
            (2, v) => scalar = Some(v.as_f32()?),
            (5, Field::Bytes(b)) => histo = Some(b),
            (8, Field::Bytes(b)) => string = string_val(b)?,
            (9, Field::Bytes(b)) => plugin = Some(decode_plugin(b)?),
            _ => {}
        }
    }
    if let Some(value) = scalar {
        return Some(Value::Scalar { tag, value });
    }
    if let (Some((plugin, _)), Some(bytes)) = (&plugin, string) {
        return Some(Value::PluginBytes {
            tag,
            plugin: plugin.clone(),
            bytes,
        });
    }
    if let Some((plugin, content)) = plugin {
        return Some(Value::Plugin {
            tag,
            plugin,
            content,
        });
    }
    // A histogram reads back as its bucket counts' total only: its values are not kept.
    let num = fields(histo?)?
        .into_iter()
        .find_map(|(f, v)| (f == 3).then(|| v.as_f64()).flatten())?;
    Some(Value::Histogram {
        tag,
        values: vec![f64::NAN; num as usize],
    })
}

/// The first `string_val` of a `TensorProto`, if it has one; `None` if it is malformed.
fn string_val(tensor: &[u8]) -> Option<Option<Vec<u8>>> {
    let found = fields(tensor)?.into_iter().find_map(|(f, v)| match (f, v) {
        (8, Field::Bytes(b)) => Some(b.to_vec()),
        _ => None,
    });
    Some(found)
}

fn decode_plugin(metadata: &[u8]) -> Option<(String, Vec<u8>)> {
    let (_, data) = fields(metadata)?.into_iter().find(|(f, _)| *f == 1)?;
    let Field::Bytes(data) = data else {
        return None;
    };
    let (mut name, mut content) = (String::new(), Vec::new());
    for (field, value) in fields(data)? {
        match (field, value) {
            (1, Field::Bytes(b)) => name = String::from_utf8(b.to_vec()).ok()?,
            (2, Field::Bytes(b)) => content = b.to_vec(),
            _ => {}
        }
    }
    Some((name, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back() {
        let event = Event {
            wall_time: 1.5,
            step: 3,
            what: What::Summary(vec![
                Value::scalar("train/loss", 0.25),
                Value::Histogram {
                    tag: "layers/grad".into(),
                    values: vec![1.0, 2.0, 2.5, f64::NAN],
                },
                Value::Plugin {
                    tag: "_hparams_/x".into(),
                    plugin: "hparams".into(),
                    content: vec![1, 2, 3],
                },
                Value::PluginBytes {
                    tag: "custom_scalars__config__".into(),
                    plugin: "custom_scalars".into(),
                    bytes: vec![4, 5],
                },
            ]),
        };
        let back = Event::decode(&event.encode()).unwrap();
        assert_eq!(back.step, 3);
        assert_eq!(Event::step_of(&event.encode()), Some(3));
        let What::Summary(values) = back.what else {
            panic!("not a summary")
        };
        assert_eq!(values[0], Value::scalar("train/loss", 0.25));
        assert!(matches!(&values[1], Value::Histogram { values, .. } if values.len() == 3));
        assert_eq!(
            values[2],
            Value::Plugin {
                tag: "_hparams_/x".into(),
                plugin: "hparams".into(),
                content: vec![1, 2, 3]
            }
        );
        assert_eq!(
            values[3],
            Value::PluginBytes {
                tag: "custom_scalars__config__".into(),
                plugin: "custom_scalars".into(),
                bytes: vec![4, 5]
            }
        );
        let version = Event {
            wall_time: 2.0,
            step: 0,
            what: What::FileVersion,
        };
        assert_eq!(Event::decode(&version.encode()), Some(version));
    }
}
