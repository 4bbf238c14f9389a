//! Writes one test per scenario file under `scenarios/` (`$OUT_DIR/branches.rs`, included by
//! `tests/flows.rs`), named after the file: each regulated branch is its own test, run and
//! reported by its name (`cargo nextest run -p egov-tests --test flows <part of a name>`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from("// Written by build.rs: one test per scenario file.\n");
    for file in &files {
        let Some(name) = file.file_stem().and_then(|stem| stem.to_str()) else {
            panic!("{}: the file name is not UTF-8", file.display());
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && name.starts_with(|c: char| c.is_ascii_lowercase()),
            "{}: a scenario's file name is its test's name, lower snake case",
            file.display()
        );
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(out, "branch!({name}, {relative:?});");
    }
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(target.join("branches.rs"), out).expect("branches.rs written");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            out.push(path);
        }
    }
}
