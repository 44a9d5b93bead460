//! The runner's rooms depend one way (cli → analyze, report → run → store → experiment), and
//! in no crate of the workspace do source files import each other, directly or around a longer
//! cycle: checked on the source itself, parsed with `syn` (`layering/imports.rs`), so that a
//! `use` that points the wrong way fails the tests instead of waiting for a reviewer.

#[path = "layering/imports.rs"]
mod imports;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use imports::{imports, show, Import, Module};

/// The rooms from the lowest; a room may use the rooms below it (analyze and report share a
/// rank and use neither each other).
const ROOMS: [(&str, usize); 6] = [
    ("experiment", 0),
    ("store", 1),
    ("run", 2),
    ("report", 3),
    ("analyze", 3),
    ("cli", 4),
];

/// Every `.rs` file under `dir`, by its module path (`["store", "recorder"]`), with its text.
/// `main.rs` is left out: it is the binary's own crate, which reaches the library only as
/// `highway_runner::…`.
fn sources(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut module = prefix.to_vec();
        if path.is_dir() {
            module.push(name);
            sources(&path, &module, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !(prefix.is_empty() && name == "main")
        {
            if !["mod", "lib"].contains(&name.as_str()) {
                module.push(name);
            }
            out.insert(module, fs::read_to_string(&path).unwrap());
        }
    }
}

/// Each crate of the workspace (`crates/<name>/src`) by name, with its imports.
fn workspace() -> BTreeMap<String, Vec<Import>> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(crates).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("src").is_dir() {
            let mut files = BTreeMap::new();
            sources(&dir.join("src"), &[], &mut files);
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            out.insert(name, imports(&files).unwrap());
        }
    }
    out
}

fn rank(module: &[String]) -> Option<usize> {
    let room = module.first()?;
    ROOMS.iter().find(|(r, _)| r == room).map(|&(_, n)| n)
}

/// The imports that point to a higher room, or across to the other room of the same rank.
fn wrong_way(imports: &[Import]) -> Vec<String> {
    let mut out = Vec::new();
    for i in imports {
        if let (Some(a), Some(b)) = (rank(&i.from), rank(&i.to)) {
            if b > a || (a == b && i.from[0] != i.to[0]) {
                let (from, to) = (show(&i.from), show(&i.to));
                out.push(format!("{from} uses {to} ({})", i.written));
            }
        }
    }
    out
}

/// Each group of files that import each other around a cycle, shown by its shortest cycle:
/// `a uses b (how), which uses a (how)`. A crate has a few hundred files at most, so what each
/// one reaches is simply walked.
fn cycles(imports: &[Import]) -> Vec<String> {
    let mut next: BTreeMap<&Module, BTreeMap<&Module, &str>> = BTreeMap::new();
    for i in imports {
        next.entry(&i.from)
            .or_default()
            .entry(&i.to)
            .or_insert(&i.written);
    }
    let reach = |start: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(m) = todo.pop() {
            for &n in next.get(m).into_iter().flat_map(|n| n.keys()) {
                if seen.insert(n) {
                    todo.push(n);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Module, BTreeSet<&Module>> =
        next.keys().map(|&m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for (&m, from_m) in &reached {
        if done.contains(m) || !from_m.contains(m) {
            continue;
        }
        let group: BTreeSet<&Module> = from_m
            .iter()
            .copied()
            .filter(|n| reached.get(n).is_some_and(|r| r.contains(m)))
            .collect();
        done.extend(group.iter().copied());
        out.push(shortest_cycle(m, &group, &next));
    }
    out
}

/// The shortest cycle from `start` back to it within `group`, as a sentence.
fn shortest_cycle(
    start: &Module,
    group: &BTreeSet<&Module>,
    next: &BTreeMap<&Module, BTreeMap<&Module, &str>>,
) -> String {
    let mut came_from: BTreeMap<&Module, &Module> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    'search: while let Some(m) = queue.pop_front() {
        for &n in next[m].keys().filter(|n| group.contains(*n)) {
            if !came_from.contains_key(n) {
                came_from.insert(n, m);
                if n == start {
                    break 'search;
                }
                queue.push_back(n);
            }
        }
    }
    let mut path = vec![start];
    while path.len() == 1 || path.last() != Some(&start) {
        path.push(came_from[path.last().unwrap()]);
    }
    path.reverse();
    let mut text = show(start);
    for (step, pair) in path.windows(2).enumerate() {
        let glue = if step == 0 { " uses" } else { ", which uses" };
        text += &format!("{glue} {} ({})", show(pair[1]), next[pair[0]][pair[1]]);
    }
    if group.len() + 1 > path.len() {
        let all: Vec<String> = group.iter().map(|m| show(m)).collect();
        text += &format!("; the files {} all reach each other", all.join(", "));
    }
    text
}

#[test]
fn the_runners_rooms_depend_one_way() {
    let crates = workspace();
    let runner = &crates["runner"];
    let files: BTreeSet<&Module> = runner.iter().map(|i| &i.from).collect();
    assert!(
        files.len() > 50,
        "only {} files import anything",
        files.len()
    );
    let upward = wrong_way(runner);
    assert!(upward.is_empty(), "{upward:#?}");
}

#[test]
fn no_source_files_import_each_other_in_any_crate() {
    let crates = workspace();
    let names: Vec<&String> = crates.keys().collect();
    assert!(
        ["data", "model", "rng", "runner"]
            .iter()
            .all(|c| crates.contains_key(*c)),
        "the crates found: {names:?}"
    );
    let found: Vec<String> = crates
        .iter()
        .flat_map(|(name, i)| cycles(i).into_iter().map(move |c| format!("{name}: {c}")))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

/// Sources given in memory, by module path (`""` for the crate root).
fn in_memory(files: &[(&str, &str)]) -> BTreeMap<Module, String> {
    let module = |s: &str| {
        s.split("::")
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    };
    files
        .iter()
        .map(|(m, text)| (module(m), text.to_string()))
        .collect()
}

/// The modules each file imports, as `from -> to` lines.
fn edges(files: &[(&str, &str)]) -> BTreeSet<String> {
    let found = imports(&in_memory(files)).unwrap();
    found
        .iter()
        .map(|i| format!("{} -> {}", show(&i.from), show(&i.to)))
        .collect()
}

/// The cycle that the textual check of old could not see: a brace import, and a name that the
/// folder's `mod.rs` re-exports.
#[test]
fn a_brace_import_that_closes_a_cycle_is_reported() {
    let files = in_memory(&[
        ("", "pub mod store;"),
        (
            "store",
            "mod files; mod run_dir; mod running; mod status;\n\
             pub use status::{State, Status};\npub use run_dir::RunDir;",
        ),
        ("store::files", "pub fn write_json() {}"),
        ("store::status", "pub struct Status; pub enum State {}"),
        (
            "store::run_dir",
            "use super::{files, Status};\npub(crate) const STATUS: &str = \"status.json\";\n\
             pub struct RunDir;\nfn write(_: Status) { let _g = super::running::status_write(); }",
        ),
        (
            "store::running",
            "use super::{files, run_dir::STATUS, State};\npub fn status_write() {}",
        ),
    ]);
    let found = cycles(&imports(&files).unwrap());
    assert_eq!(
        found,
        [
            "store::run_dir uses store::running (super::running::status_write), \
          which uses store::run_dir (super::run_dir::STATUS)"
        ]
    );
}

#[test]
fn a_longer_cycle_is_reported_by_its_files() {
    let files = in_memory(&[
        ("", "mod a; mod b; mod c;"),
        ("a", "use crate::{b::{self, B}};"),
        ("b", "fn f() -> crate::c::C { todo!() }"),
        ("c", "use super::a::*;"),
    ]);
    let found = cycles(&imports(&files).unwrap());
    assert_eq!(
        found,
        ["a uses b (crate::b), which uses c (crate::c::C), which uses a (super::a)"]
    );
}

/// Braces, nested braces, `self`, globs, renames, paths in code, macros and attributes each
/// import; `#[cfg(test)]` items and doc comments do not; a re-export leads to its file.
#[test]
fn every_form_of_import_is_read() {
    let found = edges(&[
        (
            "",
            "mod a; mod b; mod c; mod d; mod e; mod f; mod g; mod h; mod t;\npub use d::D;",
        ),
        (
            "a",
            "//! [`crate::t`] is no import.\n\
             use crate::{b::{self, inner::{X as Y}}, c::*};\nuse super::D;\n\
             #[derive(serde::Deserialize)]\n\
             struct S { #[serde(default = \"crate::e::yes\")] x: bool }\n\
             fn f(_: crate::f::F) { crate::g::G::new(); println!(\"{}\", crate::h::N); }\n\
             #[cfg(test)]\nmod tests { use crate::t::T; }",
        ),
        ("b", ""),
        ("b::inner", "pub struct X;"),
        ("c", ""),
        ("d", "pub struct D;"),
        ("e", ""),
        ("f", ""),
        ("g", ""),
        ("h", ""),
        ("t", ""),
    ]);
    let want = ["b", "b::inner", "c", "d", "e", "f", "g", "h"].map(|m| format!("a -> {m}"));
    assert_eq!(found, want.into());
}

#[test]
fn a_wrong_way_use_is_reported() {
    let files = in_memory(&[
        ("", "mod store; mod run; mod report; mod analyze;"),
        ("store", "mod status;"),
        ("store::status", "use crate::run::{sweep::Trained};"),
        ("run", "mod sweep;"),
        ("run::sweep", "pub struct Trained;"),
        ("report", "pub fn table() {}"),
        ("analyze", "fn f() { super::report::table(); }"),
    ]);
    let found = wrong_way(&imports(&files).unwrap());
    assert_eq!(
        found,
        [
            "analyze uses report (super::report::table)",
            "store::status uses run::sweep (crate::run::sweep::Trained)"
        ]
    );
}
