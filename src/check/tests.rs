//! Source snippets → expected diagnostics (code, exact span, a help line), and lowering.

use super::*;
use crate::diagnostics::Severity;

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

const CHAT_AGENT: &str = "agent a {\n  channels: [chat]\n  params: { note: text }\n}\n";

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

/// Asserts `src` reports `code` with its primary span on exactly `at`, with a help line;
/// returns that diagnostic.
#[track_caller]
fn expect(src: &str, code: &str, at: &str) -> Diagnostic {
    let (sources, checked) = run(src);
    let found = checked.diagnostics.iter().find(|d| {
        let s = d.span();
        d.code.as_str() == code && &sources.get(s.file).text[s.range()] == at
    });
    match found {
        Some(d) => {
            assert!(d.help.is_some(), "{code} has no help line: {d:?}");
            assert!(checked.program.is_none() || d.severity == Severity::Warning);
            d.clone()
        }
        None => panic!(
            "expected {code} at `{at}`, got:\n{}",
            describe(&sources, &checked)
        ),
    }
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
fn missing_import_points_at_the_path() {
    let d = expect(
        &with_agent("import \"nope.agent\"\n"),
        "E0101",
        "\"nope.agent\"",
    );
    assert!(d.message.contains("no such file"), "{}", d.message);
}

#[test]
fn import_cycle_names_the_chain() {
    let (sources, checked) = run_files(&[
        ("main.agent", &with_agent("import \"a.agent\"\n")),
        ("a.agent", "import \"b.agent\"\n"),
        ("b.agent", "import \"a.agent\"\n"),
    ]);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::ImportCycle)
        .unwrap_or_else(|| panic!("{}", describe(&sources, &checked)));
    assert_eq!(d.message, "import cycle: a.agent → b.agent → a.agent");
    assert_eq!(sources.get(d.span().file).path, "b.agent");
}

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

#[test]
fn no_agent() {
    let (_, checked) = run("reply hi { text: \"hi\" }\n");
    assert!(checked.diagnostics.iter().any(|d| d.code == Code::NoAgent));
}

#[test]
fn two_agents() {
    expect(&with_agent("agent b { channels: [chat] }\n"), "E0104", "b");
}

#[test]
fn duplicate_names_share_one_namespace() {
    let d = expect(
        &with_agent("reply order_id { text: \"x\" }\nreply order_id { text: \"y\" }\n"),
        "E0105",
        "order_id",
    );
    assert_eq!(
        d.labels[1].message.as_deref(),
        Some("first declared here as a reply")
    );
    expect(
        &with_agent(
            "target t: http { base_url: \"https://x.example\" }\naction t { target: conversation, task: add_label(\"x\") }\n",
        ),
        "E0105",
        "t",
    );
    expect(
        &with_agent("target call: http { base_url: \"https://x.example\" }\n"),
        "E0105",
        "call",
    );
}

#[test]
fn duplicate_field_and_argument() {
    expect(
        &with_agent("reply r { text: \"a\", text: \"b\" }\n"),
        "E0106",
        "text",
    );
    expect(
        &with_agent("action x { target: conversation, task: add_label(\"a\", label: \"b\") }\n"),
        "E0106",
        "label",
    );
}

// ---- resolution --------------------------------------------------------------------------

#[test]
fn unknown_name_suggests() {
    let d = expect(
        &with_agent("action x { target: conversation, task: add_label(ordr_id) }\n"),
        "E0201",
        "ordr_id",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `order_id`?"));
}

#[test]
fn usecase_is_only_readable_from_usecase_bindings() {
    expect(
        &with_agent("on message_received when block.name == \"x\" do y\naction y { target: conversation, task: add_label(\"x\") }\n"),
        "E0201",
        "block",
    );
    // Through an action bound to an event.
    expect(
        &with_agent("action y { target: conversation, task: add_label(block.name) }\non message_received do y\n"),
        "E0201",
        "block",
    );
    clean(&with_agent(
        "usecase u { blocks: [b] }\naction y { target: conversation, task: add_label(block.name) }\nat block u.b do y\n",
    ));
}

#[test]
fn usecase_name_is_readable_in_usecase_and_block_bindings() {
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
    expect(
        &with_agent("on message_received when usecase.name == \"x\" do y\naction y { target: conversation, task: add_label(\"x\") }\n"),
        "E0201",
        "usecase",
    );
    expect(
        &with_agent("action y { target: conversation, task: add_label(usecase.name) }\non message_received do y\n"),
        "E0201",
        "usecase",
    );
}

#[test]
fn unknown_name_in_a_task_points_to_its_parameters() {
    let target = "target orders: http { base_url: \"https://x.example\" }\n";
    let d = expect(
        &with_agent(&format!(
            "{target}task get_order(id: text) on orders {{ method: GET, path: \"/o/{{ref}}\" }}\n"
        )),
        "E0201",
        "ref",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("add `ref` to the task's parameters, e.g. `(ref: text)`; a task's fields can read only the task's own parameters")
    );
    let d = expect(
        &with_agent(&format!("{target}task get_order(id: text) on orders {{ method: GET, path: \"/o\", result: {{ s: orders }} }}\n")),
        "E0201",
        "orders",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("add `orders` to the task's parameters, e.g. `(orders: text)`; a task's fields can read only the task's own parameters and `response`")
    );
}

#[test]
fn response_only_inside_result() {
    expect(
        &with_agent("action y { target: conversation, task: add_label(response.status) }\non message_received do y\n"),
        "E0201",
        "response",
    );
}

#[test]
fn unknown_target() {
    let d = expect(
        &with_agent("target orders: http { base_url: \"https://x.example\" }\naction y { target: ordres, task: get(\"/\") }\n"),
        "E0202",
        "ordres",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `orders`?"));
}

#[test]
fn unknown_target_kind() {
    let d = expect(
        &with_agent("target t: htpp { base_url: \"https://x\" }\n"),
        "E0203",
        "htpp",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `http`?"));
}

#[test]
fn unknown_field_per_block_kind() {
    expect(&with_agent("reply r { txt: \"a\" }\n"), "E0204", "txt");
    expect(
        &with_agent("target t: http { base_url: \"https://x.example\", tiemout: 3s }\n"),
        "E0204",
        "tiemout",
    );
    expect(
        &with_agent("action x { target: conversation, task: add_label(\"a\"), wen: true }\n"),
        "E0204",
        "wen",
    );
    expect(
        &with_agent("on message_received when event.txt == \"a\" do x\naction x { target: conversation, task: add_label(\"a\") }\n"),
        "E0204",
        "txt",
    );
    expect(
        &with_agent("action x { target: conversation, task: add_label(user.nme) }\n"),
        "E0204",
        "nme",
    );
}

#[test]
fn missing_required_field() {
    let d = expect(
        &with_agent("action x { target: conversation }\n"),
        "E0205",
        "x",
    );
    assert!(d.message.contains("`task`"), "{}", d.message);
    expect(
        &with_agent("target z: zendesk { email: \"a@b\", token: secret(\"T\") }\n"),
        "E0205",
        "z",
    );
}

#[test]
fn unknown_task() {
    let d = expect(
        &with_agent("action x { target: conversation, task: add_lable(\"a\") }\n"),
        "E0206",
        "add_lable",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `add_label`?"));
    expect(
        &with_agent(
            "target a1: http { base_url: \"https://a.example\" }\ntarget a2: http { base_url: \"https://b.example\" }\n\
             task t() on a1 { method: GET, path: \"/\" }\naction x { target: a2, task: t() }\n",
        ),
        "E0206",
        "t",
    );
}

#[test]
fn arguments() {
    expect(
        &with_agent("target z: zendesk { subdomain: \"a\", email: \"a@b\", token: secret(\"T\") }\naction x { target: z, task: create_ticket(subject: \"s\", comment: \"c\", prio: \"high\") }\n"),
        "E0207",
        "prio",
    );
    expect(
        &with_agent("action x { target: conversation, task: add_label(\"a\", \"b\") }\n"),
        "E0207",
        "\"b\"",
    );
    expect(
        &with_agent("target z: zendesk { subdomain: \"a\", email: \"a@b\", token: secret(\"T\") }\naction x { target: z, task: create_ticket(subject: \"s\") }\n"),
        "E0208",
        "create_ticket(subject: \"s\")",
    );
    expect(&with_agent("on message_received when len() > 1 do x\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0208", "len()");
}

#[test]
fn unknown_event_action_reply_usecase_block() {
    let d = expect(
        &with_agent(
            "on call_ringin do x\naction x { target: conversation, task: add_label(\"a\") }\n",
        ),
        "E0209",
        "call_ringin",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `call_ringing`?"));
    expect(
        &with_agent("on message_received do nope\n"),
        "E0210",
        "nope",
    );
    expect(
        &with_agent("on conversation_started reply welcom\nreply welcome { text: \"hi\" }\n"),
        "E0211",
        "welcom",
    );
    expect(&with_agent("in usecase stat do x\nusecase status { blocks: [a] }\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0212", "stat");
    expect(&with_agent("at block status.c do x\nusecase status { blocks: [a, b] }\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0213", "c");
}

#[test]
fn unknown_function_type_param_word() {
    let d = expect(&with_agent("on message_received when lowr(\"A\") == \"a\" do x\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0214", "lowr");
    assert_eq!(d.help.as_deref(), Some("did you mean `lower`?"));
    expect(
        "agent a {\n  channels: [chat]\n  params: { x: txt }\n}\n",
        "E0215",
        "txt",
    );
    expect(
        &with_agent("action x { target: conversation, task: increment(atempts) }\n"),
        "E0216",
        "atempts",
    );
    expect(
        &with_agent("action x { target: conversation, task: set(nte: \"a\") }\n"),
        "E0216",
        "nte",
    );
    let d = expect(
        &with_agent("target api: http { base_url: \"https://x.example\" }\ntask t() on api { method: GOT, path: \"/\" }\n"),
        "E0217",
        "GOT",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `GET`?"));
    expect("agent a { channels: [chat, vocie] }\n", "E0217", "vocie");
}

// ---- types -------------------------------------------------------------------------------

#[test]
fn type_mismatches() {
    expect(&with_agent("on message_received when n + \"a\" == 1 do x\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0301", "n + \"a\"");
    expect(&with_agent("on message_received when n do x\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0301", "n");
    expect(
        &with_agent("action x { target: conversation, task: add_label(n) }\n"),
        "E0301",
        "n",
    );
    expect(
        &with_agent("action x { target: conversation, task: set(n: \"three\") }\n"),
        "E0301",
        "\"three\"",
    );
    expect(
        &with_agent("action x { target: conversation, task: increment(note) }\n"),
        "E0301",
        "note",
    );
    expect(&with_agent("on message_received when order_id == 3 do x\naction x { target: conversation, task: add_label(\"a\") }\n"), "E0301", "order_id == 3");
    expect(
        "agent a {\n  channels: [chat]\n  params: { x: number = \"a\" }\n}\n",
        "E0301",
        "\"a\"",
    );
    expect(
        &with_agent("target t: http { base_url: \"https://x.example\", timeout: 5 }\n"),
        "E0301",
        "5",
    );
    let d = expect(
        &with_agent("target t: http { base_url: \"https://x.example\", auth: \"Bearer x\" }\n"),
        "E0301",
        "\"Bearer x\"",
    );
    assert!(d.help.unwrap().starts_with("write bearer("));
    // `+` on two texts concatenates; `??` keeps the type.
    clean(&with_agent("action x { target: conversation, task: add_label(note + \"-\" + (order_id ?? \"none\")) }\non message_received do x\n"));
}

#[test]
fn save_into_a_param_of_another_type() {
    let d = expect(
        &with_agent("target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: get(\"/\"), save: note }\non message_received do x\n"),
        "E0302",
        "note",
    );
    assert_eq!(d.labels.len(), 2, "secondary label at the param");
    clean(&with_agent("target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: get(\"/\"), save: order }\non message_received do x\n"));
}

#[test]
fn values_that_must_be_constant() {
    expect(
        &with_agent("action x { target: conversation, task: add_label(\"a\"), timeout: n }\n"),
        "E0303",
        "n",
    );
    expect(
        "agent a {\n  channels: [chat]\n  inactivity: \"{1}\"\n}\n",
        "E0303",
        "\"{1}\"",
    );
    expect(
        "agent a {\n  channels: [chat]\n  inactivity: 5\n}\n",
        "E0301",
        "5",
    );
    expect(
        "agent a {\n  channels: [chat]\n  language: \"{1}\"\n}\n",
        "E0303",
        "\"{1}\"",
    );
    expect(
        &with_agent("usecase u { blocks: [\"a\"] }\n"),
        "E0303",
        "\"a\"",
    );
    expect(
        &with_agent("target t: http { base_url: \"https://x.example\", retry: { attempts: n } }\n"),
        "E0303",
        "n",
    );
}

// ---- domain rules ------------------------------------------------------------------------

#[test]
fn reply_only_on_two_events() {
    let d = expect(
        &with_agent("on message_received reply r\nreply r { text: \"a\" }\n"),
        "E0401",
        "message_received",
    );
    assert!(d
        .help
        .unwrap()
        .contains("conversation_started and conversation_inactive"));
}

#[test]
fn channels() {
    let d = expect(&format!("{CHAT_AGENT}on call_ringing do x\naction x {{ target: conversation, task: add_label(\"a\") }}\n"), "E0402", "call_ringing");
    assert!(d.help.unwrap().contains("`voice`"));
    expect(
        &format!("{CHAT_AGENT}action x {{ target: call, task: hangup() }}\n"),
        "E0402",
        "call",
    );
    expect(&format!("{CHAT_AGENT}before call do x\naction x {{ target: conversation, task: add_label(\"a\") }}\n"), "E0402", "before call");
}

#[test]
fn moments() {
    let d = expect(
        &with_agent("action greet { target: call, task: say(\"hi\") }\nbefore call do greet\n"),
        "E0403",
        "say",
    );
    assert!(d.message.contains("not answered yet"), "{}", d.message);
    expect(
        &with_agent("action x { target: call, task: hangup() }\nafter call do x\n"),
        "E0403",
        "hangup",
    );
    expect(
        &with_agent(
            "action x { target: conversation, task: escalate() }\non conversation_ended do x\n",
        ),
        "E0403",
        "escalate",
    );
    // Reached through on_failure.
    expect(
        &with_agent("target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: get(\"/\"), on_failure: y }\naction y { target: call, task: say(\"sorry\") }\non call_ringing do x\n"),
        "E0403",
        "say",
    );
    clean(&with_agent(
        "action greet { target: call, task: say(\"hi\") }\non call_started do greet\n",
    ));
}

#[test]
fn failure_cycles() {
    let d = expect(
        &with_agent("action x { target: conversation, task: add_label(\"a\"), on_failure: y }\naction y { target: conversation, task: add_label(\"b\"), on_failure: x }\non message_received do x\n"),
        "E0404",
        "y",
    );
    assert_eq!(d.message, "`on_failure` cycle: x → y → x");
    assert_eq!(d.labels.len(), 2);
    expect(&with_agent("action x { target: conversation, task: add_label(\"a\"), on_failure: x }\non message_received do x\n"), "E0404", "x");
}

#[test]
fn on_failure_lists_are_followed_for_cycles_moments_and_scopes() {
    let label = |name: &str, tag: &str, rest: &str| {
        format!("action {name} {{ target: conversation, task: add_label(\"{tag}\"){rest} }}\n")
    };
    // A cycle through the second entry of a list.
    let d = expect(
        &with_agent(&format!(
            "{}{}{}on message_received do x\n",
            label("x", "a", ", on_failure: [y, z]"),
            label("y", "b", ""),
            label("z", "c", ", on_failure: x"),
        )),
        "E0404",
        "z",
    );
    assert_eq!(d.message, "`on_failure` cycle: x → z → x");
    // A task that cannot run at the moment, reached through the second entry.
    expect(
        &with_agent(&format!(
            "{}{}action z {{ target: call, task: say(\"sorry\") }}\non call_ringing do x\n",
            label("x", "a", ", on_failure: [y, z]"),
            label("y", "b", ""),
        )),
        "E0403",
        "say",
    );
    // `usecase` read by an entry of the list, which a `message_received` binding lacks.
    expect(
        &with_agent(&format!(
            "{}{}{}on message_received do x\n",
            label("x", "a", ", on_failure: [y, z]"),
            label("y", "b", ""),
            "action z { target: conversation, task: add_label(usecase.name) }\n",
        )),
        "E0201",
        "usecase",
    );
    let d = expect(
        &with_agent(&format!(
            "{}{}on message_received do x\n",
            label("x", "a", ", on_failure: [y, \"z\"]"),
            label("y", "b", ""),
        )),
        "E0210",
        "\"z\"",
    );
    assert!(d.help.unwrap().contains("[apologise, open_ticket]"));
    let ir = clean(&with_agent(&format!(
        "{}{}{}on message_received do x\n",
        label("x", "a", ", on_failure: [z, y]"),
        label("y", "b", ""),
        label("z", "c", ""),
    )));
    assert_eq!(ir.actions["x"].on_failure, ["z", "y"]);
}

#[test]
fn a_binding_naming_several_events_is_checked_against_each() {
    let ask = "action ask { target: conversation, task: add_label(\"a\") }\n";
    let d = expect(
        &with_agent(&format!("{ask}on message_received, dtmf_recieved do ask\n")),
        "E0209",
        "dtmf_recieved",
    );
    assert!(d.help.unwrap().contains("dtmf_received"));
    expect(
        &format!("{CHAT_AGENT}{ask}on message_received, dtmf_received do ask\n"),
        "E0402",
        "dtmf_received",
    );
    let d = expect(
        &with_agent(&format!(
            "{ask}on message_received, dtmf_received when event.text == \"1\" do ask\n"
        )),
        "E0204",
        "text",
    );
    assert_eq!(d.message, "`event` of `dtmf_received` has no field `text`");
    // A mistake that does not depend on the event is reported once.
    let (_, checked) = run(&with_agent(&format!(
        "{ask}on message_received, dtmf_received when nope do ask\n"
    )));
    let unknown = checked
        .diagnostics
        .iter()
        .filter(|d| d.code.as_str() == "E0201");
    assert_eq!(unknown.count(), 1);
    expect(
        &with_agent(
            "action esc { target: conversation, task: escalate() }\non message_received, conversation_ended do esc\n",
        ),
        "E0403",
        "escalate",
    );
    expect(
        &with_agent(&format!(
            "{ask}on message_received, message_received do ask\n"
        )),
        "E0105",
        "message_received",
    );
    expect(
        &with_agent(
            "reply hi { text: \"hi\" }\non conversation_started, message_received reply hi\n",
        ),
        "E0401",
        "message_received",
    );
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
fn starting_a_use_case_or_a_block_names_declared_ones() {
    let d = expect(
        &rebooking("action go { target: conversation, task: start_usecase(rebok_flight) }\non dtmf_received do go\n"),
        "E0212",
        "rebok_flight",
    );
    assert!(d.help.unwrap().contains("rebook_flight"), "did you mean");
    let d = expect(
        &rebooking("action go { target: conversation, task: goto_block(rebook_flight.confrim) }\non dtmf_received do go\n"),
        "E0213",
        "confrim",
    );
    assert!(d.help.unwrap().contains("confirm"), "did you mean");
    expect(
        &rebooking("action go { target: conversation, task: goto_block(rebook_flight) }\non dtmf_received do go\n"),
        "E0213",
        "rebook_flight",
    );
    expect(
        &rebooking("action go { target: conversation, task: start_usecase(\"rebook_flight\") }\non dtmf_received do go\n"),
        "E0212",
        "\"rebook_flight\"",
    );
    expect(
        &rebooking("action go { target: conversation, task: start_usecase(refund) }\non conversation_ended do go\n"),
        "E0403",
        "start_usecase",
    );
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

#[test]
fn a_use_case_that_starts_itself_is_a_cycle() {
    let d = expect(
        &rebooking("action to_refund { target: conversation, task: start_usecase(refund) }\naction to_rebook { target: conversation, task: start_usecase(rebook_flight) }\nin usecase rebook_flight do to_refund\nin usecase refund do to_rebook\n"),
        "E0409",
        "start_usecase",
    );
    assert_eq!(
        d.message,
        "use case `rebook_flight` starts itself: rebook_flight → refund → rebook_flight"
    );
    assert_eq!(d.labels.len(), 2);
    // Through a block, and through an `on_failure` entry.
    let d = expect(
        &rebooking("action again { target: conversation, task: goto_block(rebook_flight.confirm) }\naction check { target: conversation, task: verify(false), on_failure: [again] }\nat block rebook_flight.confirm do check\n"),
        "E0409",
        "goto_block",
    );
    assert_eq!(
        d.message,
        "block `rebook_flight.confirm` starts itself: rebook_flight.confirm → rebook_flight.confirm"
    );
    // Started from an event binding, or onwards without coming back: no cycle.
    clean(&rebooking("action to_refund { target: conversation, task: start_usecase(refund) }\naction to_rebook { target: conversation, task: start_usecase(rebook_flight) }\non dtmf_received do to_rebook\nin usecase rebook_flight do to_refund\n"));
}

#[test]
fn interpolated_sql() {
    let d = expect(
        &with_agent("target db: sql { url: \"sqlite::memory:\" }\naction x { target: db, task: execute(\"DELETE FROM t WHERE id = '{order_id}'\") }\non message_received do x\n"),
        "E0405",
        "\"DELETE FROM t WHERE id = '{order_id}'\"",
    );
    assert_eq!(
        d.help.as_deref(),
        Some(
            "pass the values as bound arguments: execute(\"DELETE FROM t WHERE id = ?\", order_id)"
        )
    );
    expect(
        &with_agent("target db: sql { url: \"postgres://db/x\" }\naction x { target: db, task: query(\"SELECT * FROM t WHERE a = \" + note) }\non message_received do x\n"),
        "E0405",
        "\"SELECT * FROM t WHERE a = \" + note",
    );
    clean(&with_agent("target db: sql { url: \"sqlite::memory:\" }\naction x { target: db, task: query(\"SELECT * FROM t WHERE a = ?\", note), save: items }\non message_received do x\n"));
}

#[test]
fn secrets_in_clear() {
    expect(
        &with_agent(
            "target t: http { base_url: \"http://api.example\", auth: bearer(secret(\"T\")) }\n",
        ),
        "E0406",
        "secret(\"T\")",
    );
    expect(
        &with_agent("target t: http { base_url: \"https://api.example\" }\naction x { target: t, task: get(\"/\", query: { key: secret(\"K\") }) }\non message_received do x\n"),
        "E0406",
        "secret(\"K\")",
    );
    expect(
        &with_agent("target t: http { base_url: \"https://api.example\" }\ntask g() on t { method: GET, path: \"/x?key={secret(\"K\")}\" }\n"),
        "E0406",
        "secret(\"K\")",
    );
    // A secret passed to a declared task's parameter that goes into its path.
    expect(
        &with_agent("target t: http { base_url: \"https://api.example\" }\ntask g(k: text) on t { method: GET, path: \"/x/{k}\" }\naction x { target: t, task: g(secret(\"K\")) }\non message_received do x\n"),
        "E0406",
        "secret(\"K\")",
    );
    clean(&with_agent("target t: http { base_url: \"http://127.0.0.1:8080\", auth: bearer(secret(\"T\")) }\naction x { target: t, task: get(\"/\") }\non message_received do x\n"));
}

#[test]
fn secrets_shown() {
    expect(
        &with_agent(
            "reply r { text: \"token {secret(\"T\")}\" }\non conversation_started reply r\n",
        ),
        "E0407",
        "secret(\"T\")",
    );
    expect(&with_agent("action x { target: conversation, task: add_label(secret(\"T\")) }\non message_received do x\n"), "E0407", "secret(\"T\")");
    expect(&with_agent("action x { target: conversation, task: set(note: lower(secret(\"T\"))) }\non message_received do x\n"), "E0407", "secret(\"T\")");
    expect(
        &with_agent("target s: sms { account_sid: \"A\", auth_token: secret(\"T\"), from: \"+1\" }\naction x { target: s, task: send_sms(\"+1\", \"code {secret(\"C\")}\") }\non message_received do x\n"),
        "E0407",
        "secret(\"C\")",
    );
    // A comparison yields a bool: the secret does not flow on.
    clean(&with_agent("action x { target: conversation, task: verify(note == secret(\"PIN\")) }\non message_received do x\n"));
}

#[test]
fn declared_task_on_a_kind_without_tasks() {
    expect(
        &with_agent("target db: sql { url: \"sqlite::memory:\" }\ntask t() on db { method: GET, path: \"/\" }\n"),
        "E0408",
        "db",
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
    // A declared task may not shadow a built-in one of the kind.
    expect(
        &with_agent(&format!(
            "{CRM_TARGETS}task search(q: text) on desk {{ method: GET, path: \"/search.json\" }}\n"
        )),
        "E0105",
        "search",
    );
}

#[test]
fn soql_values_are_bound_and_checked_against_the_placeholders() {
    let query = |call: &str| {
        with_agent(&format!(
            "{CRM_TARGETS}action q {{ target: crm, task: {call}, save: items }}\non message_received do q\n"
        ))
    };
    let ir = clean(&query(
        "query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email AND Subject LIKE %:word%\", { email: user.email, word: note })",
    ));
    assert_eq!(ir.actions["q"].task.task.name(), "query");
    clean(&query(
        "query(\"SELECT Id FROM Case WHERE Subject = ':not_one' LIMIT 5\")",
    ));
    let d = expect(
        &query("query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email AND Status = :status\", { email: user.email })"),
        "E0208",
        "{ email: user.email }",
    );
    assert_eq!(d.message, "placeholder `:status` of the query has no value");
    expect(
        &query("query(\"SELECT Id FROM Case WHERE Id = :id\")"),
        "E0208",
        "query(\"SELECT Id FROM Case WHERE Id = :id\")",
    );
    expect(
        &query("query(\"SELECT Id FROM Case WHERE Id = :id\", { id: order_id, mail: note })"),
        "E0207",
        "mail",
    );
    let d = expect(
        &query("query(\"SELECT Id FROM Case WHERE SuppliedEmail = '{user.email}' LIMIT 1\")"),
        "E0405",
        "\"SELECT Id FROM Case WHERE SuppliedEmail = '{user.email}' LIMIT 1\"",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("pass the values bound: query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email LIMIT 1\", { email: user.email })")
    );
    expect(
        &query("query(\"SELECT Id FROM Case WHERE Id = \" + order_id)"),
        "E0405",
        "\"SELECT Id FROM Case WHERE Id = \" + order_id",
    );
}

// ---- tests -------------------------------------------------------------------------------

#[test]
fn test_blocks() {
    let base = with_agent("target api: http { base_url: \"https://x.example\" }\ntarget db: sql { url: \"sqlite::memory:\" }\naction x { target: api, task: get(\"/\") }\non message_received do x\nusecase u { blocks: [b] }\n");
    expect(
        &format!("{base}test \"t\" {{\n  mock conversation GET \"/\" -> 200\n}}\n"),
        "E0501",
        "conversation",
    );
    expect(
        &format!("{base}test \"t\" {{\n  mock api GET \"/\" -> 999\n}}\n"),
        "E0501",
        "999",
    );
    expect(
        &format!("{base}test \"t\" {{\n  expect email api {{ to: \"a\" }}\n}}\n"),
        "E0501",
        "api",
    );
    expect(
        &format!("{base}test \"t\" {{\n  mock apx GET \"/\" -> 200\n}}\n"),
        "E0202",
        "apx",
    );
    expect(
        &format!("{base}test \"t\" {{\n  send messag_received\n}}\n"),
        "E0209",
        "messag_received",
    );
    expect(
        &format!("{base}test \"t\" {{\n  send block u.c\n}}\n"),
        "E0213",
        "c",
    );
    expect(
        &format!("{base}test \"t\" {{\n  send message_received {{ txt: \"a\" }}\n}}\n"),
        "E0204",
        "txt",
    );
    expect(
        &format!("{base}test \"t\" {{\n  expect ran y\n}}\n"),
        "E0210",
        "y",
    );
    expect(
        &format!("{base}test \"t\" {{\n  mock api GOT \"/\" -> 200\n}}\n"),
        "E0217",
        "GOT",
    );
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
    expect(
        &with_agent(&format!(
            "{base}test \"t\" {{\n  expect transfer {{ too: \"+1\" }}\n}}\n"
        )),
        "E0204",
        "too",
    );
    // The one call effect a test can make fail is a transfer.
    let ir = clean(&with_agent(&format!(
        "{base}test \"t\" {{\n  mock call transfer \"*\" -> fail\n}}\n"
    )));
    assert!(matches!(
        &ir.tests[0].steps[0],
        ir::TestStep::FailTransfer { to, reason, .. } if to == "*" && reason == "busy"
    ));
    expect(
        &with_agent(&format!(
            "{base}test \"t\" {{\n  mock call hangup \"*\" -> fail\n}}\n"
        )),
        "E0501",
        "mock call hangup \"*\" -> fail",
    );
}

// ---- warnings ----------------------------------------------------------------------------

#[test]
fn unused_declarations() {
    let src = with_agent(
        "target api: http { base_url: \"https://x.example\" }\ntarget spare: http { base_url: \"https://y.example\" }\n\
         task t() on api { method: GET, path: \"/\" }\naction x { target: api, task: get(\"/\") }\n\
         reply r { text: \"a\" }\n",
    );
    expect(&src, "W0601", "x");
    expect(&src, "W0602", "r");
    expect(&src, "W0603", "spare");
    expect(&src, "W0606", "t");
    expect(
        &with_agent("target t: http { base_url: \"http://api.example\" }\n"),
        "W0604",
        "\"http://api.example\"",
    );
}

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

#[test]
fn caller_needs_the_voice_channel() {
    expect(
        &format!("{CHAT_AGENT}action x {{ target: conversation, task: add_label(caller.phone) }}\non message_received do x\n"),
        "E0402",
        "caller",
    );
}

#[test]
fn a_function_read_as_a_value_says_to_call_it() {
    let d = expect(
        &with_agent(
            "action x { target: conversation, task: add_label(today) }\non message_received do x\n",
        ),
        "E0201",
        "today",
    );
    assert!(d.help.unwrap().contains("today(…)"));
}

#[test]
fn syntax_errors_are_kept_and_checking_goes_on() {
    let (sources, checked) = run(&with_agent(
        "action broken { target: conversation task: }\naction x { target: nowhere, task: add_label(\"a\") }\non message_received do x\n",
    ));
    let codes: Vec<&str> = checked
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert!(
        codes.iter().any(|c| c.starts_with("E00")),
        "a syntax error: {}",
        describe(&sources, &checked)
    );
    assert!(codes.contains(&"E0202"), "{}", describe(&sources, &checked));
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

// ---- the expression library ----------------------------------------------------------------

/// An action that sets `note` to `value`, run on every message.
fn setting_note(value: &str) -> String {
    with_agent(&format!(
        "on message_received do x\naction x {{ target: conversation, task: set(note: {value}) }}\n"
    ))
}

// ---- semantics: words, patterns, null arguments ------------------------------------------

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
fn literal_locales_currencies_and_time_zones_are_checked() {
    let d = expect(
        &setting_note("format_money(5, \"EUR\", \"fr-FX\")"),
        "E0217",
        "\"fr-FX\"",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `fr-FR`?"));
    expect(
        &setting_note("format_money(5, \"EUX\", \"fr-FR\")"),
        "E0217",
        "\"EUX\"",
    );
    expect(
        &setting_note("format_number(5, 2, \"xx\")"),
        "E0217",
        "\"xx\"",
    );
    let d = expect(
        &setting_note("format_date(now(), \"%H:%M\", \"Europe/Pariss\")"),
        "E0217",
        "\"Europe/Pariss\"",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `Europe/Paris`?"));
    // Computed names are checked when the program runs.
    clean(&setting_note(
        "format_money(5, order.currency, customer.locale) + format_date(now(), \"%H\", note)",
    ));
    // A currency is a word of a fixed set, so it may be written bare.
    clean(&setting_note("format_money(5, EUR, \"de-DE\")"));
}

#[test]
fn slice_takes_a_text_or_a_list_and_returns_its_type() {
    expect(&setting_note("slice(5, 1)"), "E0301", "5");
    clean(&setting_note("upper(slice(note, 0, 3))"));
    // A slice of a list is a list, not a text.
    expect(&setting_note("slice(items, 1)"), "E0301", "slice(items, 1)");
    clean(&setting_note("join(slice(items, 1), \", \")"));
}

#[test]
fn a_date_moved_by_a_duration_is_a_text() {
    clean(&setting_note("today() + 1d"));
    clean(&setting_note("now() - 90m"));
    clean(&setting_note("order.eta + 2d"));
    expect(&setting_note("1d + today()"), "E0301", "1d + today()");
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
fn a_literal_text_outside_the_set_is_an_error_in_any_branch() {
    expect(
        &ticket_with_priority("if n > 2 then \"urgent\" else \"critical\""),
        "E0217",
        "\"critical\"",
    );
    expect(
        &ticket_with_priority("note ?? critical"),
        "E0217",
        "critical",
    );
}

#[test]
fn a_literal_regular_expression_that_does_not_compile_is_an_error_at_its_span() {
    let d = expect(
        &with_agent(
            "action tag {\n  target: conversation\n  task: add_label(\"spam\")\n  when: matches(note, \"(free|win\")\n}\n\non message_received do tag\n",
        ),
        "E0304",
        "\"(free|win\"",
    );
    assert!(
        d.labels[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("unclosed group"),
        "{d:?}"
    );
    clean(&with_agent(
        "action tag {\n  target: conversation\n  task: add_label(\"spam\")\n  when: matches(note, \"(free|win)\")\n}\n\non message_received do tag\n",
    ));
}

#[test]
fn matchers_in_expected_fields_are_checked_like_the_calls_they_stand_for() {
    let base = with_agent("target api: http { base_url: \"https://x.example\" }\naction x { target: api, task: post(\"/o\", body: { note: note }) }\non message_received do x\n");
    let step = |expectation: &str| format!("{base}test \"t\" {{\n  expect {expectation}\n}}\n");
    let d = expect(
        &step("request api POST \"/o\" { body: { id: matches(\"^ord-(\") } }"),
        "E0304",
        "\"^ord-(\"",
    );
    assert!(d.message.contains("does not compile"), "{d:?}");
    expect(
        &step("request api POST \"/o\" { body: { note: contains(note) } }"),
        "E0303",
        "note",
    );
    expect(
        &step("request api POST \"/o\" contains(\"x\")"),
        "E0301",
        "contains(\"x\")",
    );
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

#[test]
fn a_required_argument_written_as_null_is_a_warning() {
    let d = expect(
        &with_agent(
            "target api: http {\n  base_url: \"https://api.acme.example\"\n}\n\ntask get_booking(pnr: text, lang: text?) on api {\n  method: GET\n  path: \"/bookings/{pnr}\"\n}\n\naction load {\n  target: api\n  task: get_booking(null, lang: null)\n}\n\non message_received do load\n",
        ),
        "W0607",
        "null",
    );
    assert_eq!(d.message, "argument `pnr` of `get_booking` is null");
    let (_, checked) = run(&with_agent(
        "target api: http {\n  base_url: \"https://api.acme.example\"\n}\n\ntask get_booking(pnr: text, lang: text?) on api {\n  method: GET\n  path: \"/bookings/{pnr}\"\n}\n\naction load {\n  target: api\n  task: get_booking(order_id, lang: null)\n}\n\non message_received do load\n",
    ));
    assert!(!checked
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "W0607"));
}

#[test]
fn an_optional_parameter_in_a_declared_path_is_a_warning() {
    let task = |params: &str| {
        with_agent(&format!(
            "target api: http {{\n  base_url: \"https://api.acme.example\"\n}}\n\ntask get_booking({params}) on api {{\n  method: GET\n  path: \"/bookings/{{pnr}}\"\n}}\n\naction load {{\n  target: api\n  task: get_booking(order_id)\n}}\n\non message_received do load\n"
        ))
    };
    let d = expect(&task("pnr: text?"), "W0607", "\"/bookings/{pnr}\"");
    assert_eq!(
        d.message,
        "optional parameter `pnr` is put into the path of `get_booking`"
    );
    for params in ["pnr: text", "pnr: text = \"none\""] {
        let (_, checked) = run(&task(params));
        assert!(
            !checked
                .diagnostics
                .iter()
                .any(|d| d.code.as_str() == "W0607"),
            "{params}"
        );
    }
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
/// (docs/testing.md): one of the agent's, as `agentc run` requires.
#[test]
fn a_sent_event_may_name_one_of_the_agents_channels() {
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
    expect(&test("\"email\""), "E0402", "\"email\"");
    let unknown = expect(&test("\"chatt\""), "E0217", "\"chatt\"");
    assert_eq!(unknown.help.as_deref(), Some("did you mean `chat`?"));
    expect(&test("1"), "E0501", "1");
}

/// The help for an unknown payload field names each field once (`message_received` has a
/// `params` of its own, and every event takes `params`).
#[test]
fn an_unknown_payload_field_lists_each_known_field_once() {
    let d = expect(
        &format!("{AGENT}test \"t\" {{\n  send message_received {{ txet: \"hi\" }}\n}}\n"),
        "E0204",
        "txet",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `text`?"));
    let d = expect(
        &format!("{AGENT}test \"t\" {{\n  send message_received {{ zzz: \"hi\" }}\n}}\n"),
        "E0204",
        "zzz",
    );
    assert_eq!(
        d.help.as_deref(),
        Some("its payload fields are: text, params, user, caller, channel")
    );
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

/// A name declared twice as two kinds is one error (E0105): the second declaration is not
/// then reported as missing where it is used, with its own name as the suggestion.
#[test]
fn a_name_declared_twice_is_reported_once() {
    let (sources, checked) = run(&with_agent(
        "target pharmacy: http { base_url: \"https://x.example\" }\n\
         action refill { target: pharmacy, task: refill(\"1\") }\n\
         task refill(id: text) on pharmacy { method: POST, path: \"/refills/{id}\" }\n\
         on message_received do refill\n",
    ));
    let errors: Vec<&str> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(errors, ["E0105"], "{}", describe(&sources, &checked));
}
