//! Replies: what per-language texts, quick-reply choices, one-off texts and hold music
//! lower to (their diagnostics are cases in `tests/check/replies/`).

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
fn per_language_texts_lower_in_written_order() {
    let program = clean(&reply_sent(
        "reply r { text: { en: \"Hello\", \"pt-BR\": \"Olá\", fr: \"Bonjour {user.name ?? \"\"}\" }, voice: { en: \"Hi\" } }",
    ));
    let ir::Text::ByLanguage(texts) = &program.replies["r"].text else {
        panic!("{:?}", program.replies["r"].text);
    };
    let tags: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(tags, ["en", "pt-BR", "fr"]);
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
fn reply_takes_a_declared_name_or_a_one_off_text() {
    let program = clean(&action_task("reply(\"Order {order_id} is on its way\")"));
    let args = &program.actions["x"].task.args;
    assert_eq!(args.len(), 1);
    assert_eq!(args[0].0, "text");
    assert!(matches!(args[0].1, ir::Expr::Interp(_)), "{:?}", args[0].1);
    let program = clean(&action_task("reply(text: \"Thanks!\")"));
    assert_eq!(program.actions["x"].task.args[0].0, "text");
}

#[test]
fn hold_music_lowers_as_an_argument() {
    let program = clean(&hold(
        "message: \"Please hold.\", music: \"https://media.example/hold.mp3\"",
    ));
    assert_eq!(program.actions["x"].task.args[1].0, "music");
}
