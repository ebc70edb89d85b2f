//! Replies: per-language texts, quick-reply choices, one-off texts, hold music.

use super::*;

fn reply_sent(reply: &str) -> String {
    with_agent(&format!("{reply}\non conversation_started reply r\n"))
}

fn action_task(task: &str) -> String {
    with_agent(&format!(
        "action x {{ target: conversation, task: {task} }}\non message_received do x\n"
    ))
}

fn hold(args: &str) -> String {
    with_agent(&format!(
        "action x {{ target: call, task: hold({args}) }}\non call_started do x\n"
    ))
}

#[test]
fn per_language_texts_lower_in_written_order_with_their_tags_checked() {
    let program = clean(&reply_sent(
        "reply r { text: { en: \"Hello\", \"pt-BR\": \"Olá\", fr: \"Bonjour {user.name ?? \"\"}\" }, voice: { en: \"Hi\" } }",
    ));
    let ir::Text::ByLanguage(texts) = &program.replies["r"].text else {
        panic!("{:?}", program.replies["r"].text);
    };
    let tags: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tags, ["en", "pt-BR", "fr"]);
    let d = expect(
        &reply_sent("reply r { text: { en: \"Hello\", fx: \"Bonjour\" } }"),
        "E0217",
        "fx",
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `fr`?"));
    expect(&reply_sent("reply r { text: {} }"), "E0301", "{}");
    expect(
        &reply_sent("reply r { text: { en: \"Hello\", fr: 3 } }"),
        "E0301",
        "3",
    );
    expect(
        &reply_sent("reply r { text: { en: \"key {secret(\"T\")}\" } }"),
        "E0407",
        "secret(\"T\")",
    );
}

#[test]
fn choices_are_texts_or_ids_with_labels() {
    let program = clean(&reply_sent(
        "reply r { text: \"What can I help with?\", choices: [\"Order status\", { id: \"human\", label: { en: \"Talk to a person\", fr: \"Parler à quelqu'un\" } }] }",
    ));
    let choices = &program.replies["r"].choices;
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[0].id, None);
    assert_eq!(choices[1].id.as_deref(), Some("human"));
    assert!(matches!(choices[1].label, ir::Text::ByLanguage(_)));
}

#[test]
fn choices_that_cannot_work_are_refused() {
    expect(
        &reply_sent("reply r { text: \"Pick\", choices: [] }"),
        "E0301",
        "[]",
    );
    let d = expect(
        &reply_sent("reply r { text: \"Pick\", choices: [\"Returns\", \"Orders\", \"Returns\"] }"),
        "E0105",
        "\"Returns\"",
    );
    assert!(
        d.message.contains("`Returns` is offered twice"),
        "{}",
        d.message
    );
    // Two labels alike are fine with different ids; one id twice is not.
    clean(&reply_sent(
        "reply r { text: \"Pick\", choices: [{ id: \"a\", label: \"Same\" }, { id: \"b\", label: \"Same\" }] }",
    ));
    expect(
        &reply_sent(
            "reply r { text: \"Pick\", choices: [\"a\", { id: \"a\", label: \"Other\" }] }",
        ),
        "E0105",
        "\"a\"",
    );
    expect(
        &reply_sent("reply r { text: \"Pick\", choices: [{ id: \"a\", lable: \"A\" }] }"),
        "E0204",
        "lable",
    );
    expect(
        &reply_sent("reply r { text: \"Pick\", choices: [{ id: \"a\" }] }"),
        "E0205",
        "{ id: \"a\" }",
    );
    expect(
        &reply_sent("reply r { text: \"Pick\", choices: \"a\" }"),
        "E0301",
        "\"a\"",
    );
    let voice_only = "agent a {\n  channels: [voice]\n}\nreply r { text: \"Pick\", choices: [\"A\"] }\non conversation_started reply r\n";
    let d = expect(voice_only, "E0402", "[\"A\"]");
    assert!(d.message.contains("`chat`"), "{}", d.message);
}

#[test]
fn reply_takes_a_declared_name_or_a_one_off_text() {
    let program = clean(&action_task("reply(\"Order {order_id} is on its way\")"));
    let args = &program.actions["x"].task.args;
    assert_eq!(args.len(), 1);
    assert_eq!(args[0].0, "text");
    assert!(matches!(args[0].1, ir::Expr::Interp(_)), "{:?}", args[0].1);
    let program = clean(&action_task("reply(text: \"Thanks!\")"));
    assert_eq!(program.actions["x"].task.args[0].0, "text");
    // The bare-name form is checked as before.
    expect(&action_task("reply(welcom)"), "E0211", "welcom");
    expect(&action_task("reply()"), "E0208", "reply()");
    expect(
        &with_agent("reply w { text: \"Hi\" }\naction x { target: conversation, task: reply(w, text: \"Hi\") }\non message_received do x\n"),
        "E0207",
        "reply(w, text: \"Hi\")",
    );
    expect(
        &action_task("reply(\"code {secret(\"T\")}\")"),
        "E0407",
        "secret(\"T\")",
    );
    expect(&action_task("reply(3)"), "E0301", "3");
    let d = expect(&action_task("reply(note)"), "E0211", "note");
    assert_eq!(
        d.help.as_deref(),
        Some("to send its text, write reply(\"{note}\"); a bare name sends a declared reply")
    );
}

#[test]
fn hold_music_is_an_https_url_without_secrets() {
    let program = clean(&hold(
        "message: \"Please hold.\", music: \"https://media.example/hold.mp3\"",
    ));
    assert_eq!(program.actions["x"].task.args[1].0, "music");
    let d = expect(
        &hold("music: \"http://media.example/hold.mp3\""),
        "E0301",
        "\"http://media.example/hold.mp3\"",
    );
    assert!(d.message.contains("https://"), "{}", d.message);
    expect(&hold("music: \"hold.mp3\""), "E0301", "\"hold.mp3\"");
    expect(
        &hold("music: \"https://media.example/hold.mp3?key={secret(\"K\")}\""),
        "E0406",
        "secret(\"K\")",
    );
    // A computed URL is checked when the action runs.
    clean(&hold("music: note"));
}
