//! The documentation a newcomer walks: every relative link and `#anchor` in `README.md`,
//! `docs/`, `CHANGELOG.md` and `results/` resolves, every JSON example of the docs is valid JSON
//! (no comments), every complete config they show (a fenced block marked `json config`) plans
//! with the real binary, and the README stays short.

mod common;
use common::*;

/// The repository's root (the runner crate is `crates/runner`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The Markdown files whose links are checked.
fn markdown_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    for dir in ["docs", "results"] {
        walk(&root.join(dir), &mut files);
    }
    files
}

/// The Markdown files that teach (the README and `docs/`), whose JSON examples are checked.
fn teaching_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut files);
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// A fenced code block: its info string (` ```json config ` gives `json config`) and text.
struct Block {
    info: String,
    text: String,
    line: usize,
}

/// Splits a Markdown file into its prose lines (with code blocks blanked, so that their lines
/// keep their numbers) and its fenced code blocks.
fn split(markdown: &str) -> (Vec<String>, Vec<Block>) {
    let mut prose = Vec::new();
    let mut blocks = Vec::new();
    // The open block's fence (its run of ` or ~) and the block so far.
    let mut open: Option<(String, Block)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence: String = match line.len() - trimmed.len() <= 3 {
            true => trimmed
                .chars()
                .take_while(|&c| c == '`' || c == '~')
                .collect(),
            false => String::new(),
        };
        let first = fence.chars().next();
        let is_fence = fence.len() >= 3 && fence.chars().all(|c| Some(c) == first);
        let mut close = false;
        match open.as_mut() {
            Some((marker, block)) => {
                close = is_fence
                    && first == marker.chars().next()
                    && fence.len() >= marker.len()
                    && trimmed.trim_end().len() == fence.len();
                if !close {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
                prose.push(String::new());
            }
            None if is_fence => {
                let info = trimmed[fence.len()..].trim().to_string();
                let block = Block {
                    info,
                    text: String::new(),
                    line: i + 1,
                };
                open = Some((fence, block));
                prose.push(String::new());
            }
            None => prose.push(line.to_string()),
        }
        if close {
            blocks.push(open.take().unwrap().1);
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    (prose, blocks)
}

/// `line` without its inline code spans (`` `a](b)` `` is not a link).
fn without_code(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of the inline links and images on a line, and of a reference definition.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut targets = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some(close) = trimmed.find("]:") {
            let target = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
            targets.push(target.trim_matches(['<', '>']).to_string());
        }
    }
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let mut depth = 1;
        let end = after.char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i)
        });
        let Some(end) = end else { break };
        let inner = after[..end].trim();
        // A title after the address: `[a](b "title")`.
        let target = inner.split_whitespace().next().unwrap_or("");
        targets.push(target.trim_matches(['<', '>']).to_string());
        rest = &after[end..];
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation removed, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a Markdown file has: its headings' slugs (a repeated one gets `-1`, `-2`, as
/// on GitHub) and explicit `id="…"` / `name="…"` anchors.
fn anchors(markdown: &str) -> Vec<String> {
    let (prose, _) = split(markdown);
    let mut out: Vec<String> = Vec::new();
    for line in &prose {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let text = line[hashes..].trim().trim_end_matches('#').trim();
            let base = slug(text);
            let mut anchor = base.clone();
            let mut n = 0;
            while out.contains(&anchor) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            out.push(anchor);
        }
        for attr in ["id=\"", "name=\""] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(attr) {
                let after = &rest[at + attr.len()..];
                let end = after.find('"').unwrap_or(after.len());
                out.push(after[..end].to_string());
                rest = &after[end..];
            }
        }
    }
    out
}

/// Every relative link resolves to a file or folder of the repository, and every `#anchor`
/// (in the same file or in another Markdown file) to a heading there.
#[test]
fn every_link_in_the_docs_resolves() {
    let root = root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = fs::read_to_string(&file).unwrap();
        let (prose, _) = split(&text);
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for (i, line) in prose.iter().enumerate() {
            for target in link_targets(line) {
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let path = path.replace("%20", " ");
                let dest = match path.as_str() {
                    "" => file.clone(),
                    p if p.starts_with('/') => root.join(&p[1..]),
                    p => file.parent().unwrap().join(p),
                };
                let at = format!("{name}:{}: {target}", i + 1);
                if !dest.exists() {
                    broken.push(format!("{at}: no such file"));
                    continue;
                }
                let Some(anchor) = anchor else { continue };
                if dest.extension().is_some_and(|e| e == "md") {
                    let there = anchors(&fs::read_to_string(&dest).unwrap());
                    if !there.iter().any(|a| a == anchor) {
                        broken.push(format!("{at}: no heading with the anchor #{anchor}"));
                    }
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The blocks of the README and `docs/` whose info string starts with `json`, by file.
fn json_blocks() -> Vec<(String, Block)> {
    let root = root();
    let mut out = Vec::new();
    for file in teaching_files() {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let (_, blocks) = split(&fs::read_to_string(&file).unwrap());
        for block in blocks {
            if block
                .info
                .split_whitespace()
                .next()
                .is_some_and(|w| w == "json" || w == "jsonc")
            {
                out.push((name.clone(), block));
            }
        }
    }
    out
}

/// Every JSON example is JSON: pasting it never fails on a comment or a `…`.
#[test]
fn every_json_example_is_valid_json() {
    let blocks = json_blocks();
    assert!(blocks.len() >= 5, "only {} JSON blocks found", blocks.len());
    let bad: Vec<String> = blocks
        .iter()
        .filter_map(|(file, b)| {
            let err = match b.info.starts_with("jsonc") {
                true => Some("jsonc: the docs show JSON without comments".to_string()),
                false => serde_json::from_str::<serde_json::Value>(&b.text)
                    .err()
                    .map(|e| e.to_string()),
            };
            err.map(|e| format!("{file}:{}: {e}", b.line))
        })
        .collect();
    assert!(bad.is_empty(), "invalid JSON examples:\n{}", bad.join("\n"));
}

/// Every complete config the docs show (`json config`) pastes and runs: `highway plan` takes
/// it as it stands, without the data (plan reads none).
#[test]
fn every_complete_config_in_the_docs_plans() {
    let configs: Vec<(String, Block)> = json_blocks()
        .into_iter()
        .filter(|(_, b)| b.info.split_whitespace().nth(1) == Some("config"))
        .collect();
    assert!(
        configs.iter().any(|(file, _)| file == "docs/config.md"),
        "the config reference shows no complete config (a block marked `json config`)"
    );
    let dir = tmp("docs");
    let empty = dir.join("no-data");
    fs::create_dir(&empty).unwrap();
    for (i, (file, block)) in configs.iter().enumerate() {
        let path = dir.join(format!("config-{i}.json"));
        fs::write(&path, &block.text).unwrap();
        let out = bin()
            .args(["plan", path.to_str().unwrap()])
            .current_dir(&*dir)
            .env("HIGHWAY_DATA", &empty)
            .output()
            .unwrap();
        let said = text(&out);
        assert!(
            out.status.success() && said.contains(" runs"),
            "{file}:{}: `highway plan` refused the config:\n{said}",
            block.line
        );
    }
    // `plan` writes nothing: the temporary folder holds only what the test put there.
    let mut left: Vec<String> = fs::read_dir(&*dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut want: Vec<String> = (0..configs.len())
        .map(|i| format!("config-{i}.json"))
        .collect();
    want.push("no-data".into());
    want.sort();
    assert_eq!(left, want);
}

/// The code block of `file` (under the root) whose info string is `info` and whose text
/// contains `marker`.
fn block_of(file: &str, info: &str, marker: &str) -> String {
    let (_, blocks) = split(&fs::read_to_string(root().join(file)).unwrap());
    (blocks.into_iter())
        .find(|b| b.info == info && b.text.contains(marker))
        .unwrap_or_else(|| panic!("{file}: no `{info}` block with {marker:?}"))
        .text
}

/// `highway ARGS` in `dir` on one thread: it must succeed; what it said.
fn sweep_in(dir: &Path, args: &[&str]) -> String {
    let o = bin()
        .args(args)
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "highway {args:?}: {}", text(&o));
    text(&o)
}

/// The worked examples run as written: the NumPy files made by the three-line script and the
/// config beside them, the same with the CSV shown, and the grid with a value added.
#[test]
fn the_worked_examples_run_as_written() {
    let dir = tmp("docs-examples");
    // The grid: 8 runs, then 4 more for a third learning rate.
    let grid = block_of("docs/search.md", "json config", "\"grid\"");
    fs::write(dir.join("grid.json"), grid).unwrap();
    sweep_in(&dir, &["sweep", "grid.json"]);
    let more = sweep_in(
        &dir,
        &["sweep", "grid.json", "--grid", "training.lr=0.01,0.1,1"],
    );
    assert!(more.contains("8 of 12 runs already finished"), "{more}");
    assert!(dir
        .join("results/grid/points/gate_bias=-3-lr=1/summary.md")
        .exists());
    // The CSV, its rows as shown, with the dataset section shown and the rest of the config.
    let config = block_of("docs/data.md", "json config", "train.npz");
    let mut csv_config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let section: serde_json::Value =
        serde_json::from_str(&block_of("docs/data.md", "json", "train.csv")).unwrap();
    csv_config["dataset"] = section["dataset"].clone();
    csv_config["name"] = "my-csv".into();
    fs::create_dir(dir.join("my-data")).unwrap();
    let rows = block_of("docs/data.md", "", "f0,f1");
    for split in ["train.csv", "test.csv"] {
        fs::write(dir.join("my-data").join(split), &rows).unwrap();
    }
    fs::write(dir.join("my-csv.json"), csv_config.to_string()).unwrap();
    sweep_in(&dir, &["sweep", "my-csv.json"]);
    // NumPy's files, where a Python with numpy is found.
    let Some(python) = python_with_numpy() else {
        return;
    };
    let script = block_of("docs/data.md", "python", "np.savez");
    let o = Command::new(python)
        .args(["-c", &script])
        .current_dir(&*dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    fs::write(dir.join("my-data.json"), config).unwrap();
    sweep_in(&dir, &["sweep", "my-data.json"]);
    let rows = summary_rows(&dir.join("results/my-data"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r[col("state")] == "done"), "{rows:?}");
}

/// The README is a walk, not a reference: at most 250 lines, with its two set-up commands
/// (`.ci/run` runs the second) and the install line.
#[test]
fn the_readme_is_short_and_keeps_its_commands() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; the reference belongs in docs/"
    );
    for command in [
        "cargo run --release -p highway-runner -- sweep configs/quickstart.json",
        "cargo test --release --workspace",
        "cargo install --path crates/runner --locked",
    ] {
        assert!(readme.contains(command), "README.md lacks `{command}`");
    }
}

#[test]
fn the_link_parser_sees_links_and_skips_code() {
    assert_eq!(
        link_targets("see [a](docs/a.md#x-y) and ![b](f.svg \"t\"), not `[c](d)`"),
        vec!["docs/a.md#x-y", "f.svg"]
    );
    assert_eq!(link_targets("[ref]: ../b.md"), vec!["../b.md"]);
    assert_eq!(
        slug("Overriding fields: `--set`"),
        "overriding-fields---set"
    );
    assert_eq!(
        slug("Choosing b_T for deep nets"),
        "choosing-b_t-for-deep-nets"
    );
    assert_eq!(
        anchors("# A\n```\n# not a heading\n```\n## A\n"),
        vec!["a", "a-1"]
    );
}
