//! `agentc check` as a user runs it, on a generated program of each shape
//! (`agentc_gen::shapes`): wall time, MB/s of source and peak resident memory (also as a
//! multiple of the source's size), medians of several runs. The files are written under
//! `target/bench/<shape>/`.
//!
//! ```text
//! cargo build --release && cargo run --release --example check_speed [MEGABYTES] [RUNS]
//! ```
//!
//! (10 MB and 5 runs by default.) It runs the `agentc` binary next to it
//! (`target/release/agentc`; `AGENTC=PATH` runs another, to compare builds) under
//! `/usr/bin/time`, which gives the peak RSS.
//! Numbers vary with the machine's load: compare runs taken together.

use agentc_gen::shapes::SHAPES;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One run of `agentc check`: wall seconds and peak resident kilobytes.
fn check_once(agentc: &Path, root: &Path) -> (f64, u64) {
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(agentc)
        .arg("check")
        .arg(root)
        .output()
        .expect("run /usr/bin/time (GNU time) with agentc");
    let wall = start.elapsed().as_secs_f64();
    // A program with warnings would measure less than the whole pipeline.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.ends_with(": no problems\n"),
        "agentc check {} is not clean:\n{stdout}{}",
        root.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    // `time` writes its line last, after anything agentc wrote to stderr.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().last().unwrap_or_default();
    let rss: u64 = line.trim().parse().expect("maximum RSS from time");
    (wall, rss)
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable figures"));
    values[values.len() / 2]
}

/// Writes a shape's files under `dir`, returning the root's path and the total size.
fn write_program(dir: &Path, files: &[(String, String)]) -> (PathBuf, usize) {
    let _ = std::fs::remove_dir_all(dir);
    let mut bytes = 0;
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))
            .expect("create target/bench");
        std::fs::write(&path, text).expect("write a generated file");
        bytes += text.len();
    }
    (dir.join(&files[0].0), bytes)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let megabytes: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    let exe = std::env::current_exe().expect("the example's own path");
    // target/release/examples/check_speed → target/release/agentc
    let release = exe.parent().and_then(Path::parent).expect("target/release");
    let agentc = std::env::var_os("AGENTC").map_or_else(|| release.join("agentc"), PathBuf::from);
    assert!(
        agentc.exists(),
        "{} is missing: run `cargo build --release` first (or set AGENTC)",
        agentc.display()
    );
    let bench = release.parent().expect("target").join("bench");
    println!("agentc check, median of {runs} runs (wall clock, process start included)");
    println!(
        "  {:<12} {:>8} {:>9} {:>9} {:>10} {:>9}",
        "shape", "MB", "ms", "MB/s", "peak MB", "×source"
    );
    for shape in SHAPES {
        let files = shape.files((megabytes * 1024.0 * 1024.0) as usize);
        let (root, bytes) = write_program(&bench.join(shape.name()), &files);
        check_once(&agentc, &root); // warm the page cache
        let (walls, rss): (Vec<f64>, Vec<u64>) =
            (0..runs).map(|_| check_once(&agentc, &root)).unzip();
        let (wall, rss) = (median(walls), median(rss));
        let mb = bytes as f64 / (1024.0 * 1024.0);
        let peak = rss as f64 / 1024.0;
        println!(
            "  {:<12} {:>8.1} {:>9.0} {:>9.1} {:>10.0} {:>9.1}",
            shape.name(),
            mb,
            wall * 1e3,
            mb / wall,
            peak,
            peak / mb
        );
    }
}
