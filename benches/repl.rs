//! How fast `agentc repl` answers with a 1,000-declaration program loaded: a scripted
//! session of each kind of line is timed in the real binary, minus the time to load the
//! program and quit, and divided by the number of lines.
//!
//! `cargo bench --bench repl` (release build). The target: under 5 ms per line.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `i`-th line of a kind.
type LineOf = fn(usize) -> String;

/// Lines of each kind in one timed session.
const LINES: usize = 500;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let program = dir.path().join("big.agent");
    let (text, count) = program_text();
    std::fs::write(&program, text).expect("the program is written");
    let program = program.to_str().expect("a UTF-8 path");
    println!("program: {count} declarations");
    let checked = Command::new(env!("CARGO_BIN_EXE_agentc"))
        .args(["repl", program])
        .env("AGENTC_HISTORY", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(b":check\n")?;
            child.wait_with_output()
        })
        .expect("agentc runs");
    let checked = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.lines().any(|l| l.starts_with("0 error(s)")),
        "the generated program has errors:\n{checked}"
    );

    let baseline = median(|| run(program, ""));
    println!("load and quit: {:.1} ms", ms(baseline));
    let kinds: [(&str, LineOf); 6] = [
        ("expression", |i| format!("attempts + {i} * 2\n")),
        ("typed :type", |i| {
            format!(":type len(order_id ?? \"{i}\") > 3\n")
        }),
        ("command :show", |i| format!(":show action_{}\n", i % 400)),
        ("command :list usecases", |_| ":list usecases\n".to_string()),
        (":send event", |i| {
            format!(":send message_received {{ text: \"hello {i}\" }}\n")
        }),
        ("declaration", |i| {
            format!("reply extra_{} {{ text: \"extra\" }}\n", i % 50)
        }),
    ];
    let mut worst: f64 = 0.0;
    for (kind, line) in &kinds {
        let lines = if *kind == "declaration" {
            LINES / 10
        } else {
            LINES
        };
        let script: String = (0..lines).map(line).collect();
        let total = median(|| run(program, &script));
        let per_line = ms(total.saturating_sub(baseline)) / lines as f64;
        worst = worst.max(per_line);
        println!("{kind:<24} {per_line:>7.3} ms per line ({lines} lines)");
    }
    println!("slowest kind: {worst:.3} ms per line");
}

/// The median of three runs.
fn median(f: impl Fn() -> Duration) -> Duration {
    let mut times = [f(), f(), f()];
    times.sort();
    times[1]
}

fn run(program: &str, script: &str) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentc"))
        .args(["repl", program])
        .env("AGENTC_HISTORY", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("agentc runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .expect("the script is sent");
    drop(stdin);
    child.wait().expect("agentc ends");
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A program of 1,000 declarations: an agent, 100 targets, 100 declared tasks, 400 actions,
/// 200 replies, 49 use cases and 150 bindings.
fn program_text() -> (String, usize) {
    let mut out = String::from(
        "agent big {\n  channels: [chat, voice]\n  params: {\n    order_id: text\n    \
         attempts: number = 0\n    order: record\n  }\n}\n",
    );
    let mut count = 1;
    for i in 0..100 {
        out += &format!("target api_{i}: http {{ base_url: \"https://api{i}.example\" }}\n");
        out += &format!(
            "task fetch_{i}(id: text) on api_{i} {{ method: GET\n path: \"/items/{{id}}\" }}\n"
        );
        count += 2;
    }
    for i in 0..400 {
        let body = match i % 4 {
            0 => format!(
                "target: api_{}\n  task: fetch_{}(order_id ?? \"none\")",
                i % 100,
                i % 100
            ),
            1 => "target: conversation\n  task: increment(attempts)".to_string(),
            2 => format!("target: conversation\n  task: add_label(\"l{i}\")"),
            _ => format!("target: conversation\n  task: reply(reply_{})", i % 200),
        };
        out += &format!("action action_{i} {{\n  {body}\n  when: attempts < 1000\n}}\n");
        count += 1;
    }
    for i in 0..200 {
        out += &format!("reply reply_{i} {{ text: \"Reply {i} to {{user.name ?? \"you\"}}\" }}\n");
        count += 1;
    }
    for i in 0..49 {
        out += &format!("usecase case_{i} {{ blocks: [ask_{i}, answer_{i}] }}\n");
        count += 1;
    }
    for i in 0..150 {
        out += &match i % 3 {
            0 => format!(
                "on message_received when attempts > {} do action_{}\n",
                i + 1000,
                i
            ),
            1 => format!("in usecase case_{} do action_{}\n", i % 49, i),
            _ => format!("at block case_{}.ask_{} do action_{}\n", i % 49, i % 49, i),
        };
        count += 1;
    }
    (out, count)
}
