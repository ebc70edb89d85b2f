//! What a program lowers to, and the checker's entry points (workspaces, cached parses,
//! expressions, mocks), on source snippets. A case whose whole point is the diagnostics a
//! program gives is a file under `tests/check/` instead (tests/check/README.md).

use super::*;
use std::collections::HashSet;

/// An agent with a few params, prepended to the snippets.
const AGENT: &str = "agent a {
  channels: [chat, voice]
  params: {
    order_id: text
    n: number = 0
    customer: record
    items: list
    order: record
    note: text
  }
}
";

fn run_files(files: &[(&str, &str)]) -> (SourceMap, Checked) {
    let mut sources = SourceMap::new();
    let root = sources.add(files[0].0, files[0].1);
    let mut loader = MemoryLoader::new();
    for (path, text) in &files[1..] {
        loader = loader.with(path, text);
    }
    let checked = check_program(&mut sources, root, &mut loader);
    (sources, checked)
}

fn run(src: &str) -> (SourceMap, Checked) {
    run_files(&[("main.agent", src)])
}

fn describe(sources: &SourceMap, checked: &Checked) -> String {
    checked
        .diagnostics
        .iter()
        .map(|d| {
            let s = d.span();
            format!(
                "{} {:?} `{}` help: {:?}",
                d.code,
                d.message,
                &sources.get(s.file).text[s.range()],
                d.help
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts `src` checks without errors (warnings allowed) and returns its IR.
#[track_caller]
fn clean(src: &str) -> ir::Program {
    let (sources, checked) = run(src);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{}", describe(&sources, &checked));
    checked.program.expect("no errors, so a program")
}

fn with_agent(rest: &str) -> String {
    format!("{AGENT}{rest}")
}

// ---- program structure -------------------------------------------------------------------

#[test]
fn a_file_imported_twice_is_read_once() {
    let shared = "reply hi { text: \"hi\" }\n";
    let ir = {
        let (sources, checked) = run_files(&[
            (
                "main.agent",
                &with_agent(
                    "import \"x/a.agent\"\nimport \"b.agent\"\non conversation_started reply hi\n",
                ),
            ),
            ("x/a.agent", "import \"../shared.agent\"\n"),
            ("b.agent", "import \"./shared.agent\"\n"),
            ("shared.agent", shared),
        ]);
        assert_eq!(sources.len(), 4, "{}", describe(&sources, &checked));
        checked.program.unwrap()
    };
    assert_eq!(
        ir.files,
        ["main.agent", "x/a.agent", "shared.agent", "b.agent"]
    );
}

// ---- resolution --------------------------------------------------------------------------

#[test]
fn usecase_name_lowers_in_a_usecase_binding() {
    let ir = clean(&with_agent(
        "usecase u { blocks: [b] }\naction y { target: conversation, task: add_label(usecase.name) }\nin usecase u when usecase.name == \"u\" do y\nat block u.b do y\n",
    ));
    let usecase_name = ir::Expr::Field(Box::new(ir::Expr::Var(ir::Scope::Usecase)), "name".into());
    assert_eq!(
        ir.bindings[0].when,
        Some(ir::Expr::Binary(
            ir::BinOp::Eq,
            Box::new(usecase_name),
            Box::new(ir::Expr::Lit(ir::Value::Text("u".into())))
        ))
    );
}

// ---- domain rules ------------------------------------------------------------------------

#[test]
fn on_failure_lists_lower_in_written_order() {
    let label = |name: &str, tag: &str, rest: &str| {
        format!("action {name} {{ target: conversation, task: add_label(\"{tag}\"){rest} }}\n")
    };
    let ir = clean(&with_agent(&format!(
        "{}{}{}on message_received do x\n",
        label("x", "a", ", on_failure: [z, y]"),
        label("y", "b", ""),
        label("z", "c", ""),
    )));
    assert_eq!(ir.actions["x"].on_failure, ["z", "y"]);
}

#[test]
fn a_binding_naming_several_events_lowers_to_one_binding_each() {
    let ask = "action ask { target: conversation, task: add_label(\"a\") }\n";
    let ir = clean(&with_agent(&format!(
        "{ask}on message_received, dtmf_received when n > 0 do ask\n"
    )));
    let events: Vec<_> = ir
        .bindings
        .iter()
        .map(|b| (b.trigger.clone(), b.when.is_some()))
        .collect();
    assert_eq!(
        events,
        [
            (
                ir::Trigger::Event {
                    event: "message_received".into()
                },
                true
            ),
            (
                ir::Trigger::Event {
                    event: "dtmf_received".into()
                },
                true
            ),
        ]
    );
}

/// A voice agent with a `rebook_flight` use case, and `rest` after it.
fn rebooking(rest: &str) -> String {
    with_agent(&format!(
        "usecase rebook_flight {{ blocks: [ask_date, confirm] }}\nusecase refund {{ blocks: [] }}\n{rest}"
    ))
}

#[test]
fn starting_a_use_case_or_a_block_lowers_to_its_name() {
    let ir = clean(&rebooking(
        "action go { target: conversation, task: start_usecase(rebook_flight) }\naction confirm { target: conversation, task: goto_block(rebook_flight.confirm) }\naction ask { target: call, task: say(\"Which date?\") }\non dtmf_received when event.digits == \"1\" do go\nin usecase rebook_flight do ask, confirm\n",
    ));
    let arg = |action: &str| ir.actions[action].task.args.clone();
    assert_eq!(
        arg("go"),
        [(
            "usecase".to_string(),
            ir::Expr::Lit(ir::Value::Text("rebook_flight".into()))
        )]
    );
    assert_eq!(
        arg("confirm"),
        [(
            "block".to_string(),
            ir::Expr::Lit(ir::Value::Text("rebook_flight.confirm".into()))
        )]
    );
}

const CRM_TARGETS: &str = "target desk: zendesk { subdomain: \"acme\", email: \"bot@acme.example\", token: secret(\"ZD\") }\ntarget crm: salesforce { instance_url: \"https://acme.my.salesforce.com\", token: secret(\"SF\") }\n";

#[test]
fn declared_tasks_on_zendesk_and_salesforce_targets() {
    let ir = clean(&with_agent(&format!(
        "{CRM_TARGETS}task find_org(name: text) on desk {{ method: GET, path: \"/organizations/search.json\", query: {{ name: name }}, result: response.body.organizations }}\ntask rate(id: text) on crm {{ method: PATCH, path: \"/sobjects/Account/{{id}}\", body: {{ Rating: \"Hot\" }} }}\naction a {{ target: desk, task: find_org(note), save: items }}\naction b {{ target: crm, task: rate(order_id) }}\non message_received do a, b\n"
    )));
    let find_org = &ir.tasks["find_org"];
    assert_eq!(
        (find_org.target.as_str(), find_org.method.as_str()),
        ("desk", "GET")
    );
}

#[test]
fn soql_values_lower_as_bound_arguments() {
    let query = |call: &str| {
        with_agent(&format!(
            "{CRM_TARGETS}action q {{ target: crm, task: {call}, save: items }}\non message_received do q\n"
        ))
    };
    let ir = clean(&query(
        "query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email AND Subject LIKE %:word%\", { email: user.email, word: note })",
    ));
    assert_eq!(ir.actions["q"].task.task.name(), "query");
}

// ---- tests -------------------------------------------------------------------------------

#[test]
fn test_steps_lower_to_the_ir() {
    let base = with_agent("target api: http { base_url: \"https://x.example\" }\ntarget db: sql { url: \"sqlite::memory:\" }\naction x { target: api, task: get(\"/\") }\non message_received do x\nusecase u { blocks: [b] }\n");
    let ir = clean(&format!(
        "{base}test \"t\" {{\n  mock api GET \"/\" -> 200 {{ ok: true }}\n  send message_received {{ text: \"hi\" }}\n  send usecase u\n  send wait 5m\n  expect ran x\n  expect not label \"vip\"\n  expect param n == 0\n  expect row db \"calls\" {{ phone: \"+1\" }}\n}}\n"
    ));
    let steps = &ir.tests[0].steps;
    assert_eq!(steps.len(), 8);
    assert!(matches!(
        &steps[0],
        ir::TestStep::Mock {
            status: Some(200),
            ..
        }
    ));
    assert!(matches!(
        &steps[3],
        ir::TestStep::Send {
            event: ir::SendEvent::Wait { ms: 300_000 },
            ..
        }
    ));
}

#[test]
fn effects_and_outcomes_lower_to_their_expectations() {
    // The grammar's words and the IR's effects are one list.
    let names: Vec<&str> = ir::Effect::ALL.iter().map(|e| e.name()).collect();
    assert_eq!(names, crate::syntax::ast::EFFECTS);
    let base = "target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: get(\"/\") }\non message_received do x\n";
    let ir = clean(&with_agent(&format!(
        "{base}test \"t\" {{\n  expect failed x\n  expect not skipped x\n  expect transfer \"+1\"\n  expect hangup\n  expect request api GET \"/\" {{ headers: {{ \"X-Key\": \"k\" }} }}\n}}\n"
    )));
    let expectations: Vec<String> = ir.tests[0]
        .steps
        .iter()
        .map(|step| serde_json::to_string(step).unwrap())
        .collect();
    assert!(
        expectations[0].contains(r#""kind":"failed","action":"x""#),
        "{expectations:?}"
    );
    assert!(
        expectations[1].contains(r#""kind":"skipped""#),
        "{expectations:?}"
    );
    // A lone text is the effect's first field; header names are compared lower-cased.
    assert!(
        expectations[2].contains(r#""effect":"transfer","fields":{"kind":"value","value":{"type":"record","value":{"to":{"type":"text","value":"+1"}}}}"#),
        "{expectations:?}"
    );
    assert!(
        expectations[3].contains(r#""effect":"hangup","fields":null"#),
        "{expectations:?}"
    );
    assert!(
        expectations[4].contains(r#""x-key":{"type":"text""#),
        "{expectations:?}"
    );
    // The one call effect a test can make fail is a transfer.
    let ir = clean(&with_agent(&format!(
        "{base}test \"t\" {{\n  mock call transfer \"*\" -> fail\n}}\n"
    )));
    assert!(matches!(
        &ir.tests[0].steps[0],
        ir::TestStep::FailTransfer { to, reason, .. } if to == "*" && reason == "busy"
    ));
}

// ---- workspaces --------------------------------------------------------------------------

#[test]
fn workspace_roots_and_orphans() {
    let mut sources = SourceMap::new();
    let root = sources.add("dir/main.agent", with_agent("import \"lib.agent\"\n"));
    let lib = sources.add("dir/lib.agent", "reply hi { text: \"hi\" }\n");
    let orphan = sources.add("dir/old.agent", "reply old { text: \"x\" }\n");
    let ws = check_workspace(&mut sources, &[root, lib, orphan], &mut MemoryLoader::new());
    assert_eq!(ws.programs.len(), 1);
    assert_eq!(ws.programs[0].0, root);
    assert_eq!(ws.diagnostics.len(), 1);
    assert_eq!(ws.diagnostics[0].code, Code::OrphanFile);
    assert_eq!(ws.diagnostics[0].span().file, orphan);

    let mut sources = SourceMap::new();
    let a = sources.add("a.agent", "reply hi { text: \"hi\" }\n");
    let ws = check_workspace(&mut sources, &[a], &mut MemoryLoader::new());
    assert!(ws.programs.is_empty());
    assert_eq!(ws.diagnostics[0].code, Code::NoAgent);
}

// ---- lowering ----------------------------------------------------------------------------

#[test]
fn lowering_resolves_arguments_by_name_with_defaults() {
    let ir = clean(&with_agent(
        "action t { target: call, task: transfer(\"+1555\", whisper: \"hi\") }\n\
         action c { target: conversation, task: increment(n) }\n\
         action r { target: conversation, task: reply(hello) }\n\
         reply hello { text: \"Hi {user.name ?? \"there\"}\" }\n\
         on call_started do t\nbefore call do c, r\n",
    ));
    let t = &ir.actions["t"];
    assert_eq!(t.target_kind, catalogue::Kind::Call);
    let names: Vec<&str> = t.task.args.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["to", "mode", "whisper"]);
    assert_eq!(
        t.task.args[1].1,
        ir::Expr::Lit(ir::Value::Text("cold".into()))
    );
    let c = &ir.actions["c"];
    assert_eq!(
        c.task.args,
        vec![
            (
                "name".to_string(),
                ir::Expr::Lit(ir::Value::Text("n".into()))
            ),
            ("by".to_string(), ir::Expr::Lit(ir::Value::Number(1.0))),
        ]
    );
    assert_eq!(
        ir.actions["r"].task.args[0].1,
        ir::Expr::Lit(ir::Value::Text("hello".into()))
    );
    assert_eq!(
        ir.bindings[1].trigger,
        ir::Trigger::Event {
            event: "call_ringing".into()
        }
    );
    assert_eq!(
        ir.bindings[1].body,
        ir::BindingBody::Actions(vec!["c".into(), "r".into()])
    );
}

#[test]
fn lowering_declared_tasks_and_retry_defaults() {
    let ir = clean(&with_agent(
        "target api: http { base_url: \"https://x.example\", retry: { attempts: 5 } }\n\
         task get_order(id: text, verbose: bool = false) on api {\n  method: GET\n  path: \"/orders/{id}\"\n  result: { status: response.body.status }\n}\n\
         action x { target: api, task: get_order(order_id), save: order, retry: { backoff: 10s } }\n\
         on message_received do x\n",
    ));
    let task = &ir.tasks["get_order"];
    assert_eq!(task.method, "GET");
    assert_eq!(
        task.path,
        ir::Expr::Interp(vec![
            ir::Expr::Lit(ir::Value::Text("/orders/".into())),
            ir::Expr::Var(ir::Scope::Param("id".into())),
        ])
    );
    assert!(task.params[1].optional);
    let x = &ir.actions["x"];
    assert!(x.task.task.declared().is_some());
    assert_eq!(x.task.args.len(), 2, "the default is filled in");
    assert_eq!(
        ir.targets["api"].retry,
        Some(ir::Retry {
            attempts: 5,
            backoff_ms: DEFAULT_BACKOFF_MS,
            max_backoff_ms: DEFAULT_MAX_BACKOFF_MS
        })
    );
    assert_eq!(
        x.retry,
        Some(ir::Retry {
            attempts: DEFAULT_ATTEMPTS,
            backoff_ms: 10_000,
            max_backoff_ms: 10_000
        })
    );
}

#[test]
fn lowering_is_deterministic_and_spans_index_ir_files() {
    let files = [
        ("main.agent", with_agent("import \"r.agent\"\non conversation_started reply hi\n")),
        ("r.agent", "reply hi { text: \"hi\" }\naction z { target: conversation, task: add_label(\"z\") }\non message_received do z\n".to_string()),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let a = run_files(&refs).1.program.unwrap();
    let b = run_files(&refs).1.program.unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.bindings.len(), 2);
    assert_eq!(a.bindings[1].span.file, FileId(1));
    assert_eq!(a.actions["z"].span.file, FileId(1));
}

// ---- the REPL's entry point --------------------------------------------------------------

#[test]
fn check_expr_types_against_the_program() {
    let ir = clean(&with_agent(""));
    let parse = |text: &str| {
        crate::syntax::parse_expr(FileId(0), text)
            .0
            .expect("expression parses")
    };
    let ty = |text| {
        check_expr(&ir, &ExprContext::default(), &parse(text))
            .unwrap()
            .ty
    };
    assert_eq!(ty("n + 1"), "number");
    assert_eq!(ty("\"a\" + note"), "text");
    let errors = check_expr(&ir, &ExprContext::default(), &parse("nn + 1")).unwrap_err();
    assert_eq!(errors[0].code, Code::UnknownName);
    let context = ExprContext {
        event: Some("message_received".into()),
        ..Default::default()
    };
    assert_eq!(
        check_expr(&ir, &context, &parse("event.text")).unwrap().ty,
        "text"
    );
    assert!(check_expr(&ir, &ExprContext::default(), &parse("block.name")).is_err());
}

// ---- a whole program, and robustness -----------------------------------------------------

const ACME: &str = include_str!("testdata/acme.agent");
const ACME_REPLIES: &str = include_str!("testdata/replies.agent");

#[test]
fn the_spec_program_checks_clean_without_warnings() {
    let (sources, checked) = run_files(&[("acme.agent", ACME), ("replies.agent", ACME_REPLIES)]);
    assert!(
        checked.diagnostics.is_empty(),
        "{}",
        describe(&sources, &checked)
    );
    let ir = checked.program.unwrap();
    assert_eq!(ir.bindings.len(), 8);
    assert_eq!(ir.tests[0].steps.len(), 8);
}

/// Every prefix and many cut-outs of a real program: diagnostics, never a panic.
#[test]
fn damaged_programs_never_panic() {
    let bytes = ACME.len();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |bound: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % bound as u64) as usize
    };
    let mut cases: Vec<String> = (0..bytes)
        .step_by(29)
        .filter(|&i| ACME.is_char_boundary(i))
        .map(|i| ACME[..i].to_string())
        .collect();
    for _ in 0..120 {
        let a = next(bytes);
        let b = (a + next(40)).min(bytes);
        if ACME.is_char_boundary(a) && ACME.is_char_boundary(b) {
            cases.push(format!("{}{}", &ACME[..a], &ACME[b..]));
        }
    }
    for case in cases {
        let (_, checked) = run_files(&[("acme.agent", &case), ("replies.agent", ACME_REPLIES)]);
        for d in &checked.diagnostics {
            assert!(d.help.is_some(), "{} without help: {}", d.code, d.message);
        }
    }
}

mod property {
    use super::*;
    use proptest::prelude::*;

    /// Words and punctuation of the language, so that random soups often parse and reach
    /// the checker with unusual trees.
    const TOKENS: &[&str] = &[
        "agent a {",
        "channels: [chat, voice]",
        "params: { n: number, t: text }",
        "}",
        "{",
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "\n",
        "target api: http {",
        "base_url: \"https://x.example\"",
        "base_url: \"http://x.example\"",
        "auth: bearer(secret(\"T\"))",
        "task g(id: text) on api {",
        "method: GET",
        "path: \"/x/{id}\"",
        "result: response.body",
        "action x {",
        "action y {",
        "target: api",
        "target: conversation",
        "target: call",
        "task: g(n)",
        "task: add_label(t)",
        "task: set(n: 1)",
        "task: increment(n)",
        "task: say(\"hi\")",
        "on_failure: y",
        "on_failure: x",
        "save: n",
        "save: t",
        "when: n > 1",
        "retry: { attempts: 0 }",
        "timeout: 3s",
        "reply r { text: \"hi {t}\" }",
        "usecase u { blocks: [b] }",
        "on call_ringing do x",
        "before call do y",
        "after call do x, y",
        "on message_received reply r",
        "in usecase u do x",
        "at block u.b do y",
        "at block u.c do x",
        "import \"other.agent\"",
        "test \"t\" {",
        "mock api GET \"/\" -> 200 { a: 1 }",
        "send call_ringing { from: \"1\" }",
        "expect ran x",
        "expect param n == 1",
        "secret(\"S\")",
        "event.text",
        "n ?? 1",
        "if n then t else 1",
        "1 + \"a\"",
        "-3",
        "null",
        "true",
        "x",
        "y",
        "u.b",
    ];

    /// Whole declarations, right or subtly wrong, so that soups of them reach every pass.
    const DECLS: &[&str] = &[
        "agent a {\n  channels: [chat, voice]\n  params: { n: number, t: text, r: record }\n}",
        "agent b {\n  channels: [email]\n}",
        "target api: http { base_url: \"https://x.example\", auth: bearer(secret(\"T\")) }",
        "target api: http { base_url: \"http://x.example\", auth: bearer(secret(\"T\")) }",
        "target db: sql { url: \"sqlite::memory:\" }",
        "target z: zendesk { email: \"a@b\", token: secret(\"Z\") }",
        "task g(id: text, v: bool = true) on api { method: GET, path: \"/x/{id}\", result: response.body }",
        "task h() on db { method: POST, path: \"/\" }",
        "action x { target: api, task: g(t), save: r, on_failure: y }",
        "action y { target: call, task: say(\"hi {t}\"), on_failure: x }",
        "action w { target: db, task: query(\"SELECT {n}\", n), save: t }",
        "action v { target: conversation, task: set(n: n + 1, t: block.name) }",
        "action q { target: z, task: create_ticket(subject: t, comment: secret(\"C\")) }",
        "reply r { text: \"hi {user.name ?? \"there\"}\" }",
        "usecase u { blocks: [b, c] }",
        "on call_ringing do x, y",
        "before call when event.from == \"1\" do y",
        "after call do w, q",
        "on message_received reply r",
        "on conversation_started reply r",
        "in usecase u do v",
        "at block u.b when block.name == \"b\" do v, x",
        "import \"other.agent\"",
        "test \"t\" {\n  mock api GET \"/\" -> 200 { a: 1 }\n  send block u.b\n  expect ran x\n  expect param n == 1\n}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn token_soups_never_panic(picks in proptest::collection::vec(0..TOKENS.len(), 0..60)) {
            let text: Vec<&str> = picks.iter().map(|&i| TOKENS[i]).collect();
            let text = text.join(" ");
            let (_, checked) = run_files(&[("main.agent", &text), ("other.agent", "import \"main.agent\"\n")]);
            for d in &checked.diagnostics {
                prop_assert!(d.help.is_some(), "{} without help: {}", d.code, d.message);
            }
        }

        #[test]
        fn declaration_soups_never_panic(
            picks in proptest::collection::vec((0..DECLS.len(), proptest::option::of(0..TOKENS.len())), 0..24)
        ) {
            let mut text = String::new();
            for (decl, junk) in picks {
                text.push_str(DECLS[decl]);
                if let Some(junk) = junk {
                    text.push(' ');
                    text.push_str(TOKENS[junk]);
                }
                text.push('\n');
            }
            let (_, checked) = run_files(&[("main.agent", &text), ("other.agent", "reply r2 { text: \"x\" }\n")]);
            for d in &checked.diagnostics {
                prop_assert!(d.help.is_some(), "{} without help: {}", d.code, d.message);
            }
        }
    }
}

#[test]
fn cached_parses_follow_each_files_text_across_checks() {
    let mut cache = ParseCache::default();
    let mut check = |lib: &str| {
        // A new source map each time, as the REPL does.
        let mut sources = SourceMap::new();
        let root = sources.add("main.agent", format!("{AGENT}import \"lib.agent\"\n"));
        let mut loader = MemoryLoader::new().with("lib.agent", lib);
        let fresh = check_program(&mut sources.clone(), root, &mut loader.clone());
        let cached = check_program_cached(&mut sources, root, &mut loader, &mut cache);
        assert_eq!(describe(&sources, &cached), describe(&sources, &fresh));
        assert_eq!(cached.program, fresh.program);
        cached
    };
    let action =
        "action y { target: conversation, task: add_label(\"x\") }\non message_received do y\n";
    assert!(check(action).program.is_some());
    // The same file with another text is parsed again.
    let broken = check(&action.replace("add_label", "add_lable"));
    assert!(broken.program.is_none());
    assert!(check(action).program.is_some());
}

// ---- semantics: words, patterns -----------------------------------------------------------

const DESK: &str = r#"target desk: zendesk {
  subdomain: "acme"
  email: "bot@acme.example"
  token: secret("ZENDESK_API_TOKEN")
}
"#;

fn ticket_with_priority(priority: &str) -> String {
    with_agent(&format!(
        "{DESK}\naction open {{\n  target: desk\n  task: create_ticket(subject: \"s\", comment: \"c\", priority: {priority})\n}}\n\non message_received do open\n"
    ))
}

#[test]
fn bare_words_work_in_every_branch_of_a_computed_word() {
    let ir = clean(&ticket_with_priority(
        "if n > 2 then urgent else if n > 1 then high else note ?? normal",
    ));
    let ir::TaskCall { args, .. } = &ir.actions["open"].task;
    let priority = &args.iter().find(|(name, _)| name == "priority").unwrap().1;
    let text = format!("{priority:?}");
    for word in ["urgent", "high", "normal"] {
        assert!(text.contains(&format!("Text(\"{word}\")")), "{text}");
    }
}

#[test]
fn matchers_in_expected_fields_lower_with_header_names_lower_cased() {
    let base = with_agent("target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: post(\"/o\", body: { note: note }) }\non message_received do x\n");
    let step = |expectation: &str| format!("{base}test \"t\" {{\n  expect {expectation}\n}}\n");
    let ir = clean(&step(
        "request api POST \"/o\" { headers: { \"X-Client\": contains(\"a\") }, body: { id: matches(\"^ord-[0-9]+$\") } }",
    ));
    let ir::TestStep::Expect { expectation, .. } = &ir.tests[0].steps[0] else {
        panic!("{:?}", ir.tests[0].steps)
    };
    let ir::Expectation::Request {
        fields: Some(fields),
        ..
    } = expectation
    else {
        panic!("{expectation:?}")
    };
    assert_eq!(
        fields.to_string(),
        r#"{"headers":{"x-client":contains("a")},"body":{"id":matches("^ord-[0-9]+$")}}"#,
        "header names lower-cased, matchers kept"
    );
}

mod replies;

// ---- mock paths ---------------------------------------------------------------------------

/// `{name}` in a mock's path is a segment matching any one segment, as docs/testing.md
/// says, in a test block and in a mocks file or the REPL's `:mock` (one lowering).
#[test]
fn a_name_in_braces_in_a_mock_path_is_a_pattern_segment() {
    let program = clean(&with_agent(
        "target orders: http { base_url: \"https://x.example\" }\n\
         action look { target: orders, task: get(\"/orders/A-1\") }\n\
         on message_received do look\n\
         test \"t\" {\n  mock orders GET \"/orders/{id}/lines/{n}\" -> 200 {}\n}\n",
    ));
    let path_of = |step: &ir::TestStep| match step {
        ir::TestStep::Mock { path, .. } => path.clone(),
        other => panic!("not a mock: {other:?}"),
    };
    assert_eq!(
        path_of(&program.tests[0].steps[0]),
        "/orders/{id}/lines/{n}"
    );
    let (steps, diagnostics) =
        crate::syntax::parse_test_steps(FileId::default(), "mock orders GET \"/orders/{pnr}\"\n");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let ast::TestStep::Mock(mock) = &steps[0] else {
        panic!("a mock step: {steps:?}");
    };
    let mut value = |expr: &ast::Expr| {
        let mut found = Vec::new();
        super::decls::constant(expr, Type::Any, "a mock's value", &mut found).ok_or(found)
    };
    let step = super::check_mock(&program, mock, &mut value).expect("the mock checks");
    assert_eq!(path_of(&step), "/orders/{pnr}");
}

/// `send EVENT { channel: "…" }` says which channel the test's conversation is on
/// (docs/testing.md); it lowers into the step's payload.
#[test]
fn a_sent_events_channel_lowers_into_its_payload() {
    let test = |channel: &str| {
        format!("{AGENT}test \"t\" {{\n  send conversation_started {{ channel: {channel} }}\n}}\n")
    };
    let program = clean(&test("\"voice\""));
    assert!(matches!(
        &program.tests[0].steps[0],
        ir::TestStep::Send {
            payload: Some(_),
            ..
        }
    ));
}

/// Parameters have their own namespace (docs/language.md): a task, reply or action may
/// share a parameter's name, and each use resolves to the one its place names.
#[test]
fn parameters_do_not_collide_with_declarations() {
    let program = clean(
        "agent a {\n  channels: [chat]\n  params: { refill: text, welcome: text }\n}\n\
         target pharmacy: http { base_url: \"https://x.example\" }\n\
         task refill(id: text) on pharmacy { method: POST, path: \"/refills/{id}\" }\n\
         reply welcome { text: \"Refill {refill ?? \"none\"} for {welcome ?? \"you\"}\" }\n\
         action order_refill { target: pharmacy, task: refill(refill), on_failure: greet }\n\
         action greet { target: conversation, task: reply(welcome) }\n\
         on conversation_started reply welcome\n\
         on message_received do order_refill\n",
    );
    assert!(program.tasks.contains_key("refill"));
    assert!(program.replies.contains_key("welcome"));
    assert_eq!(program.agent.params.len(), 2);
}

/// Large enough for four threads on each pass that may use them, with mistakes found by
/// each pass, some first met on a late thread and some again on later ones.
fn many_declarations(mistakes: bool) -> String {
    let mut src = format!("{AGENT}target api: http {{ base_url: \"https://x.example\" }}\n");
    for i in 0..4200 {
        let (late, first) = (i / 1500, i % 7);
        src.push_str(&format!(
            "action x_{i} {{ target: api, task: get(\"/{i}\"), on_failure: y_{first} }}\n\
             action y_{i} {{ target: conversation, task: add_label(\"{i}\") }}\n\
             reply r_{i} {{ text: \"hi {{n}} {i}\" }}\n\
             on message_received when n > {i} do x_{i}, y_{i}\n\
             on conversation_started reply r_{i}\n\
             test \"t {i}\" {{\n  send message_received {{ text: \"hi\" }}\n  expect ran x_{i}\n}}\n"
        ));
        if mistakes {
            src.push_str(&format!(
                "action u_{i} {{ target: call, task: say(usecase.name), on_failure: c_{late} }}\n\
                 action c_{i} {{ target: conversation, task: add_label(\"c\"), on_failure: u_{i} }}\n\
                 reply bad_{i} {{ text: 1 }}\n\
                 on call_ringing when n > \"{i}\" do u_{late}\n"
            ));
        }
        // Rare: each looks for a close name among all the declarations.
        if mistakes && i % 1000 == 999 {
            src.push_str(&format!(
                "on message_received do nope_{i}\ntest \"bad {i}\" {{\n  expect ran missing\n}}\n"
            ));
        }
    }
    src
}

#[test]
fn a_program_checked_on_several_threads_is_checked_as_on_one() {
    let check = |threads: usize, mistakes: bool| {
        parallel::THREADS.with(|t| t.set(Some(threads)));
        let (sources, checked) = run(&many_declarations(mistakes));
        parallel::THREADS.with(|t| t.set(None));
        (describe(&sources, &checked), checked.program)
    };
    let (one, _) = check(1, true);
    let codes: HashSet<&str> = one
        .lines()
        .filter_map(|line| line.split(' ').next())
        .collect();
    for code in ["E0201", "E0210", "E0301", "E0403", "E0404", "W0601"] {
        assert!(codes.contains(code), "no {code} among {codes:?}");
    }
    assert_eq!(check(4, true).0, one);
    let (clean, program) = check(1, false);
    assert_eq!(clean, "");
    assert!(program.is_some());
    assert_eq!(check(4, false).1, program);
}

/// Every diagnostic with the path of its file, for comparing checks of several files.
fn describe_with_files(sources: &SourceMap, checked: &Checked) -> String {
    let paths = checked
        .diagnostics
        .iter()
        .map(|d| sources.get(d.span().file).path.clone());
    let lines = describe(sources, checked);
    paths
        .zip(lines.lines())
        .map(|(path, line)| format!("{path}: {line}\n"))
        .collect()
}

#[test]
fn a_program_of_many_files_parsed_side_by_side_is_checked_as_one_by_one() {
    // Large enough in all to be parsed side by side, each file too small to be split: with
    // mistakes in some files, syntax errors, an import nobody can read and import cycles.
    let mut root = AGENT.to_string();
    let mut files: Vec<(String, String)> = Vec::new();
    for f in 0..40 {
        root.push_str(&format!("import \"units/u{f}.agent\"\n"));
        let mut text = String::new();
        if f % 10 == 3 {
            text.push_str("import \"missing.agent\"\n");
        }
        if f % 10 == 5 {
            text.push_str(&format!("import \"u{}.agent\"\n", f - 1));
            files[f - 1] = (
                files[f - 1].0.clone(),
                format!("import \"u{f}.agent\"\n{}", files[f - 1].1),
            );
        }
        for i in 0..70 {
            text.push_str(&format!(
                "action a_{f}_{i} {{ target: conversation, task: add_label(\"{f} {i}\") }}\n\
                 reply r_{f}_{i} {{ text: \"unit {f}, reply {i}: {{n}}\" }}\n"
            ));
        }
        if f % 7 == 2 {
            text.push_str(&format!("reply bad_{f} {{ text: 1 }}\n"));
        }
        if f % 13 == 6 {
            text.push_str("reply broken {\n");
        }
        files.push((format!("units/u{f}.agent"), text));
    }
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    assert!(
        bytes >= crate::syntax::PARALLEL_MIN_BYTES,
        "only {bytes} bytes"
    );
    let check = |threads: usize| {
        parallel::THREADS.with(|t| t.set(Some(threads)));
        let mut all = vec![("main.agent", root.as_str())];
        all.extend(
            files
                .iter()
                .map(|(path, text)| (path.as_str(), text.as_str())),
        );
        let (sources, checked) = run_files(&all);
        parallel::THREADS.with(|t| t.set(None));
        let order: Vec<String> = sources.iter().map(|(_, file)| file.path.clone()).collect();
        (describe_with_files(&sources, &checked), order)
    };
    let (one, order) = check(1);
    for code in ["E0002", "E0101", "E0102", "E0205", "E0301"] {
        assert!(one.contains(code), "no {code} in\n{one}");
    }
    assert_eq!(check(4), (one, order));
}
