//! Every diagnostic code: its explanation exists, its wrong example really raises it (human
//! and json renderings snapshotted), its fixed example does not. Then the renderers on
//! hand-built diagnostics: labels in other files, multi-byte characters, spans that point
//! nowhere.

use agentc::cli::explain::check_example;
use agentc::diagnostics::explain::{self, Encoding};
use agentc::diagnostics::render::{self, HumanOptions};
use agentc::diagnostics::{Code, Diagnostic, FileId, Severity, SourceMap, Span, ALL_CODES};
use serde_json::Value;

const PLAIN: HumanOptions = HumanOptions {
    color: false,
    width: 100,
};

#[test]
fn every_code_has_one_explanation_in_code_order() {
    let explained: Vec<Code> = explain::all().map(|e| e.code).collect();
    assert_eq!(
        explained, ALL_CODES,
        "one explanation per code, in code order"
    );
    for entry in explain::all() {
        assert!(
            entry.summary.len() > 40,
            "{}: summary too short",
            entry.code
        );
        assert!(!entry.fix.is_empty(), "{}: no fix", entry.code);
    }
}

/// A fix written as edits changes the one place each names, and changes something.
#[test]
fn each_edit_of_a_fix_finds_its_text_once() {
    for entry in explain::all() {
        let explain::Fixed::Edits(edits) = entry.fixed else {
            continue;
        };
        let mut texts: Vec<String> = entry
            .wrong
            .files()
            .iter()
            .map(|f| f.text.to_string())
            .collect();
        for (old, new) in edits {
            let found: usize = texts.iter().map(|t| t.matches(old).count()).sum();
            assert_eq!(found, 1, "{}: `{old}` occurs {found} times", entry.code);
            assert_ne!(old, new, "{}: an edit that changes nothing", entry.code);
            let text = texts.iter_mut().find(|t| t.contains(old)).unwrap();
            *text = text.replacen(old, new, 1);
        }
        let fixed: Vec<String> = entry
            .fixed_files()
            .iter()
            .map(|f| f.text.to_string())
            .collect();
        assert_eq!(texts, fixed, "{}", entry.code);
    }
}

#[test]
fn latin1_examples_are_latin1_and_not_utf8() {
    for entry in explain::all() {
        for file in entry.wrong.files().iter().chain(&entry.fixed_files()) {
            if file.encoding == Encoding::Latin1 {
                assert!(file.text.chars().all(|c| (c as u32) < 0x100));
                assert!(std::str::from_utf8(&file.bytes()).is_err());
            }
        }
    }
}

#[test]
fn wrong_examples_raise_their_code_and_fixed_examples_do_not() {
    let mut problems = Vec::new();
    for entry in explain::all() {
        let code = entry.code;
        let wrong = check_example(&entry.wrong.files());
        if !wrong.diagnostics.iter().any(|d| d.code == code) {
            problems.push(format!(
                "{code}: wrong example gives {:?}",
                codes(&wrong.diagnostics)
            ));
        }
        let fixed = check_example(&entry.fixed_files());
        if !fixed.diagnostics.is_empty() {
            problems.push(format!(
                "{code}: fixed example gives {:?}",
                codes(&fixed.diagnostics)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

/// What each code looks like to a person and to a machine.
#[test]
fn every_code_renders_in_human_and_json() {
    for entry in explain::all() {
        let run = check_example(&entry.wrong.files());
        let mine: Vec<Diagnostic> = run
            .diagnostics
            .into_iter()
            .filter(|d| d.code == entry.code)
            .collect();
        assert!(!mine.is_empty(), "{}", entry.code);
        let human = render::human(&mine, &run.sources, PLAIN);
        insta::assert_snapshot!(format!("{}_human", entry.code), human);
        let json = render::json(&mine, &run.sources);
        insta::assert_snapshot!(format!("{}_json", entry.code), json);
    }
}

/// Two files: a duplicate whose first declaration is in another file.
fn two_files() -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::new();
    let main = sources.add(
        "main.agent",
        "reply welcome { text: \"Olá, {user.name}!\" }\n",
    );
    let other = sources.add(
        "lib/replies.agent",
        "// replies\nreply welcome { text: \"Hi\" }\n",
    );
    let at = |file: FileId, text: &str, needle: &str| {
        let start = text.find(needle).unwrap();
        Span::new(file, start, start + needle.len())
    };
    let main_text = sources.get(main).text.clone();
    let other_text = sources.get(other).text.clone();
    let duplicate = Diagnostic::new(
        Code::DuplicateName,
        "`welcome` is declared twice",
        at(main, &main_text, "welcome"),
    )
    .with_label_message("declared again here")
    .with_secondary(at(other, &other_text, "welcome"), "first declared here")
    .with_help("rename one of them");
    let unknown = Diagnostic::new(
        Code::UnknownName,
        "unknown name `usr`",
        at(main, &main_text, "user.name"),
    )
    .with_label_message("after a multi-byte character");
    let warning = Diagnostic::new(
        Code::UnusedReply,
        "reply `welcome` is never sent",
        at(other, &other_text, "reply welcome"),
    );
    (sources, vec![duplicate, unknown, warning])
}

#[test]
fn human_shows_labels_in_other_files_help_and_summary() {
    let (sources, diagnostics) = two_files();
    let mut text = render::human(&diagnostics, &sources, PLAIN);
    text.push_str(&render::summary(
        render::Counts::of(&diagnostics),
        "2 files",
        false,
        PLAIN,
    ));
    assert!(!text.contains('\u{1b}'), "no ANSI without colour");
    insta::assert_snapshot!(text);
}

#[test]
fn human_colours_only_when_asked() {
    let (sources, diagnostics) = two_files();
    let coloured = HumanOptions {
        color: true,
        ..PLAIN
    };
    assert!(render::human(&diagnostics, &sources, coloured).contains('\u{1b}'));
    let summary = render::summary(render::Counts::of(&diagnostics), "x", false, coloured);
    assert!(summary.contains('\u{1b}'));
}

#[test]
fn summary_lines() {
    let counts = |errors, warnings| render::Counts { errors, warnings };
    let line = |c, deny| render::summary(c, "`a.agent`", deny, PLAIN);
    assert_eq!(
        line(counts(2, 1), false),
        "error: could not check `a.agent`: 2 errors, 1 warning\n"
    );
    assert_eq!(
        line(counts(1, 0), false),
        "error: could not check `a.agent`: 1 error\n"
    );
    assert_eq!(
        line(counts(0, 2), false),
        "warning: checked `a.agent`: 2 warnings\n"
    );
    assert_eq!(
        line(counts(0, 1), true),
        "error: could not check `a.agent`: 1 warning (warnings are denied)\n"
    );
    assert_eq!(
        line(counts(0, 0), false),
        "ok: checked `a.agent`: no problems\n"
    );
}

#[test]
fn json_counts_characters_with_exclusive_ends() {
    let (sources, diagnostics) = two_files();
    let json: Value = serde_json::from_str(&render::json(&diagnostics, &sources)).unwrap();
    assert_eq!(json["version"], render::JSON_VERSION);
    assert_eq!(
        (json["errors"].as_u64(), json["warnings"].as_u64()),
        (Some(2), Some(1))
    );
    // `user.name` follows 29 characters (30 bytes: 'á' is two): column 30, not 31.
    let unknown = &json["diagnostics"][1];
    let offset = "reply welcome { text: \"Olá, {".len();
    assert_eq!(unknown["offset"], offset);
    assert_eq!(unknown["length"], 9);
    assert_eq!(
        (unknown["line"].as_u64(), unknown["column"].as_u64()),
        (Some(1), Some(30))
    );
    assert_eq!(
        (unknown["end_line"].as_u64(), unknown["end_column"].as_u64()),
        (Some(1), Some(39))
    );
    assert_eq!(unknown["help"], Value::Null);
    let duplicate = &json["diagnostics"][0];
    assert_eq!(duplicate["labels"][1]["file"], "lib/replies.agent");
    assert_eq!(duplicate["labels"][1]["line"], 2);
    assert_eq!(duplicate["labels"][1]["primary"], false);
    insta::assert_snapshot!(render::json(&diagnostics, &sources));
}

#[test]
fn github_commands_point_at_the_primary_span() {
    let (sources, diagnostics) = two_files();
    insta::assert_snapshot!(render::github(&diagnostics, &sources));
}

#[test]
fn sarif_is_a_2_1_0_log_with_every_rule() {
    let (sources, diagnostics) = two_files();
    let log: Value = serde_json::from_str(&render::sarif(&diagnostics, &sources)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "agentc");
    // Only a real address: Cargo.toml's `repository` when it has one, never a made-up one.
    match option_env!("CARGO_PKG_REPOSITORY").filter(|u| !u.is_empty()) {
        Some(uri) => assert_eq!(driver["informationUri"], uri),
        None => assert!(driver.get("informationUri").is_none()),
    }
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), ALL_CODES.len());
    for (rule, code) in rules.iter().zip(ALL_CODES) {
        assert_eq!(rule["id"], code.as_str());
        assert!(rule["name"]
            .as_str()
            .unwrap()
            .chars()
            .all(char::is_alphanumeric));
        assert_eq!(rule["shortDescription"]["text"], code.title());
        let level = if code.severity() == Severity::Error {
            "error"
        } else {
            "warning"
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level);
        assert!(rule["help"]["markdown"].as_str().unwrap().contains("Wrong"));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let first = &results[0];
    assert_eq!(first["ruleId"], "E0105");
    assert_eq!(
        rules[first["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "E0105"
    );
    assert_eq!(first["level"], "error");
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "main.agent");
    assert_eq!(location["region"]["startLine"], 1);
    assert_eq!(location["region"]["startColumn"], 7);
    assert_eq!(location["region"]["endColumn"], 14);
    let related = &first["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "lib/replies.agent"
    );
    assert_eq!(related["message"]["text"], "first declared here");
    assert_eq!(results[2]["level"], "warning");
}

#[test]
fn spans_that_point_nowhere_render_without_panicking() {
    let mut sources = SourceMap::new();
    sources.add("a.agent", "agent a {}\n");
    let diagnostics = vec![
        Diagnostic::new(Code::Syntax, "past the end", Span::new(FileId(0), 50, 60)),
        Diagnostic::new(Code::Syntax, "unknown file", Span::new(FileId(7), 0, 3))
            .with_secondary(Span::new(FileId(0), 0, 5), "known"),
        Diagnostic::new(
            Code::NotUtf8,
            "empty span at the end",
            Span::new(FileId(0), 11, 11),
        ),
    ];
    let human = render::human(&diagnostics, &sources, PLAIN);
    assert!(human.contains("past the end") && human.contains("unknown file"));
    let json: Value = serde_json::from_str(&render::json(&diagnostics, &sources)).unwrap();
    assert_eq!(
        json["diagnostics"][0]["line"], 2,
        "clamped to the end of the file"
    );
    assert_eq!(json["diagnostics"][1]["file"], "");
    assert!(!render::github(&diagnostics, &sources).is_empty());
    let _: Value = serde_json::from_str(&render::sarif(&diagnostics, &sources)).unwrap();
}

#[test]
fn control_characters_in_sources_do_not_reach_the_terminal() {
    let mut sources = SourceMap::new();
    let text = "reply a { text: \"\u{1b}[2J\u{0}\u{9b}x\" }\n";
    sources.add("a.agent", text);
    let start = text.rfind('x').unwrap();
    let d = Diagnostic::new(Code::Syntax, "here", Span::new(FileId(0), start, start + 1))
        .with_label_message("after the controls");
    let human = render::human(&[d], &sources, PLAIN);
    assert!(
        !human.chars().any(|c| c.is_control() && c != '\n'),
        "{human:?}"
    );
    assert!(human.contains("\".[2J...x\""), "{human}");
    assert!(
        human.contains("a.agent:1:24"),
        "columns still count the file's characters"
    );
}

#[test]
fn the_docs_index_lists_every_code() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .unwrap();
    for code in ALL_CODES {
        let row = format!("| {code} | {} |", code.title());
        assert!(docs.contains(&row), "docs/diagnostics.md lacks `{row}`");
    }
}
