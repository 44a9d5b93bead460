//! `spec.json`: what a run trained. The run's resolved settings from the plan, the net with the
//! dataset's input size and classes filled in, and the data it saw, with a fingerprint of the
//! files, so that a finished run is never kept as if it had been made on other data.
//!
//! One type writes and reads the file. Runs recorded before fingerprints existed have none
//! (`fingerprint` is then `None`), and they still read.

use highway_data::{Dataset, DatasetName, EvalSplit, Preprocess, SourceFile};
use highway_model::ModelConfig;
use serde::{Deserialize, Serialize};

use crate::experiment::RunSpec;

/// `spec.json` of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// The run as the plan has it (`model.input_size` and `model.classes` are 0 there).
    pub run: RunSpec,
    /// The net as trained: the plan's, with the dataset's input size and classes.
    pub model: ModelConfig,
    pub data: DataRecord,
}

/// What a run saw of its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    pub dataset: DatasetName,
    /// A hash of the data as loaded (`experiment::fingerprint`); `None` in runs made
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub train_examples: usize,
    pub eval_split: EvalSplit,
    pub eval_examples: usize,
    pub preprocess: Preprocess,
    /// Per channel: what was subtracted, and what the result was divided by.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// The files dataset's files as read: each path, MD5, and its arrays' shapes and types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<SourceFile>,
}

impl DataRecord {
    /// The files recorded here whose content differs from the files read `now`, each as
    /// "PATH (MD5 then, now MD5)"; a file no longer read is "PATH (not read now)".
    pub fn changed_files(&self, now: &[SourceFile]) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|then| match now.iter().find(|f| f.path == then.path) {
                Some(f) if f.md5 == then.md5 => None,
                Some(f) => Some(format!(
                    "{} (MD5 {}, now {})",
                    then.path.display(),
                    then.md5,
                    f.md5
                )),
                None => Some(format!("{} (not read now)", then.path.display())),
            })
            .collect()
    }
}

impl Spec {
    /// The spec of `run` trained on `data`, whose fingerprint is `fingerprint`.
    pub fn new(run: &RunSpec, data: &Dataset, fingerprint: &str) -> Spec {
        let mut model = run.model.clone();
        model.input_size = data.train.dim;
        model.classes = data.classes;
        Spec {
            run: run.clone(),
            model,
            data: DataRecord {
                dataset: data.name,
                fingerprint: Some(fingerprint.to_string()),
                train_examples: data.train.len(),
                eval_split: data.eval_kind,
                eval_examples: data.eval.len(),
                preprocess: data.normalization.method,
                mean: data.normalization.mean.clone(),
                std: data.normalization.std.clone(),
                files: data.sources.clone(),
            },
        }
    }

    /// The run's id.
    pub fn id(&self) -> &str {
        &self.run.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `spec.json` committed under `results/` reads as a [`Spec`] (the oldest have no
    /// fingerprint and no `checkpoint_every`) and reads back the same after it is written; one
    /// of today's format (with a fingerprint) is written back to the same JSON.
    #[test]
    fn every_committed_spec_reads_and_writes_back_unchanged() {
        let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        let mut read = 0;
        let mut without_fingerprint = 0;
        for sweep in std::fs::read_dir(&results).unwrap().flatten() {
            let Ok(runs) = std::fs::read_dir(sweep.path().join("runs")) else {
                continue;
            };
            for run in runs.flatten() {
                let path = run.path().join("spec.json");
                let text = std::fs::read_to_string(&path).unwrap();
                let spec: Spec = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let after = serde_json::to_value(&spec).unwrap();
                let back: Spec = serde_json::from_value(after.clone()).unwrap();
                assert_eq!(back, spec, "{}", path.display());
                if spec.data.fingerprint.is_some() {
                    let before: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(before, after, "{}", path.display());
                }
                without_fingerprint += usize::from(spec.data.fingerprint.is_none());
                read += 1;
            }
        }
        assert!(read >= 400, "only {read} committed specs found");
        assert!(without_fingerprint > 0 && without_fingerprint < read);
    }
}
