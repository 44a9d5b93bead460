//! Just enough of the protobuf wire format to write TensorBoard's messages and read back the
//! fields our tests and the resume logic need. Fields are written in the order given; zero
//! values are written too (harmless for proto3 readers, and simpler than omitting them).

/// A message being built: its encoded bytes.
#[derive(Default, Clone)]
pub(crate) struct Message(pub Vec<u8>);

/// Wire types.
const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const BYTES: u64 = 2;
const FIXED32: u64 = 5;

impl Message {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn key(&mut self, field: u32, wire: u64) {
        varint(&mut self.0, (u64::from(field) << 3) | wire);
    }

    /// An `int32`, `int64`, `bool` or enum field (non-negative values only).
    pub(crate) fn uint(mut self, field: u32, value: u64) -> Self {
        self.key(field, VARINT);
        varint(&mut self.0, value);
        self
    }

    pub(crate) fn double(mut self, field: u32, value: f64) -> Self {
        self.key(field, FIXED64);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn float(mut self, field: u32, value: f32) -> Self {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub(crate) fn bytes(mut self, field: u32, value: &[u8]) -> Self {
        self.key(field, BYTES);
        varint(&mut self.0, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    pub(crate) fn string(self, field: u32, value: &str) -> Self {
        self.bytes(field, value.as_bytes())
    }

    pub(crate) fn message(self, field: u32, value: &Message) -> Self {
        self.bytes(field, &value.0)
    }

    /// A packed `repeated double` field.
    pub(crate) fn doubles(self, field: u32, values: &[f64]) -> Self {
        let packed: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.bytes(field, &packed)
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One field of an encoded message, as read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

impl Field<'_> {
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Field::Fixed64(b) => Some(f64::from_le_bytes(*b)),
            _ => None,
        }
    }

    pub(crate) fn as_f32(&self) -> Option<f32> {
        match self {
            Field::Fixed32(b) => Some(f32::from_le_bytes(*b)),
            _ => None,
        }
    }
}

/// The `(field number, value)` pairs of an encoded message, or `None` if it is malformed.
pub(crate) fn fields(mut bytes: &[u8]) -> Option<Vec<(u32, Field<'_>)>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        let field = u32::try_from(key >> 3).ok()?;
        let value = match key & 7 {
            VARINT => Field::Varint(read_varint(&mut bytes)?),
            FIXED64 => Field::Fixed64(take(&mut bytes, 8)?.try_into().ok()?),
            BYTES => {
                let len = usize::try_from(read_varint(&mut bytes)?).ok()?;
                Field::Bytes(take(&mut bytes, len)?)
            }
            FIXED32 => Field::Fixed32(take(&mut bytes, 4)?.try_into().ok()?),
            _ => return None,
        };
        out.push((field, value));
    }
    Some(out)
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Some(head)
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        v |= u64::from(b & 0x7F) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_protobuf_does_and_reads_back() {
        // `Event { wall_time: 1.5, step: 3, summary { value { tag: "train/loss",
        // simple_value: 0.25 } } }` as Python's protobuf serializes it.
        let value = Message::new().string(1, "train/loss").float(2, 0.25);
        let summary = Message::new().message(1, &value);
        let event = Message::new()
            .double(1, 1.5)
            .uint(2, 3)
            .message(5, &summary);
        let want = "09000000000000f83f10032a130a110a0a747261696e2f6c6f7373150000803e";
        let got: String = event.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
        let f = fields(&event.0).unwrap();
        assert_eq!(f[0].1.as_f64(), Some(1.5));
        assert_eq!(f[1], (2, Field::Varint(3)));
        assert_eq!(f[2].0, 5);
        let big = Message::new().uint(1, 300).uint(2, u64::MAX);
        let f = fields(&big.0).unwrap();
        assert_eq!(
            f,
            vec![(1, Field::Varint(300)), (2, Field::Varint(u64::MAX))]
        );
        assert_eq!(
            fields(&[0x0a, 0x05, 1]),
            None,
            "a field longer than the message"
        );
    }
}
