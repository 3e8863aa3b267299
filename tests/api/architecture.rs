//! The shape ARCHITECTURE.md promises, checked on the source: no two files of the library import
//! each other (directly or through others), nothing but `main` and `cli` imports start-up, and no
//! file holds more than about 800 lines (a longer one holds more than one concern).
//!
//! An import is any path a file names (`use` trees and inline paths): `crate::…`, `super::…`,
//! `self::…`, and in a `mod.rs` a path through one of its children. Each resolves to the deepest
//! file module it names. `mod x;` declarations are not imports; `#[cfg(test)]` code is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 850;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under src/ (`http/mod.rs` → [http], `lib.rs` → []).
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code without comments, string literals' contents and test-only modules.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        // Paths inside strings (format strings naming `crate::…`) are not imports.
        let mut in_str = false;
        for c in line.chars() {
            if c == '"' {
                in_str = !in_str;
                out.push(c);
            } else if !in_str {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// Every path of a `use` tree, flattened (`a::{b, c::d}` → `a::b`, `a::c::d`).
fn expand(prefix: &str, tree: &str, out: &mut Vec<String>) {
    match tree.find('{') {
        None => out.push(format!("{prefix}{tree}")),
        Some(open) => {
            let head = &tree[..open];
            let close = tree.rfind('}').unwrap_or(tree.len());
            let body = &tree[open + 1..close];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&format!("{prefix}{head}"), &body[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if start < body.len() {
                expand(&format!("{prefix}{head}"), &body[start..], out);
            }
        }
    }
}

/// Paths the code names: `use` trees and inline `a::b::c` paths.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        let after = &rest[i + 4..];
        if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
            if let Some(end) = after.find(';') {
                let tree: String = after[..end]
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                expand("", &tree, &mut paths);
            }
        }
        rest = after;
    }
    // Inline paths: identifiers joined by `::`.
    let bytes: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if ident(bytes[i]) && (i == 0 || (!ident(bytes[i - 1]) && bytes[i - 1] != ':')) {
            let start = i;
            while i < bytes.len()
                && (ident(bytes[i]) || (bytes[i] == ':' && bytes.get(i + 1) == Some(&':')))
            {
                i += if bytes[i] == ':' { 2 } else { 1 };
            }
            // `super::{a, b}` and `super::*` are use trees, read above: only a path that names
            // something after its last `::` counts here.
            let path: String = bytes[start..i].iter().collect();
            if path.contains("::") && !path.ends_with(':') {
                paths.push(path);
            }
        } else {
            i += 1;
        }
    }
    paths
}

struct Crate {
    /// File (relative to src/) → its code.
    files: BTreeMap<String, String>,
    /// Module path → file.
    modules: BTreeMap<Vec<String>, String>,
}

impl Crate {
    fn load() -> Crate {
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paths = Vec::new();
        source_files(&src, &mut paths);
        let mut files = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for p in paths {
            let rel = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p).expect("readable source");
            if rel != "main.rs" {
                modules.insert(module_of(&rel), rel.clone());
            }
            files.insert(rel, text);
        }
        Crate { files, modules }
    }

    /// The deepest file module a path from the crate root names.
    fn resolve(&self, path: &[String]) -> Option<&String> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]))
    }

    /// The files each file imports.
    fn imports(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut edges = BTreeMap::new();
        for (rel, text) in &self.files {
            if rel == "main.rs" {
                continue;
            }
            let me = module_of(rel);
            let is_mod = rel.ends_with("mod.rs") || rel == "lib.rs";
            let mut targets = BTreeSet::new();
            for path in paths_in(&code_of(text)) {
                let path = path.split(" as ").next().unwrap_or_default();
                let segs: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                let Some(first) = segs.first() else { continue };
                let absolute: Vec<String> = match first.as_str() {
                    "crate" => segs[1..].to_vec(),
                    "self" => me.iter().chain(&segs[1..]).cloned().collect(),
                    "super" => {
                        let ups = segs.iter().take_while(|s| *s == "super").count();
                        let base = &me[..me.len().saturating_sub(ups)];
                        base.iter().chain(&segs[ups..]).cloned().collect()
                    }
                    child
                        if is_mod
                            && self
                                .modules
                                .contains_key(&[me.clone(), vec![child.to_string()]].concat()) =>
                    {
                        me.iter().chain(&segs).cloned().collect()
                    }
                    _ => continue,
                };
                if let Some(target) = self.resolve(&absolute) {
                    if target != rel {
                        targets.insert(target.clone());
                    }
                }
            }
            edges.insert(rel.clone(), targets);
        }
        edges
    }
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        let edges = t.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_two_library_files_import_each_other() {
    let krate = Crate::load();
    let edges = krate.imports();
    assert!(edges.len() > 40, "the walk found the library's files");
    let found = cycles(&edges);
    let explain: Vec<String> = found
        .iter()
        .map(|c| {
            let links: Vec<String> = c
                .iter()
                .map(|f| {
                    let to: Vec<&String> = edges[f].iter().filter(|t| c.contains(t)).collect();
                    format!("{f} -> {to:?}")
                })
                .collect();
            links.join("; ")
        })
        .collect();
    assert!(found.is_empty(), "import cycles: {explain:#?}");
}

#[test]
fn the_cycle_check_finds_a_cycle_where_there_is_one() {
    // The same rules on a made-up pair of files that import each other.
    let mut edges = BTreeMap::new();
    edges.insert("a.rs".to_string(), BTreeSet::from(["b.rs".to_string()]));
    edges.insert("b.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    edges.insert("c.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    assert_eq!(
        cycles(&edges),
        vec![vec!["a.rs".to_string(), "b.rs".to_string()]]
    );
    let code = "use super::{x::Y, z};\nfn f() { crate::http::routes::ROUTES; }";
    let paths = paths_in(&code_of(code));
    assert!(paths.contains(&"super::x::Y".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"crate::http::routes::ROUTES".to_string()),
        "{paths:?}"
    );
}

#[test]
fn only_main_and_the_cli_import_start_up() {
    let krate = Crate::load();
    let importers: Vec<String> = krate
        .imports()
        .into_iter()
        .filter(|(_, to)| to.contains("startup.rs"))
        .map(|(from, _)| from)
        .filter(|from| from != "cli.rs")
        .collect();
    assert!(importers.is_empty(), "these import start-up: {importers:?}");
    // main.rs reaches start-up only through the CLI.
    assert!(!code_of(&krate.files["main.rs"]).contains("startup"));
}

#[test]
fn no_source_file_holds_more_than_one_concern() {
    let krate = Crate::load();
    let long: Vec<String> = krate
        .files
        .iter()
        .map(|(rel, text)| (rel, text.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(rel, n)| format!("{rel}: {n} lines"))
        .collect();
    assert!(long.is_empty(), "files past {MAX_LINES} lines: {long:?}");
}
