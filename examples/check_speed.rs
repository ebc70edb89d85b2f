//! Measures parse + check + lower on a generated program of about 10 MB:
//! `cargo run --release --example check_speed [MEGABYTES]`.

use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use std::fmt::Write;
use std::time::Instant;

#[path = "../src/allocator.rs"]
mod allocator;

/// A realistic program: every unit declares a target, a task, two actions, a reply, a use
/// case and three bindings that reference each other.
fn generate(bytes: usize) -> String {
    let mut src = String::from(
        "agent bench {\n  name: \"Bench\"\n  channels: [chat, voice]\n  inactivity: 3m\n  params: {\n    order_id: text\n    order: record\n    attempts: number = 0\n  }\n}\n\n",
    );
    let mut i = 0;
    while src.len() < bytes {
        write!(
            src,
            r#"target api_{i}: http {{
  base_url: "https://api{i}.example/v2"
  auth: bearer(secret("TOKEN_{i}"))
  timeout: 5s
  retry: {{ attempts: 3, backoff: 200ms }}
}}

task get_order_{i}(id: text, verbose: bool = false) on api_{i} {{
  method: GET
  path: "/orders/{{id}}"
  result: {{ status: response.body.status, eta: response.body.delivery.eta }}
}}

action check_{i} {{
  target: api_{i}
  task: get_order_{i}(order_id)
  when: order_id != null and attempts < 3
  save: order
  on_failure: sorry_{i}
}}

action sorry_{i} {{ target: conversation, task: reply(reply_{i}) }}

reply reply_{i} {{ text: "Hi {{user.name ?? "there"}}, order {{order_id}} is {{order.status ?? "unknown"}}" }}

usecase uc_{i} {{ description: "Use case number {i}", blocks: [ask, show] }}

in usecase uc_{i} when contains(lower(event.text ?? ""), "order") do check_{i}
at block uc_{i}.show do sorry_{i}
on message_received when attempts > {i} do check_{i}

"#
        )
        .unwrap();
        i += 1;
    }
    src
}

/// CPU time of this process in seconds (Linux), so a busy machine skews the figure less
/// than wall time does; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Runs `f`, returning (wall seconds, CPU seconds).
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let cpu = cpu_seconds();
    let start = Instant::now();
    let out = f();
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_seconds()).map_or(wall, |(a, b)| b - a);
    (out, wall, cpu)
}

fn main() {
    allocator::use_huge_pages();
    let megabytes: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10.0);
    let src = generate((megabytes * 1_000_000.0) as usize);
    let size = src.len() as f64 / 1e6;
    let (mut parse_wall, mut parse_cpu, mut wall, mut cpu) =
        (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let (parsed, w, c) = timed(|| agentc::syntax::parse(agentc::diagnostics::FileId(0), &src));
        assert!(parsed.diagnostics.is_empty());
        drop(parsed);
        (parse_wall, parse_cpu) = (parse_wall.min(w), parse_cpu.min(c));

        let mut sources = SourceMap::new();
        let root = sources.add("bench.agent", src.clone());
        let (checked, w, c) = timed(|| check_program(&mut sources, root, &mut MemoryLoader::new()));
        (wall, cpu) = (wall.min(w), cpu.min(c));
        let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        assert_eq!(errors, 0, "{:?}", checked.diagnostics.first());
        assert!(checked.program.is_some());
    }
    let rate = |s: f64| size / s;
    println!("{size:.1} MB program (best of 3; wall clock, then CPU time)");
    println!(
        "  parse:              {:6.0} ms {:6.1} MB/s | cpu {:6.0} ms {:6.1} MB/s",
        parse_wall * 1e3,
        rate(parse_wall),
        parse_cpu * 1e3,
        rate(parse_cpu)
    );
    println!(
        "  parse+check+lower:  {:6.0} ms {:6.1} MB/s | cpu {:6.0} ms {:6.1} MB/s",
        wall * 1e3,
        rate(wall),
        cpu * 1e3,
        rate(cpu)
    );
    println!(
        "  check+lower alone:  {:6.0} ms {:6.1} MB/s | cpu {:6.0} ms {:6.1} MB/s",
        (wall - parse_wall) * 1e3,
        rate(wall - parse_wall),
        (cpu - parse_cpu) * 1e3,
        rate(cpu - parse_cpu)
    );
}
