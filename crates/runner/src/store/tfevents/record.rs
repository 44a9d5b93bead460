//! TensorFlow's record framing: each record is its length (u64, little-endian), the masked
//! CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.

use super::crc32c::masked;

/// `data` framed as one record.
pub(crate) fn frame(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked(data).to_le_bytes());
    out
}

/// The records of a file, in order, and the byte length of the valid prefix. Reading stops at
/// the first record that is cut short or fails its checksum: a writer killed mid-record leaves
/// such a tail, and everything before it is intact.
pub(crate) fn read(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some((data, next)) = one(bytes, at) {
        records.push(data);
        at = next;
    }
    (records, at)
}

/// The record at offset `at` and the offset after it, or `None` if there is no whole, valid one.
fn one(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let word = |from: usize, n: usize| bytes.get(from..from.checked_add(n)?);
    let len_bytes = word(at, 8)?;
    let len_crc = u32::from_le_bytes(word(at + 8, 4)?.try_into().ok()?);
    if masked(len_bytes) != len_crc {
        return None;
    }
    let len = usize::try_from(u64::from_le_bytes(len_bytes.try_into().ok()?)).ok()?;
    let data = word(at + 12, len)?;
    let end = at + 12 + len;
    let data_crc = u32::from_le_bytes(word(end, 4)?.try_into().ok()?);
    (masked(data) == data_crc).then_some((data, end + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_and_a_torn_tail_is_dropped() {
        let mut file = frame(b"first");
        file.extend(frame(b""));
        file.extend(frame(&[7u8; 300]));
        let whole = file.len();
        let (records, valid) = read(&file);
        assert_eq!(records, vec![&b"first"[..], &b""[..], &[7u8; 300][..]]);
        assert_eq!(valid, whole);
        // Cut inside the last record, and flip a byte of the second: only intact records.
        let (records, valid) = read(&file[..whole - 5]);
        assert_eq!(records.len(), 2);
        assert_eq!(valid, 5 + 16 + 16);
        file[5 + 16 + 3] ^= 1;
        assert_eq!(read(&file).0, vec![&b"first"[..]]);
    }

    #[test]
    fn matches_a_record_written_by_tensorboard() {
        // Written by TensorBoard 2.21's own `RecordWriter` for the serialized event
        // `Event { wall_time: 1.5, step: 3, summary { value { tag: "train/loss",
        // simple_value: 0.25 } } }`.
        let event = hex("09000000000000f83f10032a130a110a0a747261696e2f6c6f7373150000803e");
        let want = hex("200000000000000029eda950\
             09000000000000f83f10032a130a110a0a747261696e2f6c6f7373150000803e\
             43301b92");
        assert_eq!(frame(&event), want);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
