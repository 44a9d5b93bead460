//! Standard output for command results. A reader that goes away early (`highway plan | head`)
//! ends the process quietly, as it ends `cat`, instead of a panic in `println!`.

use std::io::{ErrorKind, Write};

/// Writes `text` and a newline to standard output; exits with status 0 when the reader has
/// closed the pipe, and with 1 on any other write error.
pub(super) fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// The files a command wrote, one per line.
pub(super) fn paths(paths: Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for path in paths {
        line(&path.display().to_string());
    }
    Ok(())
}

/// `println!` through [`line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(&format!($($arg)*))
    };
}
pub(crate) use outln;
