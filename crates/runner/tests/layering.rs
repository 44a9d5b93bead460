//! The runner's rooms depend one way (cli → analyze, report → run → store → experiment), and
//! no two source files import each other: checked on the source itself, so that a `use` that
//! points the wrong way fails the tests instead of waiting for a reviewer.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

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

/// Every `.rs` file under `dir`, by its module path (`["store", "recorder"]`), with its text
/// before any test module.
fn sources(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut module = prefix.to_vec();
        if path.is_dir() {
            module.push(name);
            sources(&path, &module, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if !["mod", "lib", "main"].contains(&name.as_str()) {
                module.push(name);
            }
            let text = fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap().to_string();
            out.insert(module, code);
        }
    }
}

/// The modules a file's code names through `crate::…` or `super::…`, resolved to the longest
/// module path that exists.
fn imports(
    module: &[String],
    code: &str,
    all: &BTreeMap<Vec<String>, String>,
) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for (root, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
        for (at, _) in code.match_indices(root) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + root.len()..];
            let mut path = base.clone();
            for part in rest.split("::") {
                let word: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if word.is_empty() {
                    break;
                }
                path.push(word.clone());
                if word.len() != part.len() {
                    break;
                }
            }
            while !path.is_empty() && !all.contains_key(&path) {
                path.pop();
            }
            if !path.is_empty() && path != module {
                out.insert(path);
            }
        }
    }
    out
}

/// The module `super` names from `module` (a file's module is its own path).
fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

fn rank(module: &[String]) -> Option<usize> {
    let room = module.first()?;
    ROOMS.iter().find(|(r, _)| r == room).map(|&(_, n)| n)
}

#[test]
fn rooms_depend_one_way_and_no_two_files_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = BTreeMap::new();
    sources(&src, &[], &mut all);
    assert!(all.len() > 50, "only {} source files found", all.len());
    let mut edges = BTreeSet::new();
    let mut upward = Vec::new();
    for (module, code) in &all {
        for target in imports(module, code, &all) {
            if let (Some(a), Some(b)) = (rank(module), rank(&target)) {
                let sibling_room = a == b && module[0] != target[0];
                if b > a || sibling_room {
                    upward.push(format!("{} uses {}", module.join("::"), target.join("::")));
                }
            }
            edges.insert((module.clone(), target));
        }
    }
    assert!(upward.is_empty(), "{upward:#?}");
    let mutual: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{} <-> {}", a.join("::"), b.join("::")))
        .collect();
    assert!(mutual.is_empty(), "{mutual:#?}");
}

/// The check itself sees an upward use and a cycle.
#[test]
fn the_check_sees_a_wrong_way_use_and_a_cycle() {
    let m = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    let all: BTreeMap<Vec<String>, String> = [
        (m("store"), String::new()),
        (m("store::status"), String::new()),
        (m("run"), String::new()),
        (m("run::sweep"), String::new()),
    ]
    .into();
    let found = imports(
        &m("store::status"),
        "use crate::run::sweep::Trained;\nuse super::status2;",
        &all,
    );
    assert_eq!(found, [m("run::sweep"), m("store")].into());
    assert!(rank(&m("run::sweep")) > rank(&m("store::status")));
}
