//! Parser tests: every construct of the spec's examples, with AST shapes and spans.

use super::ast::*;
use super::grammar::{AgentParser, Rule};
use super::*;

const F: FileId = FileId(0);
const SPEC: &str = include_str!("../../tests/data/spec_examples.agent");

fn ok(text: &str) -> File {
    let parsed = parse(F, text);
    assert!(
        parsed.diagnostics.is_empty(),
        "{text}\n{:#?}",
        parsed.diagnostics
    );
    parsed.file
}

fn span_text(text: &str, span: Span) -> &str {
    &text[span.range()]
}

/// A compact, parenthesised rendering of an expression tree.
fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Number(n) => n.to_string(),
        ExprKind::Duration(ms) => format!("{ms}ms"),
        ExprKind::Str(s, _) => {
            let parts: Vec<String> = s
                .parts
                .iter()
                .map(|p| match p {
                    StrPart::Lit(t) => format!("{t:?}"),
                    StrPart::Interp(e) => format!("{{{}}}", sexp(e)),
                })
                .collect();
            format!("(str {})", parts.join(" "))
        }
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sexp).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Record(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|e| format!(
                    "{}{}={}",
                    if e.key.quoted { "q:" } else { "" },
                    e.key.name,
                    sexp(&e.value)
                ))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Name(n) => n.to_string(),
        ExprKind::Field(field) => format!("(. {} {})", sexp(&field.0), field.1.name),
        ExprKind::Index(operands) => {
            format!("([] {} {})", sexp(&operands[0]), sexp(&operands[1]))
        }
        ExprKind::Call(call) => format!(
            "({}{})",
            call.callee.name,
            call.args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!(" {}:{}", n.name, sexp(&a.value)),
                    None => format!(" {}", sexp(&a.value)),
                })
                .collect::<String>()
        ),
        ExprKind::Unary(UnOp::Neg, e) => format!("(neg {})", sexp(e)),
        ExprKind::Unary(UnOp::Not, e) => format!("(not {})", sexp(e)),
        ExprKind::Binary(op, operands) => format!(
            "({} {} {})",
            op.symbol(),
            sexp(&operands[0]),
            sexp(&operands[1])
        ),
        ExprKind::If(parts) => {
            let [cond, then, otherwise] = &**parts;
            format!("(if {} {} {})", sexp(cond), sexp(then), sexp(otherwise))
        }
        ExprKind::Error => "ERROR".into(),
    }
}

fn expr(text: &str) -> String {
    let (e, diags) = parse_expr(F, text);
    assert!(diags.is_empty(), "{text}: {diags:#?}");
    sexp(&e.expect("an expression"))
}

fn expr_error(text: &str) -> Vec<Diagnostic> {
    let (_, diags) = parse_expr(F, text);
    assert!(!diags.is_empty(), "{text} should not parse");
    diags
}

#[test]
fn spec_examples_parse_on_the_fast_path() {
    let comments = scan::scan(F, SPEC, 0).comments;
    assert!(AgentParser::parse(Rule::file, &blank(SPEC, 0, &comments)).is_ok());
    let f = ok(SPEC);
    assert_eq!(f.items.len(), 23);
    for item in &f.items {
        let text = span_text(SPEC, item.span());
        assert!(
            !text.starts_with(char::is_whitespace) && !text.ends_with(char::is_whitespace),
            "{text:?}"
        );
    }
    assert_eq!(f.comments.len(), 11);
    assert_eq!(
        span_text(SPEC, f.comments[0].span),
        "// chat | voice | email"
    );
}

#[test]
fn import_and_agent() {
    let text = "import \"common/replies.agent\"\n\nagent acme {\n  name: \"Acme\"\n  params: {\n    order_id: text\n    attempts: number = 0\n  }\n}\n";
    let f = ok(text);
    let Item::Import(import) = &f.items[0] else {
        panic!()
    };
    assert_eq!(import.path, "common/replies.agent");
    assert_eq!(
        span_text(text, import.path_span),
        "\"common/replies.agent\""
    );
    assert_eq!(
        span_text(text, import.span),
        "import \"common/replies.agent\""
    );
    let Item::Agent(agent) = &f.items[1] else {
        panic!()
    };
    assert_eq!(agent.name.name, "acme");
    assert_eq!(span_text(text, agent.name.span), "acme");
    let AgentEntry::Field(name) = &agent.entries[0] else {
        panic!()
    };
    assert_eq!(span_text(text, name.span), "name: \"Acme\"");
    let AgentEntry::Params { params, span } = &agent.entries[1] else {
        panic!()
    };
    assert!(
        span_text(text, *span).starts_with("params: {") && span_text(text, *span).ends_with('}')
    );
    assert_eq!(params.len(), 2);
    assert_eq!(
        (params[0].name.name.as_str(), params[0].ty.name.as_str()),
        ("order_id", "text")
    );
    assert_eq!(span_text(text, params[1].span), "attempts: number = 0");
    assert_eq!(params[1].default.as_ref().map(sexp).as_deref(), Some("0"));
}

#[test]
fn target_task_action() {
    let f = ok(SPEC);
    let Item::Target(orders) = &f.items[2] else {
        panic!()
    };
    assert_eq!(
        (orders.name.name.as_str(), orders.kind.name.as_str()),
        ("orders", "http")
    );
    assert_eq!(orders.fields.len(), 5);
    assert_eq!(
        sexp(&orders.fields[1].value),
        "(bearer (secret (str \"ORDERS_TOKEN\")))"
    );
    assert_eq!(
        sexp(&orders.fields[3].value),
        "{attempts=3 backoff=200ms max_backoff=5000ms}"
    );
    assert_eq!(
        sexp(&orders.fields[4].value),
        "{q:X-Client=(str \"acme-agent\")}"
    );
    let Item::Target(mail) = &f.items[4] else {
        panic!()
    };
    assert_eq!(
        mail.fields.len(),
        5,
        "fields split over two lines with commas"
    );

    let Item::Task(task) = &f.items[7] else {
        panic!()
    };
    assert_eq!(task.name.name, "get_order");
    assert_eq!(task.target.name, "orders");
    assert_eq!(task.params[0].name.name, "id");
    assert_eq!(sexp(&task.fields[1].value), "(str \"/orders/\" {id})");
    assert_eq!(
        sexp(&task.fields[2].value),
        "{status=(. (. response body) status) eta=(. (. (. response body) delivery) eta)}"
    );

    let Item::Action(action) = &f.items[8] else {
        panic!()
    };
    let keys: Vec<&str> = action.fields.iter().map(|f| f.key.name.as_str()).collect();
    assert_eq!(
        keys,
        [
            "target",
            "task",
            "when",
            "save",
            "timeout",
            "retry",
            "on_failure"
        ]
    );
    assert_eq!(sexp(&action.fields[1].value), "(get_order order_id)");
    assert_eq!(sexp(&action.fields[2].value), "(!= order_id null)");
    assert_eq!(span_text(SPEC, action.fields[1].key.span), "task");
}

#[test]
fn task_params_optional_and_default() {
    let text = "task t(p: text, q: number?, r: bool = true) on api { method: POST }";
    let f = ok(text);
    let Item::Task(t) = &f.items[0] else { panic!() };
    assert!(!t.params[0].optional && t.params[1].optional);
    assert_eq!(
        t.params[2].default.as_ref().map(sexp).as_deref(),
        Some("true")
    );
    assert_eq!(span_text(text, t.params[1].span), "q: number?");
}

#[test]
fn replies_and_usecases() {
    let f = ok(SPEC);
    let Item::Reply(welcome) = &f.items[10] else {
        panic!()
    };
    assert_eq!(
        sexp(&welcome.fields[0].value),
        "(str \"Hi \" {(?? (. user name) (str \"there\"))} \"! How can I help?\")"
    );
    let Item::Usecase(u) = &f.items[12] else {
        panic!()
    };
    assert_eq!(
        sexp(&u.fields[1].value),
        "[ask_order_id show_status offer_human]"
    );
}

#[test]
fn every_binding_form() {
    let f = ok(SPEC);
    let bindings: Vec<&Binding> = f
        .items
        .iter()
        .filter_map(|i| {
            if let Item::Binding(b) = i {
                Some(&**b)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(bindings.len(), 9);
    assert!(
        matches!(&bindings[0].trigger, Trigger::Events(e) if e[0].name == "conversation_started")
    );
    assert!(matches!(&bindings[0].body, BindingBody::Reply(r) if r.name == "welcome"));
    let BindingBody::Do(actions) = &bindings[2].body else {
        panic!()
    };
    assert_eq!(
        actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["identify_caller", "tag_vip"]
    );
    let Trigger::BeforeCall(span) = bindings[3].trigger else {
        panic!()
    };
    assert_eq!(span_text(SPEC, span), "before call");
    assert!(matches!(bindings[4].trigger, Trigger::AfterCall(_)));
    assert_eq!(
        bindings[5].when.as_ref().map(sexp).as_deref(),
        Some("(contains (lower (. event text)) (str \"refund\"))")
    );
    assert!(matches!(&bindings[6].trigger, Trigger::Usecase(u) if u.name == "order_status"));
    let Trigger::Block { usecase, block } = &bindings[7].trigger else {
        panic!()
    };
    assert_eq!(
        (usecase.name.as_str(), block.name.as_str()),
        ("order_status", "offer_human")
    );
    assert_eq!(
        span_text(SPEC, bindings[7].span),
        "at block order_status.offer_human do escalate_billing"
    );

    let text = "in usecase u when x > 1 do a\nbefore call when y do b, c\n";
    let f = ok(text);
    let Item::Binding(b) = &f.items[1] else {
        panic!()
    };
    assert_eq!(b.when.as_ref().map(sexp).as_deref(), Some("y"));
}

#[test]
fn test_blocks() {
    let f = ok(SPEC);
    let Item::Test(test) = &f.items[22] else {
        panic!()
    };
    assert_eq!(test.name, "gold caller is tagged and greeted");
    assert_eq!(
        span_text(SPEC, test.name_span),
        "\"gold caller is tagged and greeted\""
    );
    assert_eq!(test.steps.len(), 8);
    let TestStep::Mock(mock) = &test.steps[0] else {
        panic!()
    };
    assert_eq!(
        (mock.target.name.as_str(), mock.method.name.as_str()),
        ("orders", "GET")
    );
    assert_eq!(mock.status.as_ref().map(sexp).as_deref(), Some("200"));
    assert_eq!(
        mock.body.as_ref().map(sexp).as_deref(),
        Some("{customer={tier=(str \"gold\") name=(str \"Ana\")}}")
    );
    let TestStep::Send(send) = &test.steps[1] else {
        panic!()
    };
    assert!(matches!(&send.what, SendWhat::Event(e) if e.name == "call_ringing"));
    assert!(send.payload.is_some());
    let TestStep::Send(send) = &test.steps[2] else {
        panic!()
    };
    assert!(send.payload.is_none());
    assert_eq!(span_text(SPEC, send.span), "send call_started");
    let TestStep::Expect(e) = &test.steps[5] else {
        panic!()
    };
    assert!(
        matches!(&e.what, Expectation::Param(p) if sexp(p) == "(== (. customer tier) (str \"gold\"))")
    );
    let TestStep::Expect(e) = &test.steps[7] else {
        panic!()
    };
    assert!(
        e.negated
            && matches!(&e.what, Expectation::Action(Outcome::Ran, a) if a.name == "escalate_billing")
    );
}

#[test]
fn every_test_step_form() {
    let text = "mock texts POST \"/x\"\nmock api GET \"/y\" -> 404\nsend usecase order_status\nsend block order_status.ask_order_id\nsend wait 5m\nexpect label \"vip\"\nexpect reply welcome\nexpect reply \"exact\"\nexpect request orders POST \"/o\" { body: { a: 1 } }\nexpect email mail { to: \"a@b\" }\nexpect sms texts\nexpect row crm_db \"calls\" { phone: \"+1\" }\nexpect status \"escalated\", expect not label \"x\"";
    let (steps, diags) = parse_test_steps(F, text);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(steps.len(), 14);
    assert!(matches!(&steps[0], TestStep::Mock(m) if m.status.is_none() && m.body.is_none()));
    assert!(matches!(&steps[1], TestStep::Mock(m) if m.body.is_none() && m.status.is_some()));
    assert!(
        matches!(&steps[2], TestStep::Send(Send { what: SendWhat::Usecase(u), .. }) if u.name == "order_status")
    );
    assert!(
        matches!(&steps[3], TestStep::Send(Send { what: SendWhat::Block { block, .. }, .. }) if block.name == "ask_order_id")
    );
    assert!(
        matches!(&steps[4], TestStep::Send(Send { what: SendWhat::Wait(w), .. }) if w.kind == ExprKind::Duration(300_000))
    );
    assert!(
        matches!(&steps[6], TestStep::Expect(Expect { what: Expectation::Reply(r), .. }) if sexp(r) == "welcome")
    );
    assert!(matches!(
        &steps[8],
        TestStep::Expect(Expect {
            what: Expectation::Request {
                fields: Some(_),
                ..
            },
            ..
        })
    ));
    assert!(matches!(
        &steps[9],
        TestStep::Expect(Expect {
            what: Expectation::Email {
                fields: Some(_),
                ..
            },
            ..
        })
    ));
    assert!(matches!(
        &steps[10],
        TestStep::Expect(Expect {
            what: Expectation::Sms { fields: None, .. },
            ..
        })
    ));
    assert!(matches!(
        &steps[11],
        TestStep::Expect(Expect {
            what: Expectation::Row { .. },
            ..
        })
    ));
    assert!(matches!(
        &steps[12],
        TestStep::Expect(Expect {
            what: Expectation::Status(_),
            ..
        })
    ));
    assert!(matches!(
        &steps[13],
        TestStep::Expect(Expect { negated: true, .. })
    ));
}

#[test]
fn precedence() {
    assert_eq!(expr("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(expr("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(expr("a or b and c"), "(or a (and b c))");
    assert_eq!(expr("not a == b"), "(not (== a b))");
    assert_eq!(expr("not a and b"), "(and (not a) b)");
    assert_eq!(expr("a ?? b + 1 == c"), "(== (?? a (+ b 1)) c)");
    assert_eq!(expr("x in [1, 2] or y"), "(or (in x [1 2]) y)");
    assert_eq!(expr("-a.b[0] * 2"), "(* (neg ([] (. a b) 0)) 2)");
    assert_eq!(expr("-7"), "(neg 7)");
    assert_eq!(expr("a % 2 / 3"), "(/ (% a 2) 3)");
    assert_eq!(
        expr("if a > 1 then \"x\" else y ?? z"),
        "(if (> a 1) (str \"x\") (?? y z))"
    );
    assert_eq!(expr("1 + if c then 2 else 3"), "(+ 1 (if c 2 3))");
    assert_eq!(expr("(a < b) == c"), "(== (< a b) c)");
    assert_eq!(expr("order.items[0].sku"), "(. ([] (. order items) 0) sku)");
}

#[test]
fn comparisons_do_not_chain() {
    let d = expr_error("a < b < c");
    assert_eq!(d[0].code, Code::Syntax);
    assert!(
        d[0].message.contains("cannot be chained"),
        "{}",
        d[0].message
    );
}

#[test]
fn literals() {
    assert_eq!(expr("null"), "null");
    assert_eq!(expr("[true, false]"), "[true false]");
    assert_eq!(expr("2.75"), "2.75");
    assert_eq!(
        expr("[250ms, 5s, 3m, 2h, 1d]"),
        "[250ms 5000ms 180000ms 7200000ms 86400000ms]"
    );
    assert_eq!(
        expr(r#""a\"b\\c\nd\te\rf\u{1F600}\{x}""#),
        "(str \"a\\\"b\\\\c\\nd\\te\\rf😀{x}\")"
    );
    assert_eq!(expr("[\n  1\n  -2\n]"), "[1 (neg 2)]");
    assert_eq!(expr("[1, 2,]"), "[1 2]");
    assert_eq!(expr("{ a: 1\n \"b c\": 2, }"), "{a=1 q:b c=2}");
    assert_eq!(expr("{}"), "{}");
    assert_eq!(expr("[]"), "[]");
    assert_eq!(expr("f()"), "(f)");
    assert_eq!(
        expr("create_ticket(\"s\", priority: \"high\")"),
        "(create_ticket (str \"s\") priority:(str \"high\"))"
    );
    assert_eq!(expr("reply(welcome)"), "(reply welcome)");
    assert_eq!(expr("a +\n b"), "(+ a b)");
}

#[test]
fn interpolation_nests_strings() {
    assert_eq!(
        expr(r#""Hi {user.name ?? "there"}!""#),
        "(str \"Hi \" {(?? (. user name) (str \"there\"))} \"!\")"
    );
    assert_eq!(expr(r#""{a}{b}""#), "(str {a} {b})");
    assert_eq!(expr(r#""x {"y {z}"}""#), "(str \"x \" {(str \"y \" {z})})");
}

#[test]
fn triple_strings_lose_common_indentation() {
    let text = "x: \"\"\"\n    Hello {name},\n      indented\n    bye\n    \"\"\"";
    let f = parse_expr(F, &text[3..]).0.unwrap();
    assert_eq!(sexp(&f), "(str \"Hello \" {name} \",\\n  indented\\nbye\")");
    let ExprKind::Str(_, triple) = &f.kind else {
        panic!()
    };
    assert!(triple);
    assert_eq!(expr("\"\"\"one line\"\"\""), "(str \"one line\")");
}

#[test]
fn expression_spans() {
    let text = "a.b + f(x, k: \"v\")";
    let (e, _) = parse_expr(F, text);
    let e = e.unwrap();
    assert_eq!(span_text(text, e.span), text);
    let ExprKind::Binary(_, operands) = &e.kind else {
        panic!()
    };
    let [l, r] = &**operands;
    assert_eq!(span_text(text, l.span), "a.b");
    assert_eq!(span_text(text, r.span), "f(x, k: \"v\")");
    let ExprKind::Call(call) = &r.kind else {
        panic!()
    };
    let args = &call.args;
    assert_eq!(span_text(text, call.callee.span), "f");
    assert_eq!(span_text(text, args[1].name.as_ref().unwrap().span), "k");
    assert_eq!(span_text(text, args[1].value.span), "\"v\"");
    let text = "{ \"X-A\": (1 + 2) }";
    let ExprKind::Record(entries) = parse_expr(F, text).0.unwrap().kind else {
        panic!()
    };
    assert_eq!(span_text(text, entries[0].key.span), "\"X-A\"");
    assert_eq!(span_text(text, entries[0].value.span), "(1 + 2)");
}

#[test]
fn parentheses_are_marked_on_the_expression_they_wrap() {
    let text = "((a)) + b * (c)";
    let e = parse_expr(F, text).0.unwrap();
    let ExprKind::Binary(_, operands) = &e.kind else {
        panic!()
    };
    let [a, product] = &**operands;
    assert!(!e.parens);
    assert!(a.parens);
    assert_eq!(span_text(text, a.span), "((a))");
    let ExprKind::Binary(_, operands) = &product.kind else {
        panic!()
    };
    let [b, c] = &**operands;
    assert!(!product.parens && !b.parens && c.parens);
}

#[test]
fn keywords_as_keys_and_callees() {
    let f = ok("action a {\n  target: conversation\n  task: reply(welcome)\n}\n");
    let Item::Action(a) = &f.items[0] else {
        panic!()
    };
    assert_eq!(sexp(&a.fields[1].value), "(reply welcome)");
    assert_eq!(expr("{ task: 1, if: 2 }"), "{task=1 if=2}");
    // `call` is only a keyword after before/after: it is the voice target's name.
    let f = ok("action t { target: call, task: transfer(\"+1\", mode: warm) }");
    let Item::Action(a) = &f.items[0] else {
        panic!()
    };
    assert_eq!(sexp(&a.fields[0].value), "call");
}

#[test]
fn usecase_is_read_as_a_name_in_expressions() {
    // docs/language.md ("Names in scope") puts `usecase` in scope in `in usecase` and `at block` bindings.
    assert_eq!(expr("usecase.name"), "(. usecase name)");
    assert_eq!(
        expr("usecase.name == \"u\""),
        "(== (. usecase name) (str \"u\"))"
    );
    // It stays a keyword everywhere a name is declared or called.
    let diags = expr_error("usecase(1)");
    assert_eq!(diags[0].code, Code::KeywordAsName);
    let diags = parse(F, "action usecase { target: conversation }\n").diagnostics;
    assert_eq!(diags[0].code, Code::KeywordAsName);
}

#[test]
fn comments_bom_and_crlf() {
    let text = "\u{FEFF}// top\r\naction a { /* x */ target: conversation\r\n task: end() }\r\n";
    let f = ok(text);
    assert_eq!(f.comments.len(), 2);
    assert_eq!(span_text(text, f.comments[0].span), "// top");
    assert!(f.comments[1].block);
    let Item::Action(a) = &f.items[0] else {
        panic!()
    };
    assert_eq!(span_text(text, a.name.span), "a");
    assert_eq!(span_text(text, a.fields[1].span), "task: end()");
}

#[test]
fn empty_and_blank_files() {
    assert!(ok("").items.is_empty());
    assert!(ok("\n\n  // only a comment\n").items.is_empty());
}

#[test]
fn incomplete_input() {
    let expr = |text| is_incomplete(text, Entry::Expression);
    let decl = |text| is_incomplete(text, Entry::Declarations);
    assert!(decl("action a {"));
    assert!(expr("f(1,"));
    assert!(expr("\"\"\"abc"));
    assert!(expr("/* abc"));
    assert!(expr("\"\"\"x {a"));
    assert!(!decl("action a { target: x }"));
    assert!(!expr("\"abc"), "a one-line string cannot continue");
    assert!(
        !expr("\"{\" // {"),
        "braces in strings and comments do not count"
    );
    assert!(!expr(""));
}

#[test]
fn an_entry_goes_on_only_where_more_text_could_complete_it() {
    let expr = |text| is_incomplete(text, Entry::Expression);
    let decl = |text| is_incomplete(text, Entry::Declarations);
    // After an infix operator, `then` or `else`, as a line of a program may break.
    for text in [
        "1 +",
        "a ??",
        "x == 1 and",
        "n <= // why\n",
        "if a then",
        "a in",
    ] {
        assert!(expr(text), "{text}");
    }
    assert!(decl("on message_received when attempts >"));
    // Not after anything else, nor after a field named like an operator.
    for text in ["1 + 2", "event.in", "f(x)"] {
        assert!(!expr(text), "{text}");
    }
    // Wrong already: no further line can mend it.
    assert!(!decl("action x {\n  target: )"), "a stray closer");
    assert!(
        !decl("action x {\n  target: ,\n"),
        "a field without a value"
    );
    assert!(!decl("action x {\n  task: f(1]\n"), "a mismatched closer");
    assert!(!expr("f(\"abc\n"), "a `\"` string broken by its line's end");
    assert!(!decl("action x {\n  target: conversation\n1 + 2\n"));
    // Still open and right so far.
    assert!(decl("action x {\n  target: conversation\n"));
    assert!(decl("test \"t\" {\n  send message_received {\n"));
    // A command's arguments continue while a bracket is open.
    assert!(is_incomplete("message_received {", Entry::Arguments));
    assert!(!is_incomplete(
        "message_received { text: ) ",
        Entry::Arguments
    ));
}

#[test]
fn a_line_may_break_after_every_infix_operator() {
    for op in BinOp::ALL {
        let text = format!("a {}", op.symbol());
        assert!(is_incomplete(&text, Entry::Expression), "{text}");
    }
}

#[test]
fn spans_exclude_trailing_blanks_and_comments() {
    let text = "action a { task: end() }";
    let f = ok(text);
    let Item::Action(a) = &f.items[0] else {
        panic!()
    };
    assert_eq!(span_text(text, a.fields[0].span), "task: end()");
    assert_eq!(span_text(text, a.fields[0].value.span), "end()");
    let text = "action a {\n  target: x // why\n  task: y /* c */ }";
    let f = ok(text);
    let Item::Action(a) = &f.items[0] else {
        panic!()
    };
    assert_eq!(span_text(text, a.fields[0].span), "target: x");
    assert_eq!(span_text(text, a.fields[1].span), "task: y");
}

/// A parse makes more expressions than anything else, and every one is as large as the
/// largest form: a form that needs more room keeps it behind one `Box` (a call, a field's
/// name, the operands), a list is one pointer and a name an interned one, or a large
/// program's tree grows by as much (`check_speed`).
#[test]
fn an_expression_stays_small() {
    assert_eq!(std::mem::size_of::<ast::Expr>(), 32);
    assert_eq!(std::mem::size_of::<ast::ExprKind>(), 16);
}

/// A file's item list is grown by each chunk's parser, joined and cut to length: with each
/// declaration behind a `Box` that costs 16 bytes an item, not the largest declaration's
/// 184 (the binding-heavy shape's parse held 58 MB of such lists at its peak).
#[test]
fn an_item_is_a_pointer() {
    assert!(std::mem::size_of::<ast::Item>() <= 16);
}
