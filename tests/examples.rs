//! Every script in `examples/` runs on this kernel: it compiles, loads, attaches,
//! exits by itself with status 0, and its first line says what it shows.

mod common;

use common::*;
use std::path::PathBuf;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bt"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_says_what_it_shows() {
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("// "),
            "{} must open with a comment",
            file.display()
        );
    }
}

#[test]
fn every_example_compiles() {
    for file in examples() {
        let out = ebpfc(&["--check", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
    }
}

#[test]
fn every_example_runs() {
    if !kernel_available("every_example_runs") {
        return;
    }
    // Keep the workloads some examples trace busy while they run.
    let _noise = std::thread::spawn(|| {
        for _ in 0..300 {
            drop(std::fs::read("/etc/hostname"));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    for file in examples() {
        let out = ebpfc(&[file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
        assert!(
            !stdout(&out).is_empty(),
            "{} printed nothing",
            file.display()
        );
    }
}
