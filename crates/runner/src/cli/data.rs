//! `highway data fetch|verify`.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::out::outln;
use anyhow::{bail, Result};
use clap::Subcommand;
use highway_data::{fetch, sources, DatasetName};
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
}

fn dataset(name: &str) -> Result<DatasetName> {
    let d: DatasetName = name.parse()?;
    if d == DatasetName::Synthetic {
        bail!("synthetic data is generated, not fetched");
    }
    Ok(d)
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
    }
}
