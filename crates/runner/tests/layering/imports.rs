//! Every import of one crate's source files, read with `syn` rather than by matching text: a
//! brace import (`use super::{files, run_dir::STATUS}`), nested braces, `self`, a glob, a
//! rename, a path in an expression or a type (`crate::store::RunDir::new(..)`), one inside a
//! macro call and one named in an attribute's string (`#[serde(default = "super::config::yes")]`)
//! each count as an import of the module they reach.
//!
//! A name that a module re-exports or imports (`pub use status::Status` in `store/mod.rs`) is
//! followed to the file that defines it, so `super::Status` is an import of `status.rs` and not
//! of the folder's `mod.rs`. A `mod.rs`'s own `pub use` of the files below it is how the folder
//! is entered, not a dependency of the folder on them. Items under `#[cfg(test)]` and doc
//! comments import nothing.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// The words a path within the crate starts with, besides a module's own name.
const ROOTS: [&str; 3] = ["crate", "self", "super"];

/// A module by its path from the crate root (`["store", "run_dir"]`; `lib.rs` is `[]`).
pub type Module = Vec<String>;

/// One file's import of another module of its crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    pub from: Module,
    pub to: Module,
    /// The path as the file names it, braces opened (`super::run_dir::STATUS`).
    pub written: String,
}

/// A module's path as messages show it (`crate` for the root).
pub fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// The imports among the modules of one crate, given each file's text by its module.
pub fn imports(files: &BTreeMap<Module, String>) -> Result<Vec<Import>, String> {
    let mut named = BTreeMap::new();
    for (module, text) in files {
        let file = syn::parse_file(text).map_err(|e| format!("{}: {e}", show(module)))?;
        let mut collector = Collector {
            scope: module.clone(),
            out: Vec::new(),
        };
        collector.visit_file(&file);
        named.insert(module.clone(), collector.out);
    }
    let krate = Crate::new(files.keys().cloned().collect(), &named);
    let mut out = BTreeSet::new();
    for (from, list) in &named {
        for n in list {
            let Some(to) = krate
                .absolute(&n.scope, &n.path)
                .map(|a| krate.resolve(&a, 0))
            else {
                continue;
            };
            let entrance = n.reexport && to.len() > from.len() && to.starts_with(from);
            if to != *from && !entrance {
                let written = n.path.join("::");
                out.insert(Import {
                    from: from.clone(),
                    to,
                    written,
                });
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// A path a file names, from the module it is named in (an inline `mod` changes what `self`
/// and `super` mean).
struct Named {
    scope: Module,
    path: Vec<String>,
    /// The name a `use` makes visible (`LOCK_WAIT` in `use lock_file::WAIT as LOCK_WAIT`).
    alias: Option<String>,
    /// A `use` with a visibility: the name is re-exported.
    reexport: bool,
}

/// The crate's modules, and the names each one's `use`s make visible there.
struct Crate {
    modules: BTreeSet<Module>,
    names: BTreeMap<Module, BTreeMap<String, Vec<String>>>,
}

impl Crate {
    fn new(modules: BTreeSet<Module>, named: &BTreeMap<Module, Vec<Named>>) -> Crate {
        let mut krate = Crate {
            modules,
            names: BTreeMap::new(),
        };
        for n in named.values().flatten() {
            if let (Some(alias), Some(target)) = (&n.alias, krate.absolute(&n.scope, &n.path)) {
                let names = krate.names.entry(n.scope.clone()).or_default();
                names.insert(alias.clone(), target);
            }
        }
        krate
    }

    /// `path` from the crate root, when it names something of this crate: it starts with
    /// `crate`, `self`, `super` or a module below `scope`.
    fn absolute(&self, scope: &[String], path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        let mut base = scope.to_vec();
        let rest = match first.as_str() {
            "crate" => {
                base.clear();
                &path[1..]
            }
            "self" => &path[1..],
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                base.truncate(base.len().checked_sub(ups)?);
                &path[ups..]
            }
            _ => {
                let mut child = base.clone();
                child.push(first.clone());
                if !self.modules.contains(&child) {
                    return None;
                }
                path
            }
        };
        base.extend_from_slice(rest);
        Some(base)
    }

    /// The file that defines what `absolute` names: the longest module it starts with, or, when
    /// the next name is one that module imports, where that name comes from.
    fn resolve(&self, absolute: &[String], hops: usize) -> Module {
        let depth = (0..=absolute.len())
            .rev()
            .find(|&n| self.modules.contains(&absolute[..n]))
            .unwrap_or(0);
        let module = absolute[..depth].to_vec();
        let imported = absolute
            .get(depth)
            .and_then(|name| self.names.get(&module)?.get(name));
        match imported {
            Some(target) if hops < 8 => {
                let mut next = target.clone();
                next.extend_from_slice(&absolute[depth + 1..]);
                self.resolve(&next, hops + 1)
            }
            _ => module,
        }
    }
}

/// Walks one file, collecting the paths it names.
struct Collector {
    scope: Module,
    out: Vec<Named>,
}

impl Collector {
    fn name(&mut self, path: Vec<String>, alias: Option<String>, reexport: bool) {
        let scope = self.scope.clone();
        self.out.push(Named {
            scope,
            path,
            alias,
            reexport,
        });
    }

    /// Each leaf of a `use` tree, braces opened, with the name it makes visible.
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>, reexport: bool) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(&p.tree, prefix, reexport);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.leaf(prefix, &n.ident, &n.ident, reexport),
            syn::UseTree::Rename(r) => self.leaf(prefix, &r.ident, &r.rename, reexport),
            syn::UseTree::Glob(_) => self.name(prefix.clone(), None, reexport),
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(item, prefix, reexport);
                }
            }
        }
    }

    /// `prefix::name as alias` (`self` names the prefix itself).
    fn leaf(&mut self, prefix: &[String], name: &syn::Ident, alias: &syn::Ident, reexport: bool) {
        let mut path = prefix.to_vec();
        if name != "self" {
            path.push(name.to_string());
        }
        let alias = if alias == "self" {
            prefix.last().cloned()
        } else {
            Some(alias.to_string())
        };
        self.name(path, alias, reexport);
    }

    /// The `crate::`, `self::` and `super::` paths in tokens that `syn` leaves unparsed (a
    /// macro's arguments, an attribute's), and those written as string literals.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(l) => {
                    let text = syn::parse_str::<syn::LitStr>(&l.to_string()).map(|s| s.value());
                    let path = text.ok().and_then(|t| syn::parse_str::<syn::Path>(&t).ok());
                    if let Some(path) = path.filter(rooted) {
                        self.visit_path(&path);
                    }
                }
                TokenTree::Ident(id) if ROOTS.contains(&id.to_string().as_str()) => {
                    let mut path = vec![id.to_string()];
                    while let [TokenTree::Punct(a), TokenTree::Punct(b), TokenTree::Ident(next), ..] =
                        &trees[i + 1..]
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push(next.to_string());
                        i += 3;
                    }
                    self.name(path, None, false);
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !test_only(item) {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if let Some((_, items)) = &item.content {
            self.scope.push(item.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if item.leading_colon.is_none() {
            let reexport = !matches!(item.vis, syn::Visibility::Inherited);
            self.use_tree(&item.tree, &mut Vec::new(), reexport);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let words = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.name(words, None, false);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let syn::Meta::List(list) = &attr.meta {
            self.tokens(list.tokens.clone());
        }
    }
}

/// A path that starts at the crate, the module or its parent.
fn rooted(path: &syn::Path) -> bool {
    let first = path.segments.first().map(|s| s.ident.to_string());
    first.is_some_and(|f| ROOTS.contains(&f.as_str()))
}

/// An item compiled only for tests (`#[cfg(test)]`): what it imports is no dependency.
fn test_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        matches!(&a.meta, syn::Meta::List(l) if l.path.is_ident("cfg") && l.tokens.to_string() == "test")
    })
}
