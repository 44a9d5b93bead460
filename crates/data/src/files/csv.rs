//! CSV with a header row: one column of labels, named in the config; every other column is a
//! feature. Cells are decimal numbers (spaces around them are ignored). Read as a stream: what
//! is held is what the rows hold, never more than the file can.

use std::path::Path;

use super::array::{Array, Out};
use crate::{regular, DataError, Result};

/// The features (one row per example, every column but `label`) and the labels of the CSV file
/// at `path`.
pub fn read<O: Out>(path: &Path, label: &str) -> Result<(Array<O>, Array<f64>)> {
    let (x, labels) = read_columns(path, Some(label))?;
    let y = Array {
        shape: vec![labels.len()],
        dtype: "text".into(),
        values: labels,
    };
    Ok((x, y))
}

/// Every column of the CSV file at `path` as features.
pub fn read_all<O: Out>(path: &Path) -> Result<Array<O>> {
    Ok(read_columns(path, None)?.0)
}

/// The features (every column but `label`, if given) and labels of the CSV file at `path`.
fn read_columns<O: Out>(path: &Path, label: Option<&str>) -> Result<(Array<O>, Vec<f64>)> {
    let invalid = |detail: String| DataError::Invalid {
        path: path.to_path_buf(),
        detail,
    };
    let file = regular::open_regular(path)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(::csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let header = reader
        .headers()
        .map_err(|e| invalid(format!("unreadable header row: {}", describe(&e))))?
        .clone();
    let label_at = label.map(|label| header.iter().position(|h| h == label));
    if let Some((None, label)) = label_at.zip(label) {
        return Err(invalid(format!(
            "no column named '{label}' in the header row (its columns: {}); name the label \
             column in the dataset's files section",
            header.iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let label_at = label_at.flatten();
    let columns = header.len() - usize::from(label_at.is_some());
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut record = ::csv::StringRecord::new();
    let mut n = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(invalid(describe(&e))),
        }
        n += 1;
        let line = record.position().map_or(0, |p| p.line());
        for (i, cell) in record.iter().enumerate() {
            let bad = || {
                invalid(format!(
                    "line {line}, column '{}': '{cell}' is not a number",
                    &header[i]
                ))
            };
            if Some(i) == label_at {
                labels.push(f64::parse(cell).ok_or_else(bad)?);
            } else {
                features.push(O::parse(cell).ok_or_else(bad)?);
            }
        }
    }
    let x = Array {
        shape: vec![n, columns],
        dtype: "text".into(),
        values: features,
    };
    Ok((x, labels))
}

/// A CSV error in words that name the row (its line in the file) and what is wrong.
fn describe(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} has {len} fields, but the header row has {expected_len}",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        ::csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {} is not UTF-8 text",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => e.to_string(),
    }
}

/// The column names of the CSV file at `path`.
pub fn columns(path: &Path) -> Result<Vec<String>> {
    let file = regular::open_regular(path)?;
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let header = reader.headers().map_err(|e| DataError::Invalid {
        path: path.to_path_buf(),
        detail: format!("unreadable header row: {}", describe(&e)),
    })?;
    Ok(header.iter().map(String::from).collect())
}
