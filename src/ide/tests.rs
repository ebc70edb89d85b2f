//! Language services on marked-up sources: `$0` marks the cursor, as in rust-analyzer's
//! tests. Results are shown as the text they point at (`path:start..end "text"`), so a
//! snapshot reads as what an editor would show.

use super::*;

const MAIN: &str = r#"import "replies.agent"

agent desk {
    channels: [chat]
    params: {
        order_id: text
        lookups: number = 0
    }
}

target orders: http {
    base_url: "https://shop.example"
}

task get_order(id: text) on orders {
    method: GET
    path: "/orders/{id}"
}

usecase order_status {
    blocks: [ask, show]
}

on conversation_started reply welcome
at block order_status.show do check_order
in usecase order_status do count

action check_order {
    target: orders
    task: get_order(id: order_id)
    on_failure: apologise
}

action apologise {
    target: conversation
    task: reply(sorry)
}

action count {
    target: conversation
    task: increment(lookups)
    when: user.email != null
}

test "looks the order up" {
    send block order_status.show
    expect request orders GET "/orders/1"
    expect ran check_order
}
"#;

const REPLIES: &str = r#"reply welcome {
    text: "Hello, {user.name}!"
}

reply sorry {
    text: "Sorry, order {order_id} could not be found."
}
"#;

/// A world of `main.agent` and `replies.agent`, one of them holding `$0`: the path and
/// offset of the cursor.
fn world_with_cursor(main: &str, replies: &str) -> (World, String, usize) {
    let mut world = World::default();
    let mut cursor = None;
    for (path, text) in [("main.agent", main), ("replies.agent", replies)] {
        if let Some(at) = text.find("$0") {
            cursor = Some((path.to_string(), at));
        }
        world.set_file(path, text.replacen("$0", "", 1));
    }
    let (path, offset) = cursor.expect("a `$0` marks the cursor");
    (world, path, offset)
}

/// Puts `$0` where `marker` first occurs in `text`, `skip` bytes into it.
fn mark(text: &str, marker: &str, skip: usize) -> String {
    let at = text.find(marker).expect("marker present") + skip;
    format!("{}$0{}", &text[..at], &text[at..])
}

fn shown(world: &mut World, location: &Location) -> String {
    let text = world.text(&location.path).unwrap_or_default();
    format!(
        "{}:{}..{} {:?}",
        location.path,
        location.range.start,
        location.range.end,
        &text[location.range.clone()]
    )
}

fn at_main(marker: &str, skip: usize) -> (World, String, usize) {
    world_with_cursor(&mark(MAIN, marker, skip), REPLIES)
}

#[test]
fn a_program_of_two_files_has_no_diagnostics() {
    let mut world = World::default();
    world.set_file("main.agent", MAIN.into());
    world.set_file("replies.agent", REPLIES.into());
    for (path, found) in world.diagnostics() {
        assert!(found.is_empty(), "{path}: {found:#?}");
    }
}

#[test]
fn diagnostics_follow_the_edits_and_clear_when_fixed() {
    let mut world = World::default();
    world.set_file("main.agent", MAIN.replace("apologise\n}", "apologize\n}"));
    world.set_file("replies.agent", REPLIES.into());
    let found = world.diagnostics();
    let main = &found.iter().find(|(p, _)| p == "main.agent").unwrap().1;
    let codes: Vec<&str> = main.iter().map(|d| d.code.as_str()).collect();
    // The misspelt action, and so the real one never runs.
    assert_eq!(codes, vec!["E0210", "W0601"], "{main:#?}");
    world.set_file("main.agent", MAIN.into());
    assert!(world.diagnostics().iter().all(|(_, d)| d.is_empty()));
}

#[test]
fn definition_of_a_reply_is_in_the_imported_file() {
    let (mut world, path, offset) = at_main("reply welcome", 8);
    let found = world.analysis().definition(&path, offset);
    let found: Vec<String> = found.iter().map(|l| shown(&mut world, l)).collect();
    insta::assert_snapshot!(found.join("\n"), @r#"replies.agent:6..13 "welcome""#);
}

#[test]
fn definition_of_params_blocks_task_params_and_imports() {
    let cases = [
        ("task: get_order(id: order_id)", 16, ""),
        ("order_id)", 0, ""),
        ("order_status.show do", 13, ""),
        ("import \"replies", 8, ""),
        ("get_order(id: order_id)", 0, ""),
    ];
    let mut lines = Vec::new();
    for (marker, skip, _) in cases {
        let (mut world, path, offset) = at_main(marker, skip);
        let found = world.analysis().definition(&path, offset);
        let found: Vec<String> = found.iter().map(|l| shown(&mut world, l)).collect();
        lines.push(format!("{marker} @{skip} -> {}", found.join(", ")));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn references_across_files_declaration_first() {
    let source = format!("{REPLIES}\nreply spare {{ text: \"x\" }}\n");
    let (mut world, path, offset) = world_with_cursor(MAIN, &mark(&source, "sorry", 2));
    let found = world.analysis().references(&path, offset, true);
    let found: Vec<String> = found.iter().map(|l| shown(&mut world, l)).collect();
    insta::assert_snapshot!(found.join("\n"));
}

#[test]
fn references_of_a_param_and_an_action() {
    let mut lines = Vec::new();
    for marker in [
        "order_id: text",
        "lookups)",
        "apologise\n}",
        "check_order {",
    ] {
        let (mut world, path, offset) = at_main(marker, 1);
        let found = world.analysis().references(&path, offset, false);
        let found: Vec<String> = found.iter().map(|l| shown(&mut world, l)).collect();
        lines.push(format!("{marker:?}:\n  {}", found.join("\n  ")));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn rename_edits_every_file_and_the_result_checks() {
    let (mut world, path, offset) = at_main("check_order {", 0);
    let edits = world.analysis().rename(&path, offset, "look_up").unwrap();
    for (path, mut edits) in edits {
        let mut text = world.text(&path).unwrap().to_string();
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        for edit in edits {
            text.replace_range(edit.range, &edit.text);
        }
        world.set_file(&path, text);
    }
    let main = world.text("main.agent").unwrap();
    assert_eq!(main.matches("look_up").count(), 3, "{main}");
    assert!(!main.contains("check_order"));
    assert!(world.diagnostics().iter().all(|(_, d)| d.is_empty()));
}

#[test]
fn rename_refuses_built_ins_keywords_and_non_words() {
    let (mut world, path, offset) = at_main("conversation_started", 3);
    let analysis = world.analysis();
    assert_eq!(
        analysis.rename(&path, offset, "x"),
        Err(RenameError::BuiltIn)
    );
    let (mut world, path, offset) = at_main("apologise {", 0);
    let analysis = world.analysis();
    let keyword = analysis.rename(&path, offset, "action").unwrap_err();
    assert_eq!(keyword, RenameError::Keyword("action".into()));
    assert_eq!(keyword.to_string(), "`action` is a keyword");
    assert_eq!(
        analysis.rename(&path, offset, "two words"),
        Err(RenameError::NotAName("two words".into()))
    );
}

#[test]
fn hover_shows_declarations_tasks_events_and_fields() {
    let cases = [
        ("get_order(id", 2),
        ("increment(lookups)", 3),
        ("reply(sorry)", 1),
        ("lookups)", 2),
        ("conversation_started", 4),
        ("email != null", 1),
        ("target orders: http", 16),
        ("sorry)", 1),
        ("import \"replies", 9),
    ];
    let mut out = Vec::new();
    for (marker, skip) in cases {
        let (mut world, path, offset) = at_main(marker, skip);
        let hover = world.analysis().hover(&path, offset);
        let text = hover.map_or("(nothing)".to_string(), |h| h.markdown);
        out.push(format!("## {marker} @{skip}\n{text}"));
    }
    insta::assert_snapshot!(out.join("\n\n"));
}

/// A program whose expressions hover shows the types of.
const TYPED: &str = r#"agent desk {
    channels: [chat, voice]
    params: {
        attempts: number = 0
        items: list
    }
}

on message_received when conversation.channel == "voice" do count

action count {
    target: conversation
    task: increment(attempts)
    when: len(items) > (attempts + 1) * 2
}

on conversation_started reply welcome

reply welcome {
    text: "You have {len(items)} items, {event.params.size}"
}

target shop: http {
    base_url: "https://shop.example"
}

task find(id: text) on shop {
    method: GET
    path: "/items/{id}"
}

usecase browse {
    blocks: [search]
}

at block browse.search when block.name != "search" do look

action look {
    target: shop
    task: find(id: "x" + text(attempts))
}
"#;

/// Each hover on `text` at `marker` (`skip` bytes into it): the range it covers and what it shows.
fn hovers(text: &str, cases: &[(&str, usize)]) -> String {
    let mut out = Vec::new();
    for &(marker, skip) in cases {
        let (mut world, path, offset) = world_with_cursor(&mark(text, marker, skip), "");
        let shown = match world.analysis().hover(&path, offset) {
            Some(h) => format!("{:?}\n{}", &text[h.range], h.markdown),
            None => "(nothing)".to_string(),
        };
        out.push(format!("## {marker} @{skip}\n{shown}"));
    }
    out.join("\n\n")
}

#[test]
fn hover_shows_the_type_the_checker_gives_an_expression() {
    let mut world = World::default();
    world.set_file("main.agent", TYPED.into());
    for (path, found) in world.diagnostics() {
        assert!(found.iter().all(|d| !d.is_error()), "{path}: {found:#?}");
    }
    let cases = [
        // Operators, literals, parentheses, a call's parentheses.
        ("+ 1", 0),
        ("1)", 0),
        ("(attempts + 1)", 0),
        ("* 2", 0),
        ("(items) >", 0),
        ("> (attempts", 0),
        // A comparison in a binding's `when`, and its literal.
        ("== \"voice\"", 1),
        ("\"voice\"", 3),
        // Field paths: a known field, and one known only when it runs.
        (".channel ==", 0),
        (".size}", 0),
        // A string, a call inside its interpolation.
        ("You have", 2),
        ("(items)} items", 6),
        // A declared task's argument, a block's `when`, a task's path.
        ("+ text(", 0),
        ("!= \"search\"", 0),
        ("\"/items", 2),
        // Names keep their own hover; a field's key and a keyword are no expression.
        ("len(items) >", 1),
        ("task: increment", 1),
        ("when conversation", 1),
    ];
    insta::assert_snapshot!(hovers(TYPED, &cases));
}

#[test]
fn hover_on_a_broken_expression_shows_nothing_of_the_mistake() {
    let broken = TYPED
        .replace("(attempts + 1) * 2", "(attempts + \"a\") * 2")
        .replace("== \"voice\"", "== ")
        .replace("{len(items)}", "{len(items, 2, 3)}");
    let cases = [
        // The mistake itself, and what holds it: types that only stand in.
        ("+ \"a\"", 0),
        ("* 2", 0),
        ("== ", 0),
        ("(items, 2", 0),
        // Inside it, what the checker still typed, and arguments it never got to.
        ("\"a\"", 1),
        ("2, 3", 0),
    ];
    insta::assert_snapshot!(hovers(&broken, &cases));
    // Nowhere in a half-typed program does hover fail or point outside the text.
    for cut in (0..TYPED.len()).step_by(7) {
        let mut world = World::default();
        world.set_file("main.agent", TYPED[..cut].to_string());
        let analysis = world.analysis();
        for offset in [0, cut / 2, cut.saturating_sub(1), cut, cut + 5] {
            if let Some(h) = analysis.hover("main.agent", offset) {
                assert!(h.range.end <= cut, "{cut} {offset}: {h:?}");
            }
        }
    }
}

#[test]
fn completion_in_a_file_sees_the_programs_names() {
    let (mut world, path, offset) = at_main("reply welcome", 6);
    let offer = world.analysis().completion(&path, offset).unwrap();
    assert_eq!(offer.words, vec!["sorry", "welcome"]);
    assert_eq!(offer.start, offset);
    let (mut world, path, offset) = at_main("do check_order", 3);
    let offer = world.analysis().completion(&path, offset).unwrap();
    assert_eq!(offer.words, vec!["apologise", "check_order", "count"]);
    let (mut world, path, offset) = at_main("user.email", 6);
    let offer = world.analysis().completion(&path, offset).unwrap();
    assert_eq!(offer.words, vec!["email"]);
    assert_eq!(offer.start, offset - 1);
}

#[test]
fn signature_help_names_the_argument_being_typed() {
    let source = MAIN.replace("task: reply(sorry)", "task: reply(sorry, $0");
    let (mut world, path, offset) = world_with_cursor(&source, REPLIES);
    let help = world.analysis().signature_help(&path, offset).unwrap();
    let active = help.active.map(|i| &help.label[help.params[i].clone()]);
    insta::assert_snapshot!(format!("{}\nactive: {active:?}", help.label), @r#"
    reply(reply: REPLY?, text: text?) -> text
    active: Some("text: text?")
    "#);
}

/// A declared task's parameters read as the catalogue's do, with their defaults as written.
#[test]
fn signature_help_writes_a_declared_tasks_parameters_as_the_catalogues() {
    let source = MAIN
        .replace(
            "get_order(id: text)",
            "get_order(id:text, note: text?, page: number = 1)",
        )
        .replace("get_order(id: order_id)", "get_order(order_id, $0");
    let (mut world, path, offset) = world_with_cursor(&source, REPLIES);
    let help = world.analysis().signature_help(&path, offset).unwrap();
    let active = help.active.map(|i| &help.label[help.params[i].clone()]);
    insta::assert_snapshot!(format!("{}\nactive: {active:?}", help.label), @r#"
    get_order(id: text, note: text?, page: number = 1)
    active: Some("note: text?")
    "#);
}

#[test]
fn symbols_outline_the_file_and_the_workspace() {
    let (mut world, _, _) = at_main("agent", 0);
    let analysis = world.analysis();
    let outline: Vec<String> = analysis
        .document_symbols("main.agent")
        .iter()
        .map(|s| {
            let children: Vec<&str> = s.children.iter().map(|c| c.name.as_str()).collect();
            format!("{} {} {children:?}", s.kind.keyword(), s.name)
        })
        .collect();
    insta::assert_snapshot!(outline.join("\n"));
    let found: Vec<String> = analysis
        .workspace_symbols("ORDER")
        .iter()
        .map(|(l, s)| format!("{} {} {}", s.kind.keyword(), s.name, l.path))
        .collect();
    assert_eq!(
        found,
        vec![
            "param order_id main.agent",
            "target orders main.agent",
            "task get_order main.agent",
            "usecase order_status main.agent",
            "action check_order main.agent",
            "test looks the order up main.agent",
        ]
    );
}

#[test]
fn code_actions_apply_did_you_mean_declare_a_param_and_add_a_mock() {
    let source = MAIN
        .replace("on_failure: apologise", "on_failure: apologize")
        .replace("user.email != null", "customer != null");
    let mut world = World::default();
    world.set_file("main.agent", source.clone());
    world.set_file("replies.agent", REPLIES.into());
    let diagnostics = world.diagnostics();
    let main = diagnostics
        .into_iter()
        .find(|(p, _)| p == "main.agent")
        .unwrap()
        .1;
    let analysis = world.analysis();
    let mut out = Vec::new();
    for action in analysis.code_actions("main.agent", 0..source.len(), &main) {
        let edits: Vec<String> = action
            .edit
            .iter()
            .flat_map(|(path, edits)| edits.iter().map(move |e| (path, e)))
            .map(|(path, e)| format!("{path}:{}..{} {:?}", e.range.start, e.range.end, e.text))
            .collect();
        out.push(format!("{}\n  {}", action.title, edits.join("\n  ")));
    }
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn formatting_gives_the_canonical_layout_and_nothing_for_a_broken_file() {
    let mut world = World::default();
    world.set_file("a.agent", "agent  a {channels: [chat]}".into());
    world.set_file("b.agent", "agent b {".into());
    let analysis = world.analysis();
    assert_eq!(
        analysis.format("a.agent").as_deref(),
        Some("agent a {\n    channels: [chat]\n}\n")
    );
    assert_eq!(analysis.format("b.agent"), None);
}

#[test]
fn workspace_roots_check_their_files_apart() {
    let mut world = World::default();
    world.set_roots(vec!["/one".into(), "/two".into()]);
    world.set_file("/one/a.agent", "agent a { channels: [chat] }\n".into());
    world.set_file("/two/b.agent", "reply r { text: \"x\" }\n".into());
    let found = world.diagnostics();
    let codes: Vec<(String, Vec<&str>)> = found
        .iter()
        .map(|(p, d)| (p.clone(), d.iter().map(|d| d.code.as_str()).collect()))
        .collect();
    // `/two` has no agent at all: E0103, not "not imported by `/one`'s program".
    assert_eq!(
        codes,
        vec![
            ("/one/a.agent".to_string(), vec![]),
            ("/two/b.agent".to_string(), vec!["E0103"]),
        ]
    );
}

#[test]
fn highlighting_classes_the_programs_names() {
    let mut world = World::default();
    world.set_file("main.agent", MAIN.into());
    world.set_file("replies.agent", REPLIES.into());
    let analysis = world.analysis();
    let text = MAIN;
    let names: Vec<&str> = analysis
        .highlight("main.agent")
        .into_iter()
        .filter(|(_, c)| matches!(c, highlight::Class::Name(highlight::NameKind::Reply)))
        .map(|(r, _)| &text[r])
        .collect();
    assert_eq!(names, vec!["welcome", "sorry"]);
}

/// The layer is plain data in, plain data out: no file, network, process or terminal, and
/// no protocol's types (the language server converts at its edge, `cli/lsp/convert.rs`).
#[test]
fn the_ide_layer_does_no_io_and_knows_no_protocol() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ide");
    let forbidden = [
        "std::fs",
        "std::io",
        "std::net",
        "std::process",
        "std::env",
        "tokio",
        "lsp_types",
        "lsp_server",
        "crate::cli",
        "crate::runtime",
        "println!",
        "eprintln!",
    ];
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for word in forbidden {
            assert!(!text.contains(word), "{} uses {word}", path.display());
        }
        read += 1;
    }
    assert!(read >= 8, "the layer's files were not found");
}
