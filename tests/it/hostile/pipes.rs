//! A reader that goes away — `agentc … 2>&1 | head -1` — ends what it reads, never the
//! process with a panic: every command writes its output and its errors without assuming
//! anyone is still listening (issue 9, point 14).

use std::process::{Command, Stdio};

/// Runs the binary in `dir` with both output streams closed before it writes anything and
/// returns its exit status (101 would be a panic).
fn status_with_closed_output(dir: &std::path::Path, args: &[&str]) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentc"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read ends at once: the first write of either stream fails with EPIPE.
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

#[test]
fn every_command_survives_a_reader_that_went_away() {
    let dir = tempfile::tempdir().unwrap();
    let program = "agent a {\n    channels: [chat]\n}\n\nreply hi {\n    text: \"hi\"\n}\n\non message_received reply hi\n";
    std::fs::write(dir.path().join("a.agent"), program).unwrap();
    std::fs::write(
        dir.path().join("messy.agent"),
        program.replace("    ", "  "),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.agent"),
        "agent b { channels: [chat] }\naction x { target: nowhere }\n",
    )
    .unwrap();
    let events: String = (0..2_000)
        .map(|i| format!("{{\"conversation\":\"c-{i}\",\"event\":\"message_received\",\"payload\":{{\"text\":\"x\"}}}}\n"))
        .collect();
    std::fs::write(dir.path().join("events.jsonl"), events).unwrap();
    let commands: [&[&str]; 5] = [
        &["fmt", "--check", "messy.agent"],
        &["check", "broken.agent"],
        &["run", "a.agent", "--events", "events.jsonl"],
        &["explain", "E0403"],
        &["test", "a.agent"],
    ];
    for args in commands {
        let status = status_with_closed_output(dir.path(), args);
        assert!(
            matches!(status, Some(0..=2)),
            "`agentc {}` exited with {status:?} when its reader went away",
            args.join(" ")
        );
    }
}
