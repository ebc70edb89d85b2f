//! The checker's cases as files: every `.agent` file under `tests/check/<area>/` (or
//! directory holding a `main.agent` and the files it imports) is one program. Its first
//! line says which codes it gives (`// expect: E0403 E0402`, or `// expect: clean`); its
//! diagnostics, rendered as `agentc check` prints them, are snapshotted beside it in
//! `<area>/snapshots/<name>.snap`. tests/check/README.md says how to add one.

use agentc::check::{check_program, check_workspace, workspace_diagnostics, MemoryLoader};
use agentc::diagnostics::render::{self, HumanOptions};
use agentc::diagnostics::{Diagnostic, SourceMap};
use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/check");
const HEADER: &str = "// expect:";

/// One program: its area, its name, and its files by path (the root first, as `main.agent`
/// for a directory case).
struct Case {
    area: String,
    name: String,
    root: String,
    files: BTreeMap<String, String>,
}

#[test]
fn every_checker_case_gives_the_diagnostics_its_header_and_snapshot_say() {
    let cases = cases(Path::new(CASES));
    assert!(!cases.is_empty(), "no case under {CASES}");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| run(case, &Path::new(CASES).join(&case.area).join("snapshots")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} checker cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A case's failure, if any: a missing or wrong header, a diagnostic without help, or a
/// snapshot in `snapshots` that changed (insta writes the new one beside it as `.snap.new`).
fn run(case: &Case, snapshots: &Path) -> Option<String> {
    let id = format!("{}/{}", case.area, case.name);
    let Some(expected) = header(&case.files[&case.root]) else {
        return Some(format!(
            "{id}: the first line must be `{HEADER} CODE …` or `{HEADER} clean`"
        ));
    };
    let (sources, diagnostics, lowered) = check(case);
    if let Some(wrong) = disagreement(&expected, &diagnostics) {
        return Some(format!("{id}: {wrong}"));
    }
    if let Some(d) = diagnostics.iter().find(|d| d.help.is_none()) {
        return Some(format!("{id}: {} has no help line", d.code));
    }
    if let Some(wrong) = unkept_ir_disagrees(case) {
        return Some(format!("{id}: {wrong}"));
    }
    let errors = diagnostics.iter().any(Diagnostic::is_error);
    if lowered == errors {
        return Some(format!(
            "{id}: lowered to the IR: {lowered}, errors: {errors}"
        ));
    }
    let mut rendered = render::human(&diagnostics, &sources, HumanOptions::default());
    if rendered.is_empty() {
        rendered = "no diagnostics\n".into();
    }
    let snapshot = catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => snapshots,
            prepend_module_to_snapshot => false,
            input_file => Path::new(CASES).join(&case.area).join(&case.name),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(case.name.trim_end_matches(".agent"), rendered);
        });
    }));
    snapshot
        .is_err()
        .then(|| format!("{id}: its diagnostics differ from its snapshot, or it has none yet"))
}

/// The codes a case's first line expects; `clean` expects none.
fn header(root: &str) -> Option<Vec<String>> {
    let codes = root.lines().next()?.strip_prefix(HEADER)?;
    let codes: Vec<String> = codes.split_whitespace().map(str::to_string).collect();
    match codes.as_slice() {
        [] => None,
        [clean] if clean == "clean" => Some(Vec::new()),
        _ => Some(codes),
    }
}

/// What is wrong with a header: a code it names that no diagnostic has, or an error it
/// does not name (a warning may go unnamed; its snapshot still shows it).
fn disagreement(expected: &[String], diagnostics: &[Diagnostic]) -> Option<String> {
    let given = |code: &str| diagnostics.iter().any(|d| d.code.as_str() == code);
    if let Some(missing) = expected.iter().find(|code| !given(code)) {
        return Some(format!(
            "the header expects {missing}, which it does not give"
        ));
    }
    let unnamed = diagnostics
        .iter()
        .find(|d| d.is_error() && !expected.iter().any(|code| code == d.code.as_str()))?;
    Some(format!(
        "it gives {} ({}), which the header does not name",
        unnamed.code, unnamed.message
    ))
}

fn check(case: &Case) -> (SourceMap, Vec<Diagnostic>, bool) {
    let (mut sources, root, mut loader) = program(case);
    let checked = check_program(&mut sources, root, &mut loader);
    (sources, checked.diagnostics, checked.program.is_some())
}

/// `agentc check` drops each declaration's IR as soon as it is lowered: a difference in
/// what it then reports from a check that keeps the IR.
fn unkept_ir_disagrees(case: &Case) -> Option<String> {
    let (mut sources, root, mut loader) = program(case);
    let kept = check_workspace(&mut sources, &[root], &mut loader);
    let kept: Vec<Diagnostic> = kept.all_diagnostics().cloned().collect();
    let (mut sources, root, mut loader) = program(case);
    let unkept = workspace_diagnostics(&mut sources, &[root], &mut loader, &mut <_>::default());
    (kept != unkept).then(|| {
        format!("without its IR kept, the workspace reports {unkept:?}\ninstead of {kept:?}")
    })
}

/// A case's root in a source map of its own, and its other files behind a loader.
fn program(case: &Case) -> (SourceMap, agentc::diagnostics::FileId, MemoryLoader) {
    let mut sources = SourceMap::new();
    let root = sources.add(case.root.as_str(), case.files[&case.root].as_str());
    let mut loader = MemoryLoader::new();
    for (path, text) in case.files.iter().filter(|(path, _)| **path != case.root) {
        loader = loader.with(path, text);
    }
    (sources, root, loader)
}

/// Every case under `dir`, in path order: `<area>/<name>.agent`, or `<area>/<name>/` with
/// a `main.agent`. Any other directory than `snapshots` is a mistake.
fn cases(dir: &Path) -> Vec<Case> {
    let mut found = Vec::new();
    for area in entries(dir).into_iter().filter(|p| p.is_dir()) {
        for path in entries(&area) {
            let name = file_name(&path);
            let (root, files) = if path.join("main.agent").is_file() {
                let files = entries(&path)
                    .into_iter()
                    .map(|file| (file_name(&file), file));
                let files = files.filter(|(name, _)| name.ends_with(".agent"));
                (
                    "main.agent".to_string(),
                    files.map(|(name, file)| (name, read(&file))).collect(),
                )
            } else if path.is_dir() {
                let message = "a case directory needs a main.agent";
                assert_eq!(name, "snapshots", "{}: {message}", path.display());
                continue;
            } else if name.ends_with(".agent") {
                (name.clone(), BTreeMap::from([(name.clone(), read(&path))]))
            } else {
                continue;
            };
            found.push(Case {
                area: file_name(&area),
                name,
                root,
                files,
            });
        }
    }
    found
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let read = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = read.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---- the loop fails when it should ---------------------------------------------------------

const CLEAN: &str = "agent a { channels: [chat] }\n";
const TWO_AGENTS: &str = "agent a { channels: [chat] }\nagent b { channels: [chat] }\n";

fn case(name: &str, text: &str) -> Case {
    let file = format!("{name}.agent");
    Case {
        area: "loop".into(),
        name: file.clone(),
        root: file.clone(),
        files: BTreeMap::from([(file, text.to_string())]),
    }
}

/// Runs `case` against a snapshot directory of its own, holding `snapshot` if given.
fn run_alone(case: &Case, snapshot: Option<&str>) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    if let Some(snapshot) = snapshot {
        fs::write(
            dir.path()
                .join(format!("{}.snap", case.name.trim_end_matches(".agent"))),
            snapshot,
        )
        .unwrap();
    }
    run(case, dir.path())
}

#[test]
fn a_case_without_a_header_fails() {
    let failure = run_alone(&case("bare", CLEAN), None).expect("a failure");
    assert!(failure.contains("the first line must be"), "{failure}");
    let failure =
        run_alone(&case("empty", &format!("{HEADER}\n{CLEAN}")), None).expect("a failure");
    assert!(failure.contains("the first line must be"), "{failure}");
}

#[test]
fn a_header_code_the_program_does_not_give_fails() {
    let failure =
        run_alone(&case("absent", &format!("{HEADER} E0104\n{CLEAN}")), None).expect("a failure");
    assert!(
        failure.contains("expects E0104, which it does not give"),
        "{failure}"
    );
}

#[test]
fn an_error_the_header_does_not_name_fails() {
    // A reply never sent is W0602: naming the warning does not excuse the error.
    let unsent = "reply r { text: \"x\" }\n";
    for header in ["clean", "W0602"] {
        let failure = run_alone(
            &case(
                "unnamed",
                &format!("{HEADER} {header}\n{TWO_AGENTS}{unsent}"),
            ),
            None,
        )
        .expect("a failure");
        assert!(failure.contains("gives E0104"), "{failure}");
    }
}

#[test]
fn diagnostics_that_differ_from_the_snapshot_fail() {
    let text = format!("{HEADER} E0104\n{TWO_AGENTS}");
    let snapshot = "---\nsource: tests/it/check_cases.rs\n---\nno diagnostics\n";
    let failure = run_alone(&case("changed", &text), Some(snapshot)).expect("a failure");
    assert!(failure.contains("differ from its snapshot"), "{failure}");
    let clean = format!("{HEADER} clean\n{CLEAN}");
    assert_eq!(run_alone(&case("same", &clean), Some(snapshot)), None);
}

#[test]
#[should_panic(expected = "a case directory needs a main.agent")]
fn a_case_directory_without_a_main_agent_fails() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("program/imports")).unwrap();
    fs::write(dir.path().join("program/imports/lib.agent"), CLEAN).unwrap();
    cases(dir.path());
}
