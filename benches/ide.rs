//! How fast the language services answer an editor, on generated programs of ~20 KB and
//! ~1 MB (`agentc_gen::programs`): diagnostics after a one-character edit (targets: ≤ 10 ms
//! and ≤ 100 ms), completion and hover (of a name, and of an expression) in the middle of
//! the file (≤ 5 ms). After criterion's report, with `--bench`, the resident memory of the
//! real `agentc lsp` holding the 1 MB program open, as a multiple of the source (target:
//! ≤ 20×).
//!
//! Run with `cargo bench --bench ide`.

use agentc::ide::World;
use criterion::Criterion;
use serde_json::json;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

#[path = "../src/allocator.rs"]
mod allocator;

const SIZES: &[(&str, usize)] = &[("20KB", 20 * 1024), ("1MB", 1024 * 1024)];
const PATH: &str = "/bench/generated.agent";

/// A world holding `text`, checked once.
fn world(text: &str) -> World {
    let mut world = World::default();
    world.set_roots(vec!["/bench".into()]);
    world.set_file(PATH, text.to_string());
    let found = world.diagnostics();
    assert!(
        found.iter().all(|(_, d)| d.is_empty()),
        "the generated program is not clean"
    );
    world
}

/// An offset in the middle of the text just after `marker`.
fn middle(text: &str, marker: &str) -> usize {
    let half = text.len() / 2;
    half + text[half..]
        .find(marker)
        .expect("the marker is in the second half")
        + marker.len()
}

fn bench(c: &mut Criterion, name: &str, text: &str) {
    let mut group = c.benchmark_group(format!("ide/{name}"));
    let mut world = world(text);
    // A space added at the start of a line in the middle, and taken away again.
    let line = text.len() / 2 + text[text.len() / 2..].find('\n').unwrap() + 1;
    let edited = format!("{} {}", &text[..line], &text[line..]);
    let mut flip = false;
    group.bench_function("diagnostics after a one-character edit", |b| {
        b.iter(|| {
            flip = !flip;
            world.set_file(
                PATH,
                if flip {
                    edited.clone()
                } else {
                    text.to_string()
                },
            );
            black_box(world.diagnostics());
        })
    });
    let target = middle(text, "target: ") + 1;
    group.bench_function("completion", |b| {
        b.iter(|| black_box(world.analysis().completion(PATH, target)))
    });
    let task = middle(text, "task: ") + 1;
    group.bench_function("hover", |b| {
        b.iter(|| black_box(world.analysis().hover(PATH, task)))
    });
    // The `+` of `x_count + 1`: no name there, so hover types the expression.
    let operator = middle(text, "_count + ") - 2;
    group.bench_function("hover on an expression", |b| {
        b.iter(|| black_box(world.analysis().hover(PATH, operator)))
    });
    group.bench_function("definition", |b| {
        b.iter(|| black_box(world.analysis().definition(PATH, target)))
    });
    group.finish();
}

fn read_message(reader: &mut impl BufRead) -> serde_json::Value {
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("the server writes");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the message");
    serde_json::from_slice(&body).expect("JSON")
}

/// `agentc lsp`'s resident memory once it holds `text` open and has checked it, in bytes.
fn server_memory(text: &str) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("agentc lsp starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: serde_json::Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "processId": null, "rootUri": null, "capabilities": {} } }));
    read_message(&mut stdout);
    send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    send(
        json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": { "uri": "file:///bench/generated.agent", "languageId": "agent",
            "version": 1, "text": text } } }),
    );
    // Asked after the push: by then the text is checked, indexed and its diagnostics sent.
    while read_message(&mut stdout)["method"] != "textDocument/publishDiagnostics" {}
    send(
        json!({ "jsonrpc": "2.0", "id": 2, "method": "textDocument/documentSymbol",
        "params": { "textDocument": { "uri": "file:///bench/generated.agent" } } }),
    );
    while read_message(&mut stdout)["id"] != 2 {}
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    allocator::use_huge_pages();
    let programs: Vec<(&str, String)> = SIZES
        .iter()
        .map(|(name, size)| (*name, agentc_gen::programs::program(*size)))
        .collect();
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for (name, text) in &programs {
        bench(&mut criterion, name, text);
    }
    criterion.final_summary();
    // `cargo test --benches` runs each bench once as a smoke test: no summary then.
    if std::env::args().any(|arg| arg == "--bench") {
        let (_, large) = &programs[1];
        let idle = server_memory("");
        let holding = server_memory(large);
        println!(
            "agentc lsp holding {:.2} MB: {:.1} MB resident ({:.1} MB idle), {:.1}× the source above idle",
            large.len() as f64 / 1e6,
            holding as f64 / 1e6,
            idle as f64 / 1e6,
            holding.saturating_sub(idle) as f64 / large.len() as f64
        );
    }
}
