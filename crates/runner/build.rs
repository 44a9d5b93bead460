//! Embeds the git revision the binary is built from (`HIGHWAY_GIT_REVISION`), so that every
//! run records the code that made it, wherever the binary later runs. `-dirty` marks a build
//! from a tree with uncommitted changes to tracked files; without git (a source tarball) the
//! revision is `unknown`, or whatever `HIGHWAY_GIT_REVISION` says at build time.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=HIGHWAY_GIT_REVISION");
    if let Ok(given) = std::env::var("HIGHWAY_GIT_REVISION") {
        println!("cargo:rustc-env=HIGHWAY_GIT_REVISION={given}");
        return;
    }
    let revision = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=HIGHWAY_GIT_REVISION={revision}");
    // Again after a commit, a checkout, or an edit of any crate's sources.
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        for file in ["HEAD", "index", "refs", "packed-refs"] {
            let path = Path::new(&git_dir).join(file);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo:rerun-if-changed=..");
}
