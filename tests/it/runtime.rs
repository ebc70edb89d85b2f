//! The interpreter's semantics (docs/language.md, "Run-time behaviour"), driven through its public API with programs built
//! as IR values and executors faked in-process; plus `agentc run` end to end.

use agentc::catalogue::Channel;
use agentc::diagnostics::Span;
use agentc::ir::{self, BinOp, Expr, Program, Scope, Type, Value};
use agentc::runtime::effects::{Executor, TaskError, TaskRequest};
use agentc::runtime::{
    ActionStatus, ClockMode, ConversationEvalError, ConversationStatus, EvalError, Event,
    EventKind, MapEnv, PlanError, Redactor, Runtime, TraceBuffer, TraceRecord,
};
use futures::future::BoxFuture;
use indexmap::IndexMap;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

// ---------- building programs ----------

fn text(s: &str) -> Expr {
    Expr::Lit(Value::Text(s.into()))
}
fn num(n: f64) -> Expr {
    Expr::Lit(Value::Number(n))
}
fn param(name: &str) -> Expr {
    Expr::Var(Scope::Param(name.into()))
}
fn path(scope: Scope, fields: &[&str]) -> Expr {
    fields.iter().fold(Expr::Var(scope), |base, f| {
        Expr::Field(Box::new(base), f.to_string())
    })
}
fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Binary(op, Box::new(a), Box::new(b))
}
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call(name.into(), args)
}

fn action(name: &str, target: &str, kind: &str, task: &str, args: Vec<(&str, Expr)>) -> ir::Action {
    ir::Action {
        name: name.into(),
        target: target.into(),
        target_kind: agentc::catalogue::Kind::parse(kind).expect("a target kind"),
        task: ir::TaskCall {
            // A name the kind has no built-in task of is a declared task.
            task: agentc::catalogue::Kind::parse(kind)
                .and_then(|kind| agentc::catalogue::BuiltinTask::parse(kind, task))
                .map_or_else(|| ir::TaskRef::Declared(task.into()), ir::TaskRef::Builtin),
            args: args.into_iter().map(|(n, e)| (n.to_string(), e)).collect(),
            rest: Vec::new(),
        },
        when: None,
        save: None,
        timeout_ms: None,
        retry: None,
        on_failure: Vec::new(),
        idempotency_key: None,
        span: Span::default(),
    }
}

/// `conversation.push(log, "<name>")`: records that the action ran, in order.
fn log_action(name: &str) -> ir::Action {
    action(
        name,
        "conversation",
        "conversation",
        "push",
        vec![("name", text("log")), ("value", text(name))],
    )
}

struct Ir(Program);

impl Ir {
    fn new(channels: &[Channel]) -> Ir {
        Ir(Program {
            version: ir::IR_VERSION,
            files: vec!["main.agent".into(), "common.agent".into()],
            agent: ir::Agent {
                name: "acme".into(),
                display_name: None,
                channels: channels.to_vec(),
                language: Some("en".into()),
                inactivity_ms: None,
                params: vec![ir::Param {
                    name: "log".into(),
                    ty: Type::List,
                    default: None,
                }],
            },
            targets: BTreeMap::new(),
            tasks: BTreeMap::new(),
            actions: BTreeMap::new(),
            replies: BTreeMap::new(),
            usecases: BTreeMap::new(),
            bindings: Vec::new(),
            tests: Vec::new(),
        })
    }
    fn param(mut self, name: &str, ty: Type, default: Option<Value>) -> Ir {
        self.0.agent.params.push(ir::Param {
            name: name.into(),
            ty,
            default,
        });
        self
    }
    fn target(
        mut self,
        name: &str,
        kind: &str,
        fields: Vec<(&str, Expr)>,
        retry: Option<(u32, u64, u64)>,
        timeout_ms: Option<u64>,
    ) -> Ir {
        self.0.targets.insert(
            name.into(),
            ir::Target {
                name: name.into(),
                kind: agentc::catalogue::Kind::parse(kind).expect("a target kind"),
                fields: fields
                    .into_iter()
                    .map(|(n, e)| (n.to_string(), e))
                    .collect(),
                timeout_ms,
                retry: retry.map(|(attempts, backoff_ms, max_backoff_ms)| ir::Retry {
                    attempts,
                    backoff_ms,
                    max_backoff_ms,
                }),
            },
        );
        self
    }
    fn action(mut self, action: ir::Action) -> Ir {
        self.0.actions.insert(action.name.clone(), action);
        self
    }
    fn reply(mut self, name: &str, text: Expr, voice: Option<Expr>) -> Ir {
        self.0.replies.insert(
            name.into(),
            ir::Reply {
                name: name.into(),
                text: ir::Text::One(text),
                voice: voice.map(ir::Text::One),
                choices: Vec::new(),
            },
        );
        self
    }
    fn bind(
        mut self,
        trigger: ir::Trigger,
        when: Option<Expr>,
        body: ir::BindingBody,
        file: u32,
    ) -> Ir {
        self.0.bindings.push(ir::Binding {
            trigger,
            when,
            body,
            span: Span {
                file: agentc::diagnostics::FileId(file),
                start: 0,
                end: 0,
            },
        });
        self
    }
    fn on(self, event: &str, actions: &[&str]) -> Ir {
        self.on_when(event, None, actions)
    }
    fn on_when(self, event: &str, when: Option<Expr>, actions: &[&str]) -> Ir {
        let body = ir::BindingBody::Actions(actions.iter().map(|a| a.to_string()).collect());
        self.bind(
            ir::Trigger::Event {
                event: event.into(),
            },
            when,
            body,
            0,
        )
    }
}

// ---------- a scripted executor ----------

type Answer = Result<Value, TaskError>;

/// Answers from a script (then `ok` forever), optionally slowly, and records every call
/// with the (tokio) time it came.
#[derive(Default)]
struct Fake {
    script: Mutex<VecDeque<Answer>>,
    calls: Mutex<Vec<(TaskRequest, Instant)>>,
    delay: Option<Duration>,
    describe_leaks: Option<String>,
}

impl Fake {
    fn new(script: Vec<Answer>) -> Arc<Fake> {
        Arc::new(Fake {
            script: Mutex::new(script.into()),
            ..Fake::default()
        })
    }
    fn calls(&self) -> Vec<(TaskRequest, Instant)> {
        self.calls.lock().unwrap().clone()
    }
}

fn ok_body(json: serde_json::Value) -> Answer {
    Ok(Value::from_json(
        &serde_json::json!({"status": 200, "headers": {}, "body": json}),
    ))
}

impl Executor for Fake {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            self.calls
                .lock()
                .unwrap()
                .push((request.clone(), Instant::now()));
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            self.script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| ok_body(serde_json::json!({"ok": true})))
        })
    }
    fn describe(&self, request: &TaskRequest) -> String {
        let path = request
            .args
            .get("path")
            .map(|p| p.to_string())
            .unwrap_or_default();
        let leak = self.describe_leaks.clone().unwrap_or_default();
        format!("{} {}{leak}", request.task.name().to_uppercase(), path)
    }
}

// ---------- running ----------

fn ev(conversation: &str, event: &str, payload: serde_json::Value) -> Event {
    Event::new(
        conversation,
        EventKind::Named(event.into()),
        Value::from_json(&payload),
    )
}

fn start(ir: Ir, executors: Vec<(&str, Arc<Fake>)>) -> (Runtime, TraceBuffer) {
    let trace = TraceBuffer::new();
    let mut builder = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::new([("ORDERS_TOKEN", "canary-7f3a9")]))
        .start_time("2026-11-21T10:00:00Z".parse().unwrap());
    for (name, fake) in executors {
        builder = builder.executor(name, fake);
    }
    (builder.build().expect("program is consistent"), trace)
}

fn actions(trace: &TraceBuffer) -> Vec<(String, ActionStatus, u32)> {
    trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Action {
                action,
                status,
                attempts,
                ..
            } => Some((action, status, attempts)),
            _ => None,
        })
        .collect()
}

fn log_of(state: &agentc::runtime::ConversationState) -> Vec<String> {
    match &state.params["log"] {
        Value::List(items) => items.iter().map(|v| v.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn http_target(ir: Ir, retry: Option<(u32, u64, u64)>, timeout_ms: Option<u64>) -> Ir {
    ir.target(
        "orders",
        "http",
        vec![
            ("base_url", text("https://orders.example")),
            (
                "auth",
                call("bearer", vec![call("secret", vec![text("ORDERS_TOKEN")])]),
            ),
        ],
        retry,
        timeout_ms,
    )
}

fn get_order() -> ir::Action {
    action(
        "get_order",
        "orders",
        "http",
        "get",
        vec![("path", text("/orders/1"))],
    )
}

// ---------- ordering, when, save, on_failure ----------

#[tokio::test]
async fn bindings_run_in_source_order_across_files_and_actions_in_order() {
    let ir = Ir::new(&[Channel::Chat])
        .action(log_action("a"))
        .action(log_action("b"))
        .action(log_action("c"))
        .on("message_received", &["b", "a"])
        .bind(
            ir::Trigger::Event {
                event: "message_received".into(),
            },
            None,
            ir::BindingBody::Actions(vec!["c".into()]),
            1,
        )
        .on("conversation_started", &["c"]);
    let (rt, _) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "again"}),
    ));
    rt.settle().await;
    let state = rt.snapshot("c1").await.unwrap();
    assert_eq!(log_of(&state), ["b", "a", "c", "b", "a", "c"]);
    assert_eq!(state.seq, 2);
}

#[tokio::test]
async fn when_false_skips_and_each_action_sees_what_the_previous_saved() {
    let mut second = log_action("second");
    second.when = Some(bin(BinOp::Eq, call("len", vec![param("log")]), num(1.0)));
    let mut never = log_action("never");
    never.when = Some(bin(BinOp::Eq, path(Scope::Event, &["text"]), text("nope")));
    let mut gated = log_action("gated");
    gated.when = None;
    let ir = Ir::new(&[Channel::Chat])
        .action(log_action("first"))
        .action(second)
        .action(never)
        .action(gated)
        .on("message_received", &["first", "second", "never"])
        .on_when(
            "message_received",
            Some(Expr::Lit(Value::Bool(false))),
            &["gated"],
        );
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.settle().await;
    assert_eq!(
        log_of(&rt.snapshot("c1").await.unwrap()),
        ["first", "second"]
    );
    assert_eq!(
        actions(&trace),
        [
            ("first".into(), ActionStatus::Ok, 1),
            ("second".into(), ActionStatus::Ok, 1),
            ("never".into(), ActionStatus::Skipped, 0),
            ("gated".into(), ActionStatus::Skipped, 0),
        ]
    );
}

#[tokio::test]
async fn save_stores_results_and_checks_their_type_at_run_time() {
    let mut fetch = get_order();
    fetch.save = Some("order".into());
    let mut bad = action(
        "bad_save",
        "orders",
        "http",
        "get",
        vec![("path", text("/x"))],
    );
    bad.save = Some("quote".into());
    let ir = http_target(Ir::new(&[Channel::Chat]), None, None)
        .param("order", Type::Record, None)
        .param("quote", Type::Number, None)
        .action(fetch)
        .action(bad)
        .on("conversation_started", &["get_order", "bad_save"]);
    let fake = Fake::new(vec![ok_body(serde_json::json!({"status": "shipped"}))]);
    let (rt, trace) = start(ir, vec![("orders", fake)]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    let state = rt.snapshot("c1").await.unwrap();
    assert_eq!(state.params["order"].to_json()["body"]["status"], "shipped");
    assert_eq!(state.params["quote"], Value::Null);
    let records = trace.records();
    let error = records.iter().find_map(|r| match r {
        TraceRecord::Action { action, error, .. } if action == "bad_save" => error.clone(),
        _ => None,
    });
    assert_eq!(
        error.as_deref(),
        Some("cannot store a record in `quote`, a number parameter")
    );
}

#[tokio::test]
async fn a_failed_verify_runs_its_on_failure_and_stops_its_binding_only() {
    let mut check = action(
        "check",
        "conversation",
        "conversation",
        "verify",
        vec![
            (
                "condition",
                bin(BinOp::Ne, param("order"), Expr::Lit(Value::Null)),
            ),
            ("message", text("no order")),
        ],
    );
    check.on_failure = vec!["apologise".into()];
    let ir = Ir::new(&[Channel::Chat])
        .param("order", Type::Text, None)
        .action(check)
        .action(action(
            "apologise",
            "conversation",
            "conversation",
            "reply",
            vec![("reply", text("sorry"))],
        ))
        .action(log_action("after"))
        .action(action(
            "bad_set",
            "conversation",
            "conversation",
            "set",
            vec![("order", num(5.0))],
        ))
        .action(log_action("next"))
        .reply("sorry", text("Sorry, I could not find it."), None)
        .on("message_received", &["check", "after"])
        .on("message_received", &["bad_set", "next"]);
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "where?"}),
    ));
    rt.settle().await;
    // The verify's binding stops; another binding of the event, and the action after any
    // other failure, still run.
    assert_eq!(log_of(&rt.snapshot("c1").await.unwrap()), ["next"]);
    let records = trace.records();
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Action { action, status: ActionStatus::Skipped, error: Some(e), .. } if action == "after" && e == "verify `check` failed")));
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Action { action, status: ActionStatus::Failed, .. } if action == "bad_set")));
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Action { action, status: ActionStatus::Failed, error: Some(e), .. } if action == "check" && e == "no order")));
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Action { action, on_failure_of: Some(c), status: ActionStatus::Ok, .. } if action == "apologise" && c == "check")));
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Reply { reply: Some(reply), text, .. } if reply == "sorry" && text == "Sorry, I could not find it.")));
}

// ---------- flow: on_failure lists, several events, use case starts ----------

/// `conversation.set(log: 5)`: always fails (`log` is a list).
fn failing_action(name: &str, on_failure: &[&str]) -> ir::Action {
    let mut failing = action(
        name,
        "conversation",
        "conversation",
        "set",
        vec![("log", num(5.0))],
    );
    failing.on_failure = on_failure.iter().map(|a| a.to_string()).collect();
    failing
}

/// The names of the actions traced, in order, with the action each ran as a fallback of.
fn fallbacks_traced(trace: &TraceBuffer) -> Vec<(String, Option<String>)> {
    trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Action {
                action,
                on_failure_of,
                ..
            } => Some((action, on_failure_of)),
            _ => None,
        })
        .collect()
}

/// A program checked and lowered from source.
fn from_source(source: &str) -> Ir {
    use agentc::check::{check_program, MemoryLoader};
    use agentc::diagnostics::SourceMap;
    let mut sources = SourceMap::new();
    let root = sources.add("a.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    Ir(checked
        .program
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics)))
}

#[tokio::test]
async fn on_failure_runs_its_list_in_order_and_the_fallbacks_of_each_that_fails() {
    let ir = Ir::new(&[Channel::Chat])
        .action(failing_action("x", &["a", "b", "c"]))
        .action(failing_action("a", &["a2"]))
        .action(log_action("a2"))
        .action(log_action("b"))
        .action(log_action("c"))
        .on("message_received", &["x"]);
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.settle().await;
    assert_eq!(log_of(&rt.snapshot("c1").await.unwrap()), ["a2", "b", "c"]);
    let of = |a: &str| Some(a.to_string());
    assert_eq!(
        fallbacks_traced(&trace),
        [
            ("x".into(), None),
            ("a".into(), of("x")),
            ("a2".into(), of("a")),
            ("b".into(), of("x")),
            ("c".into(), of("x")),
        ]
    );
}

#[tokio::test]
async fn fallbacks_stay_bounded_in_depth_and_in_number() {
    // Cycles only a hand-written IR can have: a chain, and a list that fans out.
    let chain = Ir::new(&[Channel::Chat])
        .action(failing_action("x", &["x"]))
        .on("message_received", &["x"]);
    let (rt, trace) = start(chain, vec![]);
    rt.send(ev("c1", "message_received", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(fallbacks_traced(&trace).len(), 1 + 8);
    let fan = Ir::new(&[Channel::Chat])
        .action(failing_action("x", &["x", "x"]))
        .on("message_received", &["x"]);
    let (rt, trace) = start(fan, vec![]);
    rt.send(ev("c1", "message_received", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(fallbacks_traced(&trace).len(), 1 + 64);
}

#[tokio::test]
async fn a_binding_of_several_events_runs_once_per_matching_event() {
    let ir = from_source(
        r#"
agent a { channels: [voice], params: { log: list } }
action note_input { target: conversation, task: push(log, "{conversation.channel}") }
on message_received, dtmf_received when conversation.channel == "voice" do note_input
"#,
    );
    let (rt, _) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.send(ev(
        "c1",
        "dtmf_received",
        serde_json::json!({"digits": "1"}),
    ));
    rt.send(ev("c1", "call_started", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(
        log_of(&rt.snapshot("c1").await.unwrap()),
        ["voice", "voice"]
    );
}

/// The use cases and blocks traced as started, with the action that started each.
fn starts_traced(trace: &TraceBuffer) -> Vec<(String, Option<String>)> {
    trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Event {
                usecase: Some(u),
                block,
                started_by,
                ..
            } => Some((block.map_or(u.clone(), |b| format!("{u}.{b}")), started_by)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_dtmf_digit_starts_a_use_case_whose_bindings_run_after_the_event() {
    let ir = from_source(
        r#"
agent a { channels: [voice], params: { log: list } }
usecase rebook_flight { blocks: [confirm] }
action start_rebook { target: conversation, task: start_usecase(rebook_flight) }
action to_confirm { target: conversation, task: goto_block(rebook_flight.confirm) }
action heard { target: conversation, task: push(log, "heard {event.digits}") }
action ask_date { target: conversation, task: push(log, "ask date in {usecase.name}") }
action confirm { target: conversation, task: push(log, "confirm {block.name}") }
on dtmf_received when event.digits == "1" do start_rebook, heard
in usecase rebook_flight do ask_date, to_confirm
at block rebook_flight.confirm do confirm
"#,
    );
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "dtmf_received",
        serde_json::json!({"digits": "1"}),
    ));
    rt.send(ev(
        "c1",
        "dtmf_received",
        serde_json::json!({"digits": "2"}),
    ));
    rt.settle().await;
    let state = rt.snapshot("c1").await.unwrap();
    // The rest of the event's binding first, then the use case, then the block it reached.
    assert_eq!(
        log_of(&state),
        ["heard 1", "ask date in rebook_flight", "confirm confirm"]
    );
    assert_eq!(
        starts_traced(&trace),
        [
            ("rebook_flight".into(), Some("start_rebook".into())),
            ("rebook_flight.confirm".into(), Some("to_confirm".into())),
        ]
    );
    // Each start is an event of its own: dtmf, usecase, block, then the second dtmf.
    assert_eq!(state.seq, 4);
}

#[tokio::test]
async fn a_use_case_that_keeps_starting_itself_is_stopped_at_the_limit() {
    // A loop only a hand-written IR can hold (the checker refuses it: E0409).
    let mut ir = Ir::new(&[Channel::Chat])
        .action(action(
            "restart",
            "conversation",
            "conversation",
            "start_usecase",
            vec![("usecase", text("menu"))],
        ))
        .on("message_received", &["restart"])
        .bind(
            ir::Trigger::Usecase {
                usecase: "menu".into(),
            },
            None,
            ir::BindingBody::Actions(vec!["restart".into()]),
            0,
        );
    ir.0.usecases.insert(
        "menu".into(),
        ir::Usecase {
            name: "menu".into(),
            description: None,
            blocks: Vec::new(),
        },
    );
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "again"}),
    ));
    rt.settle().await;
    let records = trace.records();
    let failed: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            TraceRecord::Action {
                action,
                status: ActionStatus::Failed,
                error: Some(error),
                ..
            } if action == "restart" => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        ["use case `menu` was not started: this event already started 8 use cases or blocks, the limit (does a use case start itself?)"; 2],
        "the limit counts per event from outside"
    );
    assert_eq!(starts_traced(&trace).len(), 2 * 8);
}

// ---------- retries, Retry-After, timeouts ----------

#[tokio::test(start_paused = true)]
async fn retries_count_every_try_and_back_off_exponentially_with_jitter() {
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((4, 200, 5_000)), None)
        .action(get_order())
        .on("conversation_started", &["get_order"]);
    let fake = Fake::new(vec![
        Err(TaskError::retryable("HTTP 500")),
        Err(TaskError::retryable("HTTP 503")),
        Err(TaskError::retryable("HTTP 502")),
    ]);
    let (rt, trace) = start(ir, vec![("orders", fake.clone())]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    let times: Vec<Instant> = fake.calls().iter().map(|(_, at)| *at).collect();
    assert_eq!(times.len(), 4);
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert!((100..=200).contains(&gaps[0]), "{gaps:?}");
    assert!((200..=400).contains(&gaps[1]), "{gaps:?}");
    assert!((400..=800).contains(&gaps[2]), "{gaps:?}");
    assert_eq!(actions(&trace), [("get_order".into(), ActionStatus::Ok, 4)]);
}

#[tokio::test(start_paused = true)]
async fn not_retryable_errors_fail_at_once_and_attempts_bound_the_tries() {
    let mut again = action(
        "again",
        "orders",
        "http",
        "get",
        vec![("path", text("/again"))],
    );
    again.retry = Some(ir::Retry {
        attempts: 2,
        backoff_ms: 100,
        max_backoff_ms: 100,
    });
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((5, 100, 1_000)), None)
        .action(get_order())
        .action(again)
        .on("conversation_started", &["get_order", "again"]);
    let fake = Fake::new(vec![
        Err(TaskError::fatal("HTTP 404")),
        Err(TaskError::retryable("HTTP 500")),
        Err(TaskError::retryable("HTTP 500")),
    ]);
    let (rt, trace) = start(ir, vec![("orders", fake.clone())]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(fake.calls().len(), 3);
    assert_eq!(
        actions(&trace),
        [
            ("get_order".into(), ActionStatus::Failed, 1),
            ("again".into(), ActionStatus::Failed, 2),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_too_long_a_wait_fails() {
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((3, 100, 1_000)), None)
        .action(get_order())
        .on("conversation_started", &["get_order"]);
    let limited = |secs| TaskError {
        retry_after: Some(Duration::from_secs(secs)),
        status: Some(429),
        ..TaskError::retryable("HTTP 429")
    };
    let fake = Fake::new(vec![Err(limited(7))]);
    let (rt, trace) = start(ir, vec![("orders", fake.clone())]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    let calls = fake.calls();
    assert_eq!((calls[1].1 - calls[0].1).as_secs(), 7);
    assert_eq!(actions(&trace), [("get_order".into(), ActionStatus::Ok, 2)]);

    let fake = Fake::new(vec![Err(limited(3600))]);
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((3, 100, 1_000)), None)
        .action(get_order())
        .on("conversation_started", &["get_order"]);
    let (rt, trace) = start(ir, vec![("orders", fake.clone())]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(fake.calls().len(), 1);
    let error = trace.records().into_iter().find_map(|r| match r {
        TraceRecord::Action { error, .. } => error,
        _ => None,
    });
    assert!(error.unwrap().contains("retry after 1h"));
}

#[tokio::test(start_paused = true)]
async fn each_try_is_bounded_by_the_action_timeout_over_the_target_one() {
    let mut quick = get_order();
    quick.timeout_ms = Some(1_000);
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((2, 100, 100)), Some(30_000))
        .action(quick)
        .on("conversation_started", &["get_order"]);
    let fake = Arc::new(Fake {
        delay: Some(Duration::from_secs(60)),
        ..Fake::default()
    });
    let (rt, trace) = start(ir, vec![("orders", fake.clone())]);
    let began = Instant::now();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    assert_eq!(fake.calls().len(), 2);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    let records = trace.records();
    assert!(records.iter().any(|r| matches!(r,
        TraceRecord::Action { status: ActionStatus::Failed, attempts: 2, error: Some(e), .. } if e == "timed out after 1s")));
    assert_eq!(fake.calls()[0].0.timeout, Duration::from_secs(1));
}

// ---------- inactivity ----------

fn inactive_program() -> Ir {
    let mut ir = Ir::new(&[Channel::Chat, Channel::Voice])
        .reply(
            "still_there",
            text("Are you still there?"),
            Some(text("Hello? Are you still with me?")),
        )
        .bind(
            ir::Trigger::Event {
                event: "conversation_inactive".into(),
            },
            None,
            ir::BindingBody::Reply("still_there".into()),
            0,
        );
    ir.0.agent.inactivity_ms = Some(180_000);
    ir
}

fn replies(trace: &TraceBuffer, conversation: &str) -> Vec<String> {
    trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Reply {
                conversation: c,
                text,
                ..
            } if c == conversation => Some(text),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn inactivity_fires_on_the_paused_clock_once_per_idle_period() {
    let (rt, trace) = start(inactive_program(), vec![]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    tokio::time::advance(Duration::from_secs(120)).await;
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.settle().await;
    tokio::time::advance(Duration::from_secs(120)).await;
    rt.settle().await;
    assert!(
        replies(&trace, "c1").is_empty(),
        "a message re-armed the timer"
    );
    tokio::time::advance(Duration::from_secs(59)).await;
    rt.settle().await;
    assert!(replies(&trace, "c1").is_empty(), "not before its time");
    tokio::time::advance(Duration::from_secs(1)).await;
    rt.settle().await;
    assert_eq!(replies(&trace, "c1"), ["Are you still there?"]);
    tokio::time::advance(Duration::from_secs(600)).await;
    rt.settle().await;
    assert_eq!(
        replies(&trace, "c1").len(),
        1,
        "fires once until the next message"
    );
    let idle = trace.records().into_iter().find_map(|r| match r {
        TraceRecord::Event { event, payload, .. } if event == "conversation_inactive" => {
            Some(payload)
        }
        _ => None,
    });
    assert_eq!(idle.unwrap()["idle"], 180_000);
}

#[tokio::test(start_paused = true)]
async fn an_ended_session_says_so_and_its_timer_fires_neither_there_nor_resumed() {
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(inactive_program().0)
        .trace(Arc::new(trace.clone()))
        .keep_ended_states(true)
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.send(ev(
        "c1",
        "session_ended",
        serde_json::json!({"resolved": true}),
    ));
    rt.settle().await;
    let state = rt.snapshot("c1").await.unwrap();
    assert_eq!(state.status, ConversationStatus::Ended);
    tokio::time::advance(Duration::from_secs(600)).await;
    rt.settle().await;
    // Taken over by another runtime (a restarted server reads the state back).
    let resumed = TraceBuffer::new();
    let rt = Runtime::builder(inactive_program().0)
        .trace(Arc::new(resumed.clone()))
        .build()
        .unwrap();
    rt.resume(state);
    rt.wake("c1");
    tokio::time::advance(Duration::from_secs(600)).await;
    rt.settle().await;
    assert!(replies(&trace, "c1").is_empty());
    assert!(
        replies(&resumed, "c1").is_empty(),
        "{:?}",
        resumed.records()
    );
    // It is still over: a message is reported, not handled.
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "hi"}),
    ));
    rt.settle().await;
    assert_eq!(rt.faults(), 1, "{:?}", resumed.records());
}

/// A host that fires due timers itself: it hears of each, and fires none by itself.
#[derive(Default)]
struct FiresItself(Mutex<Vec<String>>);

impl agentc::runtime::StepObserver for FiresItself {
    fn stepped(
        &self,
        _: &agentc::runtime::ConversationState,
        _: agentc::runtime::StepCause,
        _: bool,
    ) {
    }
    fn timer_due(&self, conversation: &str) -> bool {
        self.0.lock().unwrap().push(conversation.to_string());
        false
    }
}

#[tokio::test(start_paused = true)]
async fn a_host_that_fires_due_timers_itself_is_told_once_and_fires_them_with_fire() {
    let trace = TraceBuffer::new();
    let host = Arc::new(FiresItself::default());
    let rt = Runtime::builder(inactive_program().0)
        .trace(Arc::new(trace.clone()))
        .observer(host.clone())
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.settle().await;
    assert!(!rt.fire("c1").await, "not due yet");
    tokio::time::advance(Duration::from_secs(600)).await;
    rt.settle().await;
    assert_eq!(
        *host.0.lock().unwrap(),
        ["c1"],
        "told once, not armed again"
    );
    assert!(replies(&trace, "c1").is_empty(), "left to the host");
    assert!(rt.fire("c1").await);
    assert_eq!(replies(&trace, "c1"), ["Are you still there?"]);
    assert!(!rt.fire("c1").await, "once per idle period");
    assert!(!rt.fire("nobody").await);
}

#[tokio::test]
async fn wait_events_advance_one_conversation_clock_on_a_manual_clock() {
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(inactive_program().0)
        .trace(Arc::new(trace.clone()))
        .clock(ClockMode::Manual)
        .build()
        .unwrap();
    let wait = |c: &str, ms| Event::new(c, EventKind::Wait(Duration::from_millis(ms)), Value::Null);
    let voice = Event {
        channel: Some(Channel::Voice),
        ..ev("v1", "conversation_started", serde_json::json!({}))
    };
    rt.send(voice);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.send(wait("c1", 120_000));
    rt.send(wait("v1", 179_999));
    rt.settle().await;
    assert!(replies(&trace, "c1").is_empty());
    assert!(replies(&trace, "v1").is_empty());
    rt.send(wait("c1", 60_000));
    rt.send(wait("v1", 1));
    rt.settle().await;
    assert_eq!(replies(&trace, "c1"), ["Are you still there?"]);
    assert_eq!(
        replies(&trace, "v1"),
        ["Hello? Are you still with me?"],
        "voice text on voice"
    );
}

#[tokio::test(start_paused = true)]
async fn wait_events_and_real_time_add_up_on_the_tokio_clock() {
    let (rt, trace) = start(inactive_program(), vec![]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.send(Event::new(
        "c1",
        EventKind::Wait(Duration::from_secs(100)),
        Value::Null,
    ));
    rt.settle().await;
    tokio::time::advance(Duration::from_secs(79)).await;
    rt.settle().await;
    assert!(replies(&trace, "c1").is_empty());
    tokio::time::advance(Duration::from_secs(2)).await;
    rt.settle().await;
    assert_eq!(replies(&trace, "c1"), ["Are you still there?"]);
}

// ---------- concurrency, idempotency ----------

#[tokio::test(start_paused = true)]
async fn many_conversations_run_concurrently_and_one_failing_stops_no_other() {
    let mut fetch = get_order();
    fetch.when = Some(bin(
        BinOp::Eq,
        path(Scope::Conversation, &["id"]),
        text("c-13"),
    ));
    fetch.on_failure = vec!["fallback".into()];
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((3, 1_000, 1_000)), None)
        .action(fetch)
        .action(log_action("fallback"))
        .action(log_action("seen"))
        .on("message_received", &["get_order", "seen"]);
    let fake = Arc::new(Fake {
        script: Mutex::new(
            (0..3)
                .map(|_| Err(TaskError::retryable("connection refused")))
                .collect(),
        ),
        ..Fake::default()
    });
    let (rt, _) = start(ir, vec![("orders", fake.clone())]);
    for round in 0..3 {
        for c in 0..200 {
            rt.send(ev(
                &format!("c-{c}"),
                "message_received",
                serde_json::json!({"text": round}),
            ));
        }
    }
    let began = Instant::now();
    rt.settle().await;
    // c-13 spent ~6s in back-off; the others did not wait for it.
    assert!(began.elapsed() >= Duration::from_secs(1));
    let states = rt.finish().await;
    assert_eq!(states.len(), 200);
    for state in &states {
        let expected: Vec<&str> = if state.id == "c-13" {
            vec!["fallback", "seen", "seen", "seen"]
        } else {
            vec!["seen"; 3]
        };
        assert_eq!(log_of(state), expected, "{}", state.id);
        assert_eq!(state.seq, 3);
    }
    assert_eq!(fake.calls().len(), 3 + 2);
}

#[tokio::test(start_paused = true)]
async fn idempotency_keys_are_stable_across_retries_and_distinct_otherwise() {
    let mut keyed = action(
        "keyed",
        "orders",
        "http",
        "post",
        vec![("path", text("/t"))],
    );
    keyed.idempotency_key = Some(Expr::Interp(vec![
        text("ticket-"),
        path(Scope::Event, &["text"]),
    ]));
    let ir = http_target(Ir::new(&[Channel::Chat]), Some((2, 10, 10)), None)
        .action(action(
            "create",
            "orders",
            "http",
            "post",
            vec![("path", text("/t"))],
        ))
        .action(keyed)
        .on("message_received", &["create", "create", "keyed"]);
    // A 429 says nothing was done: even a POST is tried again, with the same key.
    let fake = Fake::new(vec![Err(TaskError::not_sent("HTTP 429"))]);
    let (rt, _) = start(ir, vec![("orders", fake.clone())]);
    for c in ["a", "b"] {
        for text in ["x", "y"] {
            rt.send(ev(
                c,
                "message_received",
                serde_json::json!({ "text": text }),
            ));
        }
    }
    rt.settle().await;
    // A derived key is `conversation/instance/seq/action`: the instance is checked apart.
    let mut keys: Vec<String> = fake
        .calls()
        .into_iter()
        .map(|(r, _)| without_instance(&r.idempotency_key))
        .collect();
    keys.sort();
    let expected = [
        "a/1/create",
        "a/1/create",
        "a/1/create#2",
        "a/2/create",
        "a/2/create#2",
        "b/1/create",
        "b/1/create#2",
        "b/2/create",
        "b/2/create#2",
        "ticket-x",
        "ticket-x",
        "ticket-y",
        "ticket-y",
    ];
    assert_eq!(keys, expected, "the retried first try shares its key");
}

/// `a/INSTANCE/1/create` without its instance: `a/1/create`.
fn without_instance(key: &str) -> String {
    let mut parts: Vec<&str> = key.split('/').collect();
    if parts.len() == 4 {
        assert_eq!(parts[1].len(), 32, "a 128-bit instance in {key}");
        parts.remove(1);
    }
    parts.join("/")
}

/// Keys are unique across runs (a second run with the same conversation id got the first
/// run's Zendesk ticket back), stable when a conversation is resumed, and ASCII whatever the
/// conversation id or a written key holds.
#[tokio::test(start_paused = true)]
async fn idempotency_keys_are_unique_across_runs_kept_on_resume_and_ascii() {
    let mut keyed = action(
        "keyed",
        "orders",
        "http",
        "post",
        vec![("path", text("/t"))],
    );
    keyed.idempotency_key = Some(Expr::Interp(vec![
        text("ticket "),
        path(Scope::Event, &["text"]),
    ]));
    let ir = || {
        http_target(Ir::new(&[Channel::Chat]), None, None)
            .action(action(
                "create",
                "orders",
                "http",
                "post",
                vec![("path", text("/t"))],
            ))
            .action(keyed.clone())
            .on("message_received", &["create", "keyed"])
    };
    let id = "Zoë/\u{7}42";
    let mut keys = Vec::new();
    let mut state = None;
    for _run in 0..2 {
        let fake = Fake::new(vec![]);
        let (rt, _) = start(ir(), vec![("orders", fake.clone())]);
        rt.send(ev(
            id,
            "message_received",
            serde_json::json!({ "text": "ü\u{1}" }),
        ));
        rt.settle().await;
        state = rt.snapshot(id).await;
        keys.extend(fake.calls().into_iter().map(|(r, _)| r.idempotency_key));
    }
    // The resumed conversation keeps its instance.
    let fake = Fake::new(vec![]);
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(ir().0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::new([("ORDERS_TOKEN", "canary-7f3a9")]))
        .executor("orders", fake.clone())
        .resume(state.clone().unwrap())
        .build()
        .unwrap();
    rt.send(ev(
        id,
        "message_received",
        serde_json::json!({ "text": "b" }),
    ));
    rt.settle().await;
    let resumed: Vec<String> = fake
        .calls()
        .into_iter()
        .map(|(r, _)| r.idempotency_key)
        .collect();
    for key in keys.iter().chain(&resumed) {
        assert!(key.bytes().all(|b| (0x21..0x7f).contains(&b)), "{key:?}");
    }
    let instance = |key: &str| key.split('/').nth(1).unwrap().to_string();
    assert_eq!(
        keys[0].split('/').next(),
        Some("Zo%C3%AB%2F%0742"),
        "{}",
        keys[0]
    );
    assert_ne!(
        instance(&keys[0]),
        instance(&keys[2]),
        "two runs, two instances"
    );
    assert_eq!(
        instance(&resumed[0]),
        instance(&keys[2]),
        "a resumed conversation keeps it"
    );
    assert_eq!(
        resumed[0],
        format!("Zo%C3%AB%2F%0742/{}/2/create", instance(&keys[2]))
    );
    assert_eq!(keys[1], "ticket%20%C3%BC%01", "a written key is made ASCII");
}

// ---------- built-in targets ----------

#[tokio::test]
async fn conversation_and_call_tasks_change_state_and_emit_records() {
    let ir = Ir::new(&[Channel::Voice])
        .param("attempts", Type::Number, Some(Value::Number(0.0)))
        .param("customer", Type::Record, None)
        .action(action(
            "count",
            "conversation",
            "conversation",
            "increment",
            vec![("name", text("attempts")), ("by", num(2.0))],
        ))
        .action(action(
            "vip",
            "conversation",
            "conversation",
            "add_label",
            vec![("label", text("vip"))],
        ))
        .action(action(
            "who",
            "conversation",
            "conversation",
            "set",
            vec![(
                "customer",
                Expr::Record(vec![("phone".into(), path(Scope::Caller, &["phone"]))]),
            )],
        ))
        .action(action(
            "greet",
            "conversation",
            "conversation",
            "reply",
            vec![("reply", text("hello"))],
        ))
        .action(action(
            "handover",
            "call",
            "call",
            "transfer",
            vec![
                ("to", text("+15550111")),
                ("mode", text("warm")),
                ("whisper", text("VIP caller")),
            ],
        ))
        .action(action(
            "press",
            "call",
            "call",
            "send_dtmf",
            vec![("digits", text("12#"))],
        ))
        .action(action(
            "bye",
            "call",
            "call",
            "hangup",
            vec![("reason", text("done"))],
        ))
        .reply(
            "hello",
            Expr::Interp(vec![text("Hi "), path(Scope::Caller, &["phone"])]),
            Some(text("Hello caller")),
        )
        .on("call_ringing", &["count", "vip", "vip", "who"])
        .on("call_started", &["greet", "handover", "press", "bye"]);
    let (rt, trace) = start(ir, vec![]);
    rt.send(ev(
        "v",
        "call_ringing",
        serde_json::json!({"from": "+33612345678", "to": "+15550100"}),
    ));
    rt.send(ev("v", "call_started", serde_json::json!({})));
    let state = rt.finish().await.remove(0);
    assert_eq!(state.params["attempts"], Value::Number(2.0));
    assert_eq!(
        state.params["customer"].to_json(),
        serde_json::json!({"phone": "+33612345678"})
    );
    assert_eq!(state.labels, ["vip"]);
    assert_eq!(state.status, ConversationStatus::Ended);
    let kinds: Vec<String> = trace
        .records()
        .into_iter()
        .filter(|r| !matches!(r, TraceRecord::Action { .. }))
        .map(|r| {
            serde_json::to_value(&r).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        // The answered call fires `conversation_started` (no bindings here) before its own.
        ["event", "label", "event", "event", "reply", "transfer", "dtmf", "hangup", "end"]
    );
    assert_eq!(replies(&trace, "v"), ["Hello caller"]);
}

#[tokio::test]
async fn declared_tasks_send_a_request_and_map_the_response() {
    let mut ir = http_target(Ir::new(&[Channel::Chat]), None, None).param("eta", Type::Text, None);
    ir.0.tasks.insert(
        "order_eta".into(),
        ir::TaskDef {
            name: "order_eta".into(),
            target: "orders".into(),
            params: vec![ir::TaskParam {
                name: "id".into(),
                ty: Type::Text,
                optional: false,
                default: None,
            }],
            method: "GET".into(),
            path: Expr::Interp(vec![text("/orders/"), param("id")]),
            query: Some(Expr::Record(vec![("lang".into(), text("en"))])),
            body: None,
            headers: None,
            result: Some(path(Scope::Response, &["body", "delivery", "eta"])),
        },
    );
    let mut eta = action(
        "eta",
        "orders",
        "http",
        "order_eta",
        vec![("id", path(Scope::Event, &["text"]))],
    );
    eta.task.task = ir::TaskRef::Declared("order_eta".into());
    eta.save = Some("eta".into());
    let ir = ir.action(eta).on("message_received", &["eta"]);
    let fake = Fake::new(vec![ok_body(
        serde_json::json!({"delivery": {"eta": "tomorrow"}}),
    )]);
    let (rt, _) = start(ir, vec![("orders", fake.clone())]);
    rt.send(ev(
        "c",
        "message_received",
        serde_json::json!({"text": "A-42"}),
    ));
    let state = rt.finish().await.remove(0);
    assert_eq!(state.params["eta"], Value::Text("tomorrow".into()));
    let (request, _) = &fake.calls()[0];
    assert_eq!(
        request.task,
        agentc::runtime::effects::ExecutorTask::Request
    );
    assert_eq!(
        Value::Record(request.args.clone()).to_json(),
        serde_json::json!({"method": "GET", "path": "/orders/A-42", "query": {"lang": "en"}})
    );
}

// ---------- secrets, dry run ----------

#[tokio::test]
async fn a_secret_value_appears_in_no_trace_record_or_error() {
    let canary = "canary-7f3a9";
    let seen_fields: Arc<Mutex<Vec<IndexMap<String, Value>>>> = Arc::default();
    let leaky = Arc::new(Fake {
        describe_leaks: Some(format!(" Authorization: Bearer {canary}")),
        script: Mutex::new(VecDeque::from([Err(TaskError::fatal(format!(
            "401: bad token {canary}"
        )))])),
        ..Fake::default()
    });
    let mut save_secret = action(
        "copy",
        "conversation",
        "conversation",
        "set",
        vec![(
            "note",
            Expr::Interp(vec![
                text("token="),
                call("secret", vec![text("ORDERS_TOKEN")]),
            ]),
        )],
    );
    save_secret.when = None;
    let ir = http_target(Ir::new(&[Channel::Chat]), None, None)
        .param("note", Type::Text, None)
        .action(get_order())
        .action(save_secret)
        .action(action(
            "say",
            "conversation",
            "conversation",
            "reply",
            vec![("reply", text("r"))],
        ))
        .reply(
            "r",
            Expr::Interp(vec![text("your note: "), param("note")]),
            None,
        )
        .on("conversation_started", &["get_order", "copy", "say"]);
    let trace = TraceBuffer::new();
    let factory_fields = seen_fields.clone();
    let leaky_for_factory = leaky.clone();
    let rt = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::new([("ORDERS_TOKEN", canary)]))
        .executor_factory(Arc::new(move |_target, fields| {
            factory_fields.lock().unwrap().push(fields);
            Ok(leaky_for_factory.clone() as Arc<dyn Executor>)
        }))
        .build()
        .unwrap();
    rt.send(ev(
        "c1",
        "conversation_started",
        serde_json::json!({"user": {"name": "Ana"}}),
    ));
    let states = rt.finish().await;
    // The executor did get the real token...
    let fields = seen_fields.lock().unwrap();
    assert_eq!(fields[0]["auth"].to_json()["token"], canary);
    assert_eq!(leaky.calls().len(), 1);
    // ...and no record shows it, though the executor's description and error held it.
    let json: String = trace
        .records()
        .iter()
        .map(|r| r.to_json_line() + "\n")
        .collect();
    assert!(!json.contains(canary), "{json}");
    assert!(json.contains("Bearer [redacted]"), "{json}");
    assert!(json.contains("token=[redacted]"), "{json}");
    // The conversation itself keeps the real value: only what leaves it is redacted.
    assert_eq!(
        states[0].params["note"],
        Value::Text(format!("token={canary}"))
    );
}

#[tokio::test]
async fn dry_run_describes_every_external_task_and_sends_nothing() {
    let mut fetch = get_order();
    fetch.save = Some("order".into());
    let ir = http_target(Ir::new(&[Channel::Chat]), None, None)
        .param("order", Type::Record, None)
        .action(fetch)
        .action(action(
            "create",
            "orders",
            "http",
            "post",
            vec![("path", text("/tickets"))],
        ))
        .action(log_action("local"))
        .on("conversation_started", &["get_order", "create", "local"]);
    let fake = Fake::new(vec![]);
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        // Every secret the program reads is known (and redacted) from the start.
        .env(MapEnv::new([("ORDERS_TOKEN", "t0k3n-orders")]))
        .executor("orders", fake.clone())
        .dry_run(true)
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    let state = rt.finish().await.remove(0);
    assert!(fake.calls().is_empty());
    assert_eq!(log_of(&state), ["local"], "in-process actions still run");
    let described: Vec<(String, bool)> = trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Action {
                request: Some(request),
                dry_run,
                ..
            } => Some((request, dry_run)),
            _ => None,
        })
        .collect();
    assert_eq!(
        described,
        [
            ("GET /orders/1".to_string(), true),
            ("POST /tickets".to_string(), true)
        ]
    );
}

#[tokio::test]
async fn a_dry_run_lets_reads_of_an_in_process_target_through_and_holds_back_side_effects() {
    let declared = |name: &str, method: &str| ir::TaskDef {
        name: name.into(),
        target: "orders".into(),
        params: vec![],
        method: method.into(),
        path: text("/orders/1"),
        query: None,
        body: None,
        headers: None,
        result: None,
    };
    let mut ir = http_target(Ir::new(&[Channel::Chat]), None, None);
    for (name, method) in [("fetch", "GET"), ("cancel", "DELETE")] {
        ir.0.tasks.insert(name.into(), declared(name, method));
    }
    let mut ir = ir.action(get_order()).action(action(
        "create",
        "orders",
        "http",
        "post",
        vec![("path", text("/tickets"))],
    ));
    for name in ["fetch", "cancel"] {
        let mut run = action(name, "orders", "http", name, vec![]);
        run.task.task = ir::TaskRef::Declared(name.into());
        ir = ir.action(run);
    }
    let ir = ir.on(
        "conversation_started",
        &["get_order", "create", "fetch", "cancel"],
    );
    let fake = Fake::new(vec![
        ok_body(serde_json::json!({})),
        ok_body(serde_json::json!({})),
    ]);
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::default())
        .executor("orders", fake.clone())
        .in_process("orders")
        .dry_run(true)
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.finish().await;
    let sent: Vec<&str> = fake.calls().iter().map(|(r, _)| r.task.name()).collect();
    assert_eq!(sent, ["get", "request"], "the two reads went through");
    let held: Vec<(String, bool)> = trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Action {
                action, dry_run, ..
            } => Some((action, dry_run)),
            _ => None,
        })
        .collect();
    let expected = [
        ("get_order", false),
        ("create", true),
        ("fetch", false),
        ("cancel", true),
    ];
    assert_eq!(held, expected.map(|(a, d)| (a.to_string(), d)));
}

/// A target whose executor cannot be built (a field's value the executor refuses) fails
/// its actions with a sentence that names the target once.
/// A chat program with the http target `crm` at `base_url` and the action `lookup` on it:
/// what the tests of a target that cannot be set up start from.
fn crm_lookup(base_url: Expr) -> Ir {
    Ir::new(&[Channel::Chat])
        .target("crm", "http", vec![("base_url", base_url)], None, None)
        .action(action(
            "lookup",
            "crm",
            "http",
            "get",
            vec![("path", text("/x"))],
        ))
}

#[tokio::test]
async fn a_target_whose_executor_cannot_be_built_is_named_once() {
    let ir = crm_lookup(text("ftp://crm")).on("conversation_started", &["lookup"]);
    let trace = TraceBuffer::new();
    let redactor = Redactor::default();
    let rt = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::default())
        .executor_factory(agentc::runtime::executors::factory(&redactor))
        .redactor(redactor)
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.finish().await;
    let error = trace
        .records()
        .into_iter()
        .find_map(|r| match r {
            TraceRecord::Action {
                error: Some(error), ..
            } => Some(error),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        error,
        "target `crm` is unavailable: field `base_url` must be an http:// or https:// URL"
    );
}

#[tokio::test]
async fn a_target_that_cannot_be_set_up_fails_its_actions_only() {
    let ir = crm_lookup(call("secret", vec![text("MISSING_URL")]))
        .action(log_action("after"))
        .on("conversation_started", &["lookup", "after"]);
    let trace = TraceBuffer::new();
    let rt = Runtime::builder(ir.0)
        .trace(Arc::new(trace.clone()))
        .env(MapEnv::default())
        .build()
        .unwrap();
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    let state = rt.finish().await.remove(0);
    assert_eq!(log_of(&state), ["after"]);
    let (error, attempts, line) = trace
        .records()
        .into_iter()
        .find_map(|r| match &r {
            TraceRecord::Action {
                error: Some(error),
                attempts,
                ..
            } => Some((
                error.clone(),
                *attempts,
                agentc::runtime::timeline::render(&r, false),
            )),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        error,
        "target `crm` is unavailable: field `base_url`: the secret `MISSING_URL` is not set in the environment"
    );
    // Nothing was sent, so nothing was tried (docs/trace.md: `attempts`).
    assert_eq!(attempts, 0);
    assert!(!line.contains("try"), "{line}");
}

/// The timeline keeps one line per record: a failed request's URL once, an HTML or
/// multi-line error body cut to its first line, durations as the language writes them.
#[test]
fn the_timeline_keeps_one_line_per_record() {
    let url = "GET https://orders.example/orders/1";
    let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>";
    let failed = |error: String, attempts, duration_ms| TraceRecord::Action {
        conversation: "c-42".into(),
        seq: 1,
        action: "check_order".into(),
        target: "orders".into(),
        task: "get".into(),
        status: ActionStatus::Failed,
        attempts,
        duration_ms,
        error: Some(error),
        error_kind: None,
        request: Some(url.into()),
        saved: None,
        value: None,
        on_failure_of: None,
        dry_run: false,
    };
    let lines = [
        failed(format!("{url} answered 502 Bad Gateway: {page}"), 3, 330_000),
        failed(format!("{url}: cannot connect: connection refused"), 1, 1_500),
        failed("target `orders` is unavailable: field `token`: the secret `T` is not set in the environment".into(), 0, 0),
        TraceRecord::Event {
            conversation: "c-42".into(),
            seq: 2,
            event: "wait".into(),
            usecase: None,
            block: None,
            started_by: None,
            payload: serde_json::json!({"for_ms": 330_000}),
        },
    ]
    .map(|record| agentc::runtime::timeline::render(&record, false));
    for line in &lines {
        assert!(
            !line.contains('\n') && line.matches(url).count() <= 1,
            "{line}"
        );
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[tokio::test]
async fn an_inconsistent_ir_is_refused_not_panicked_on() {
    let ir = Ir::new(&[Channel::Chat]).on("conversation_started", &["ghost"]);
    let error = Runtime::builder(ir.0).build().err().unwrap();
    assert!(
        matches!(&error, PlanError::BindingRunsUnknown(name) if name == "ghost"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "a binding runs `ghost`, which is not an action"
    );
}

/// A task is typed by its kind: an IR file edited to run another kind's task, or a
/// declared task on a built-in target, is refused by name.
#[tokio::test]
async fn an_ir_pairing_a_kind_with_another_kinds_task_is_refused() {
    use agentc::catalogue::{tasks, BuiltinTask};
    let mut query = action("q", "orders", "http", "get", vec![("path", text("/x"))]);
    query.task.task = ir::TaskRef::Builtin(BuiltinTask::Sql(tasks::Sql::Query));
    let ir = http_target(Ir::new(&[Channel::Chat]), None, None).action(query);
    let error = Runtime::builder(ir.0).build().err().unwrap();
    assert_eq!(
        error.to_string(),
        "action `q`: `http` targets have no task `query`"
    );
    let mut label = action("l", "conversation", "conversation", "add_label", vec![]);
    label.task.task = ir::TaskRef::Declared("add_label".into());
    let ir = Ir::new(&[Channel::Chat]).action(label);
    let error = Runtime::builder(ir.0).build().err().unwrap();
    assert_eq!(
        error.to_string(),
        "action `l`: `conversation` targets have no task `add_label`"
    );
}

// ---------- `agentc run` end to end, against a real local server ----------

mod cli {
    use assert_cmd::Command;
    use std::path::Path;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const CANARY: &str = "canary-5ecret-91c2";

    fn program(dir: &Path, base_url: &str) -> std::path::PathBuf {
        let source = format!(
            r#"
agent desk {{
  channels: [chat]
  params: {{ ticket: record, order_id: text }}
}}

target api: http {{
  base_url: "{base_url}"
  auth: bearer(secret("API_TOKEN"))
  allow_hosts: ["127.0.0.1"]
  retry: {{ attempts: 3, backoff: 10ms, max_backoff: 20ms }}
}}

reply hello {{ text: "Hello {{user.name ?? "there"}}" }}
reply sorry {{ text: "Sorry!" }}

on conversation_started reply hello
on message_received do open_ticket

action open_ticket {{
  target: api
  task: post("/tickets", body: {{ subject: event.text }})
  save: ticket
  on_failure: apologise
}}

action apologise {{
  target: conversation
  task: reply(sorry)
}}
"#
        );
        let file = dir.join("desk.agent");
        std::fs::write(&file, source).unwrap();
        file
    }

    fn run(args: &[&str], dir: &Path, events: &str) -> (String, String, i32) {
        let output = Command::cargo_bin("agentc")
            .unwrap()
            .current_dir(dir)
            .env("API_TOKEN", CANARY)
            .env("NO_COLOR", "1")
            .args(["run", "desk.agent", "--events", "-"])
            .args(args)
            .write_stdin(events)
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            text(output.stdout),
            text(output.stderr),
            output.status.code().unwrap_or(-1),
        )
    }

    fn records(stdout: &str) -> Vec<serde_json::Value> {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    const EVENTS: &str = concat!(
        r#"{"conversation":"c-1","event":"conversation_started","payload":{"user":{"name":"Ana"}}}"#,
        "\n",
        r#"{"conversation":"c-1","event":"message_received","payload":{"text":"broken"}}"#,
        "\n"
    );

    #[tokio::test(flavor = "multi_thread")]
    async fn a_503_with_retry_after_then_201_is_retried_and_the_secret_never_shows() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/tickets"))
            .and(header("authorization", format!("Bearer {CANARY}").as_str()))
            .respond_with(
                ResponseTemplate::new(503)
                    .insert_header("retry-after", "0")
                    .set_body_string(format!("bad token {CANARY}")),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/tickets"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": 7})))
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), &server.uri());
        let (stdout, stderr, code) =
            tokio::task::spawn_blocking(move || run(&["--trace", "json"], dir.path(), EVENTS))
                .await
                .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
        let action = records(&stdout)
            .into_iter()
            .find(|r| r["type"] == "action")
            .unwrap();
        assert_eq!(action["status"], "ok");
        assert_eq!(action["attempts"], 2);
        assert_eq!(action["value"]["body"]["id"], 7);
        assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_service_that_keeps_failing_runs_on_failure_and_redacts_its_answer() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(429).set_body_string(format!("token {CANARY} rejected")),
            )
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), &server.uri());
        let (stdout, stderr, code) =
            tokio::task::spawn_blocking(move || run(&[], dir.path(), EVENTS))
                .await
                .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
        assert!(stdout.contains("✗ open_ticket"), "{stdout}");
        assert!(stdout.contains("3 tries"), "{stdout}");
        assert!(stdout.contains("» reply sorry: \"Sorry!\""), "{stdout}");
        assert!(
            !stdout.contains(CANARY) && !stderr.contains(CANARY),
            "{stdout}{stderr}"
        );
    }

    /// A 500 may come after the POST was acted on: it is not sent again, whatever the
    /// target's `retry`, and the action fails as `outcome_unknown` and runs its `on_failure`.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_500_to_a_post_is_an_unknown_outcome_not_tried_again() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), &server.uri());
        let (stdout, stderr, code) =
            tokio::task::spawn_blocking(move || run(&["--trace", "json"], dir.path(), EVENTS))
                .await
                .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
        let records = records(&stdout);
        let action = records.iter().find(|r| r["type"] == "action").unwrap();
        assert_eq!(action["status"], "failed");
        assert_eq!(action["attempts"], 1);
        assert_eq!(action["error_kind"], "outcome_unknown");
        let error = action["error"].as_str().unwrap();
        assert!(
            error.starts_with("outcome unknown: the request may have been processed (POST ")
                && error.ends_with("answered 500 Internal Server Error); it is not tried again, as a second try could mean a second resource or a second effect"),
            "{error}"
        );
        assert!(records
            .iter()
            .any(|r| r["type"] == "action" && r["on_failure_of"] == "open_ticket"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn dry_run_prints_what_it_would_send_and_sends_nothing() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), &server.uri());
        let (stdout, stderr, code) =
            tokio::task::spawn_blocking(move || run(&["--dry-run"], dir.path(), EVENTS))
                .await
                .unwrap();
        assert_eq!(code, 0, "{stderr}");
        assert!(server.received_requests().await.unwrap().is_empty());
        assert!(stdout.contains("would run open_ticket"), "{stdout}");
        assert!(
            stdout.contains(&format!("POST {}/tickets", server.uri())),
            "{stdout}"
        );
        assert!(!stdout.contains(CANARY));
    }

    /// A refund desk: a read (`look`), then two side effects that use what it read.
    const REFUND_DESK: &str = r#"
agent desk {
  channels: [chat]
  params: { order: record }
}

target orders: http {
  base_url: "https://orders.example"
  auth: bearer(secret("ORDERS_TOKEN"))
}

target mail: smtp {
  host: "smtp.acme.example"
  from: "desk@acme.example"
  username: "desk"
  password: secret("SMTP_PASSWORD")
}

action look {
  target: orders
  task: get("/orders/A-1")
  save: order
}

action refund {
  target: orders
  task: post("/refunds", body: { order: order.body.id, amount: order.body.total, token: secret("ORDERS_TOKEN") })
}

target db: sql {
  url: "sqlite://desk.sqlite"
}

action note {
  target: db
  task: insert("refunds", { order: order.body.id, amount: order.body.total })
}

action tell {
  target: mail
  task: send_email(to: "ana@example.com", subject: "Refund for {order.body.id}", body: "Dear Ana,\nwe refunded {order.body.total}.")
}

on message_received do look, refund, note, tell
"#;

    fn dry_run_refund(args: &[&str]) -> (String, String, i32) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("desk.agent"), REFUND_DESK).unwrap();
        std::fs::write(
            dir.path().join("desk.mocks"),
            "mock orders GET \"/orders/A-1\" -> 200 { id: \"A-1\", total: 59.7 }\n",
        )
        .unwrap();
        let output = Command::cargo_bin("agentc")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("ORDERS_TOKEN")
            .env_remove("SMTP_PASSWORD")
            .env("NO_COLOR", "1")
            .args(["run", "desk.agent", "--events", "-", "--dry-run"])
            .args(args)
            .write_stdin(concat!(
                r#"{"conversation":"c-1","event":"message_received","payload":{"text":"refund"}}"#,
                "\n"
            ))
            .output()
            .unwrap();
        assert!(
            !dir.path().join("desk.sqlite").exists(),
            "a dry run touches no SQL file"
        );
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            text(output.stdout),
            text(output.stderr),
            output.status.code().unwrap_or(-1),
        )
    }

    #[test]
    fn a_dry_run_with_mocks_reads_and_holds_back_only_side_effects_with_their_bodies() {
        let (stdout, stderr, code) = dry_run_refund(&["--mocks", "desk.mocks", "--trace", "json"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let actions: Vec<serde_json::Value> = records(&stdout)
            .into_iter()
            .filter(|r| r["type"] == "action")
            .collect();
        let [look, refund, note, tell] = actions.as_slice() else {
            panic!("{stdout}");
        };
        // The read went through, to the mock, and its answer was saved.
        assert_eq!(look["status"], "ok", "{look}");
        assert_eq!(look.get("dry_run"), None, "{look}");
        assert_eq!(look["attempts"], 1, "{look}");
        assert_eq!(look["value"]["body"]["id"], "A-1", "{look}");
        // The side effects were held back, with what they would send.
        for held in [refund, note, tell] {
            assert_eq!(held["dry_run"], true, "{held}");
            assert_eq!(held["attempts"], 0, "{held}");
        }
        let request = refund["request"].as_str().unwrap();
        assert!(
            request.contains(r#""order":"A-1""#) && request.contains(r#""amount":59.7"#),
            "{request}"
        );
        assert!(request.contains(r#""token":"[redacted]""#), "{request}");
        let row = note["request"].as_str().unwrap();
        assert!(row.ends_with(r#"bound to ["A-1",59.7]"#), "{row}");
        let email = tell["request"].as_str().unwrap();
        assert!(email.contains("Refund for A-1"), "{email}");
        assert!(
            email.contains(r#"body "Dear Ana,\nwe refunded 59.7.""#),
            "{email}"
        );
        // No secret was set: the placeholder never shows.
        assert!(!stdout.contains("mock-"), "{stdout}");
        assert!(!stderr.contains("not set"), "{stderr}");
    }

    #[test]
    fn a_dry_run_without_mocks_needs_no_secret_and_holds_back_the_read_too() {
        let (stdout, stderr, code) = dry_run_refund(&[]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(!stderr.contains("not set"), "{stderr}");
        for line in [
            "◦ would run look",
            "◦ would run refund",
            "◦ would run note",
            "◦ would run tell",
        ] {
            assert!(stdout.contains(line), "{line}: {stdout}");
        }
        assert!(
            stdout.contains("GET https://orders.example/orders/A-1"),
            "{stdout}"
        );
        assert!(!stdout.contains("mock-"), "{stdout}");
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), "http://127.0.0.1:9");
        let events = concat!(
            "{\"conversation\":\"c-1\",\"event\":\"conversation_started\"}\n",
            "{oops\n",
            "\n",
            "{\"conversation\":\"c-1\",\"event\":\"conversation_strated\"}\n",
            "{\"conversation\":\"c-2\",\"event\":\"conversation_started\"}\n",
        );
        let (stdout, stderr, code) = run(&[], dir.path(), events);
        assert_eq!(code, 1);
        assert!(stderr.contains("error: line 2: not valid JSON"), "{stderr}");
        assert!(
            stderr.contains("error: line 4: unknown event `conversation_strated` (did you mean `conversation_started`?)"),
            "{stderr}"
        );
        assert!(
            stdout.contains("c-1    » reply hello: \"Hello there\""),
            "{stdout}"
        );
        assert!(stdout.contains("c-2 ■ end active"), "{stdout}");
    }

    #[test]
    fn a_program_with_errors_does_not_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("desk.agent"),
            "agent a { channels: [chat] }\non nope do x\n",
        )
        .unwrap();
        let (stdout, stderr, code) = run(&[], dir.path(), "");
        assert_eq!(code, 1);
        assert!(stdout.is_empty());
        assert!(stderr.contains("error[E"), "{stderr}");
    }
}

#[tokio::test]
async fn expressions_evaluate_in_a_conversation_between_events() {
    let ir = Ir::new(&[Channel::Chat]).param("attempts", Type::Number, Some(Value::Number(2.0)));
    let (rt, _) = start(ir, vec![]);
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({"text": "Hello", "user": {"name": "Ana"}}),
    ));
    let greeting = Expr::Interp(vec![
        call("upper", vec![path(Scope::Event, &["text"])]),
        text(" "),
        path(Scope::User, &["name"]),
        text(" "),
        bin(BinOp::Add, param("attempts"), num(1.0)),
    ]);
    assert_eq!(
        rt.eval("c1", greeting).await,
        Ok(Value::Text("HELLO Ana 3".into()))
    );
    let bad = Expr::Field(Box::new(param("attempts")), "x".into());
    assert_eq!(
        rt.eval("c1", bad).await,
        Err(ConversationEvalError::Failed(EvalError(
            "cannot read field `x` of a number".into()
        )))
    );
    assert_eq!(
        rt.eval("new", param("attempts")).await,
        Ok(Value::Number(2.0))
    );
    assert!(rt.snapshot("nobody").await.is_none());
}

/// From source: `usecase.name` and `block.name` read the use case and block being run
/// (docs/language.md, "Names in scope"), in a binding's `when` and in the actions it runs.
#[tokio::test]
async fn usecase_and_block_names_are_read_from_source() {
    use agentc::check::{check_program, MemoryLoader};
    use agentc::diagnostics::SourceMap;
    let source = r#"
agent a { channels: [chat] }
usecase order_status { blocks: [ask_order_id] }
action tag { target: conversation, task: add_label(usecase.name) }
action tag_block { target: conversation, task: add_label("{usecase.name}.{block.name}") }
in usecase order_status when usecase.name == "order_status" do tag
at block order_status.ask_order_id when usecase.name != "other" do tag_block
"#;
    let mut sources = SourceMap::new();
    let root = sources.add("a.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    let program = checked
        .program
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics));
    let (rt, _) = start(Ir(program), vec![]);
    rt.send(Event::new(
        "c1",
        EventKind::Usecase("order_status".into()),
        Value::Null,
    ));
    rt.send(Event::new(
        "c1",
        EventKind::Block {
            usecase: "order_status".into(),
            block: "ask_order_id".into(),
        },
        Value::Null,
    ));
    rt.settle().await;
    let state = rt.snapshot("c1").await.unwrap();
    assert_eq!(state.labels, ["order_status", "order_status.ask_order_id"]);
}

fn checked(source: &str) -> Ir {
    use agentc::check::{check_program, MemoryLoader};
    use agentc::diagnostics::SourceMap;
    let mut sources = SourceMap::new();
    let root = sources.add("a.agent", source);
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    Ir(checked
        .program
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics)))
}

/// Each reply record as (name, text, choices as `label=id`).
fn reply_records(
    trace: &TraceBuffer,
    conversation: &str,
) -> Vec<(Option<String>, String, Vec<String>)> {
    trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Reply {
                conversation: c,
                reply,
                text,
                choices,
                ..
            } if c == conversation => Some((
                reply,
                text,
                choices
                    .iter()
                    .map(|c| format!("{}={}", c.label, c.id))
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

const MULTILINGUAL: &str = r#"
agent desk {
  channels: [chat, voice]
  language: "en"
  params: { order_id: text }
}
reply pick_topic {
  text: { en: "What can I help with?", fr: "Comment puis-je vous aider ?", "pt-BR": "Como posso ajudar?" }
  voice: { en: "Say order or person.", fr: "Dites commande ou conseiller." }
  choices: ["Order status", { id: "human", label: { en: "Talk to a person", fr: "Parler à quelqu'un" } }]
}
action to_french { target: conversation, task: set_language("fr-CA") }
action to_german { target: conversation, task: set_language("de") }
action tell { target: conversation, task: reply("Order {order_id} is on its way") }
action ask { target: conversation, task: reply(pick_topic) }
on conversation_started reply pick_topic
on message_received when event.text == "fr" do to_french, ask
on message_received when event.text == "de" do to_german, ask
on message_received when event.text == "where" do tell
"#;

#[tokio::test]
async fn reply_texts_follow_the_conversation_language_and_choices_are_traced() {
    let (rt, trace) = start(checked(MULTILINGUAL), vec![]);
    rt.send(ev("c1", "conversation_started", serde_json::json!({})));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({ "text": "fr" }),
    ));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({ "text": "de" }),
    ));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({ "text": "where", "params": { "order_id": "A-1" } }),
    ));
    rt.settle().await;
    let topic = Some("pick_topic".to_string());
    let en_choices = vec![
        "Order status=Order status".to_string(),
        "Talk to a person=human".into(),
    ];
    assert_eq!(
        reply_records(&trace, "c1"),
        [
            // The agent's language first; `fr-CA` takes `fr`; `de`, not written, falls
            // back to the agent's `en`.
            (
                topic.clone(),
                "What can I help with?".into(),
                en_choices.clone()
            ),
            (
                topic.clone(),
                "Comment puis-je vous aider ?".into(),
                vec![
                    "Order status=Order status".into(),
                    "Parler à quelqu'un=human".into()
                ],
            ),
            (topic.clone(), "What can I help with?".into(), en_choices),
            (None, "Order A-1 is on its way".into(), vec![]),
        ]
    );
    // The JSON record carries the choices as { id, label } and leaves out a one-off's name.
    let json: Vec<serde_json::Value> = trace
        .records()
        .iter()
        .filter(|r| matches!(r, TraceRecord::Reply { .. }))
        .map(|r| serde_json::from_str(&r.to_json_line()).unwrap())
        .collect();
    assert_eq!(
        json[0]["choices"][1],
        serde_json::json!({ "id": "human", "label": "Talk to a person" })
    );
    assert!(
        json[3].get("reply").is_none() && json[3].get("choices").is_none(),
        "{}",
        json[3]
    );
}

#[tokio::test]
async fn a_voice_conversation_hears_the_voice_text_without_choices() {
    let (rt, trace) = start(checked(MULTILINGUAL), vec![]);
    let mut started = ev("v1", "conversation_started", serde_json::json!({}));
    started.channel = Some(Channel::Voice);
    rt.send(started);
    rt.settle().await;
    assert_eq!(
        reply_records(&trace, "v1"),
        [(
            Some("pick_topic".into()),
            "Say order or person.".into(),
            vec![]
        )]
    );
}

#[tokio::test]
async fn hold_music_is_in_the_hold_record_and_a_computed_http_url_fails() {
    let source = r#"
agent line {
  channels: [voice]
  params: { music_url: text }
}
action wait_music { target: call, task: hold(message: "Please hold.", music: "https://media.example/hold.mp3") }
action wait_computed { target: call, task: hold(music: music_url) }
on call_started do wait_music
on message_received do wait_computed
"#;
    let (rt, trace) = start(checked(source), vec![]);
    rt.send(ev("c1", "call_started", serde_json::json!({})));
    rt.send(ev(
        "c1",
        "message_received",
        serde_json::json!({ "params": { "music_url": "http://media.example/a.mp3" } }),
    ));
    rt.settle().await;
    let records = trace.records();
    assert!(
        records.iter().any(|r| matches!(r,
        TraceRecord::Hold { message: Some(m), music: Some(u), .. }
            if m == "Please hold." && u == "https://media.example/hold.mp3")),
        "{records:#?}"
    );
    assert!(
        records.iter().any(|r| matches!(r,
        TraceRecord::Action { action, status: ActionStatus::Failed, error: Some(e), .. }
            if action == "wait_computed" && e.contains("https://"))),
        "{records:#?}"
    );
    let line = records
        .iter()
        .find(|r| matches!(r, TraceRecord::Hold { .. }))
        .map(|r| agentc::runtime::timeline::render(r, false))
        .unwrap();
    assert!(
        line.ends_with("☎ hold \"Please hold.\" ♪ https://media.example/hold.mp3"),
        "{line}"
    );
}

#[tokio::test]
async fn a_use_case_or_block_event_fills_params_from_its_payload_as_any_event_does() {
    let (rt, trace) = start(
        from_source(
            r#"
agent a { channels: [chat], params: { order_id: text, step: text } }
usecase order_status { blocks: [show] }
in usecase order_status do tell
at block order_status.show do tell
action tell { target: conversation, task: reply("{order_id} at {step}") }
"#,
        ),
        vec![],
    );
    let payload = |json: serde_json::Value| Value::from_json(&json);
    rt.send(Event::new(
        "c1",
        EventKind::Usecase("order_status".into()),
        payload(serde_json::json!({ "name": "order_status", "params": { "order_id": "A-1", "step": "start" } })),
    ));
    rt.send(Event::new(
        "c1",
        EventKind::Block {
            usecase: "order_status".into(),
            block: "show".into(),
        },
        payload(serde_json::json!({ "params": { "step": "show" } })),
    ));
    // A wrong type is refused as on any event: the param keeps its value.
    rt.send(Event::new(
        "c1",
        EventKind::Usecase("order_status".into()),
        payload(serde_json::json!({ "params": { "step": 3 } })),
    ));
    rt.settle().await;
    let texts: Vec<String> = reply_records(&trace, "c1")
        .into_iter()
        .map(|(_, text, _)| text)
        .collect();
    assert_eq!(texts, ["A-1 at start", "A-1 at show", "A-1 at show"]);
    let errors: Vec<String> = trace
        .records()
        .into_iter()
        .filter_map(|r| match r {
            TraceRecord::Error { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        ["cannot store a number in `step`, a text parameter"]
    );
}
