//! The backend's layers, checked on its source: `routes/` (extract, call, answer) over
//! `domain/` (rules and queries) and `auth/` over `db/`. Route modules never import each
//! other, nothing below `routes/` imports it, only the binary starts the server, and no
//! module imports, through any chain, a module that imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file of the crate by module path (`routes::members`, `domain`, `lib`).
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let source = std::fs::read_to_string(&path).expect("a source file");
                found.insert(module_of(&root, &path), source);
            }
        }
    }
    found
}

fn module_of(root: &Path, file: &Path) -> String {
    let relative: PathBuf = file
        .strip_prefix(root)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The crate-internal modules `source` (the module `module`) names, resolved to the longest
/// module path that is a file. Test modules (`#[cfg(test)]` onwards) are left out: tests may
/// reach anywhere.
fn imports(module: &str, source: &str, all: &BTreeMap<String, String>) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut found = BTreeSet::new();
    // `super` is the module path without its last part, for `a/b.rs` and `a/mod.rs` alike.
    let mut parent: Vec<&str> = module.split("::").collect();
    parent.pop();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (start, _) in code.match_indices(prefix) {
            let preceded_by_path = code[..start].ends_with("::");
            if preceded_by_path {
                continue;
            }
            let rest = &code[start + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut parts: Vec<String> = base.iter().map(|part| part.to_string()).collect();
            parts.extend(
                path.split("::")
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
            while !parts.is_empty() {
                let candidate = parts.join("::");
                if all.contains_key(&candidate) && candidate != module {
                    found.insert(candidate);
                    break;
                }
                parts.pop();
            }
        }
    }
    // A folder module's `use child::…` / `pub use child::…` (re-exports) names its child.
    for line in code.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .strip_prefix("pub use ")
            .or_else(|| line.strip_prefix("use "))
        else {
            continue;
        };
        let child: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let candidate = if module == "lib" {
            child
        } else {
            format!("{module}::{child}")
        };
        if all.contains_key(&candidate) {
            found.insert(candidate);
        }
    }
    found
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let all = modules();
    all.iter()
        .map(|(module, source)| (module.clone(), imports(module, source, &all)))
        .collect()
}

#[test]
fn nothing_below_routes_imports_a_route_module() {
    for (module, imported) in import_graph() {
        let is_route = module == "routes" || module.starts_with("routes::");
        if is_route || module == "startup" || module == "main" {
            continue;
        }
        let routes: Vec<&String> = imported
            .iter()
            .filter(|name| name.as_str() == "routes" || name.starts_with("routes::"))
            .collect();
        assert!(routes.is_empty(), "{module} imports {routes:?}");
    }
}

#[test]
fn route_modules_never_import_each_other() {
    for (module, imported) in import_graph() {
        if !module.starts_with("routes::") {
            continue;
        }
        // A route module's own submodules (`routes::staff::upload`) are part of it.
        let own = format!("{module}::");
        let others: Vec<&String> = imported
            .iter()
            .filter(|name| name.starts_with("routes::") && !name.starts_with(&own))
            .collect();
        assert!(others.is_empty(), "{module} imports {others:?}");
    }
}

/// serde reads a JSON array as a struct too; `json_body::JsonObject` refuses everything that
/// is not an object, so no route may read a body through `web::Json` directly.
#[test]
fn request_bodies_are_read_as_json_objects() {
    for (module, source) in modules() {
        if module.starts_with("routes") {
            assert!(
                !source.contains("web::Json<"),
                "{module} reads a body with web::Json; use json_body::JsonObject"
            );
        }
    }
}

#[test]
fn only_the_binary_starts_the_server() {
    for (module, imported) in import_graph() {
        if module != "main" && module != "lib" {
            assert!(!imported.contains("startup"), "{module} imports startup");
        }
    }
}

#[test]
fn no_module_imports_itself_through_a_chain() {
    let graph = import_graph();
    // Depth-first search for a back edge; the cycle is reported as the path that closes it.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|seen| seen == module) {
            panic!("import cycle: {} -> {module}", path[start..].join(" -> "));
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(module.to_owned());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
}
