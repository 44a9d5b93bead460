//! `highway data fetch|verify|inspect`.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::out::outln;
use anyhow::{bail, Result};
use clap::Subcommand;
use highway_data::{fetch, files, sources, DatasetName};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub(super) enum DataCommand {
    /// Download a dataset's official files, check their MD5s, and unpack them.
    Fetch {
        /// mnist, fashion-mnist, cifar10 or cifar100.
        dataset: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A mirror that serves the official file names (default: the official address).
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Check a dataset on disk: files present, checksums or sizes, contents readable.
    Verify {
        dataset: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// What data files (.npy, .npz, .csv, .safetensors) hold: each array's shape and type, the
    /// range of its values, its class counts where it reads as labels, and the file's MD5 (the
    /// fingerprint a run records).
    Inspect {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A CSV file's label column (without it, every column is a feature).
        #[arg(long, default_value = "y")]
        labels: String,
    },
}

fn dataset(name: &str) -> Result<DatasetName> {
    let d: DatasetName = name.parse()?;
    match d {
        DatasetName::Synthetic => bail!("synthetic data is generated, not fetched"),
        DatasetName::Files => bail!(
            "the files dataset is your own files: `highway data inspect FILE` shows what they hold"
        ),
        _ => Ok(d),
    }
}

pub(super) fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Fetch {
            dataset: name,
            data_dir,
            mirror,
        } => {
            let name = dataset(&name)?;
            let dir = highway_data::data_dir(data_dir.as_deref());
            let (official, _) = sources::official(name);
            let base = mirror.unwrap_or_else(|| official.to_string());
            let bar = ProgressBar::new(0);
            if std::io::stderr().is_terminal() {
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
            } else {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let mut current = String::new();
            fetch::fetch(name, &dir, &base, &mut |url, done, total| {
                if url != current {
                    current = url.to_string();
                    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
                    if !std::io::stderr().is_terminal() {
                        eprintln!("downloading {url}");
                    }
                }
                bar.set_length(total.unwrap_or(done));
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            for check in fetch::verify(name, &dir)? {
                outln!("{}: {}", check.path.display(), check.verdict);
            }
            outln!("{name} is ready in {}", dir.join(name.folder()).display());
            Ok(())
        }
        DataCommand::Verify {
            dataset: name,
            data_dir,
        } => {
            let name = dataset(&name)?;
            let dir = highway_data::data_dir(data_dir.as_deref());
            for check in fetch::verify(name, &dir)? {
                outln!("{}: {}", check.path.display(), check.verdict);
            }
            outln!("{name}: ok");
            Ok(())
        }
        DataCommand::Inspect { paths, labels } => {
            for path in paths {
                print_inspection(&files::inspect(&path, &labels)?);
            }
            Ok(())
        }
    }
}

/// One file's arrays, a line each, under its path, format and MD5.
fn print_inspection(i: &files::Inspection) {
    outln!("{}", i.path.display());
    outln!("  format {}, MD5 {}", i.format.as_str(), i.md5);
    for a in &i.arrays {
        let examples = a.shape.first().copied().unwrap_or(1);
        let per_example: usize = a.shape.iter().skip(1).product();
        let range = match a.range {
            Some((lo, hi)) => format!("range [{lo}, {hi}]"),
            None => "no finite values".to_string(),
        };
        let non_finite = match a.non_finite {
            0 => String::new(),
            k => format!(", {k} NaN or infinite"),
        };
        outln!(
            "  {}: shape {:?}, dtype {} ({examples} examples × {per_example} values), {range}{non_finite}",
            a.name,
            a.shape,
            a.dtype
        );
        if let Some(counts) = &a.class_counts {
            let counts: Vec<String> = counts
                .iter()
                .enumerate()
                .map(|(c, n)| format!("{c}: {n}"))
                .collect();
            outln!(
                "    as labels, {} classes: {}",
                counts.len(),
                counts.join(", ")
            );
        }
    }
}
