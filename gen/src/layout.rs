//! Random `.agent` programs in random layouts, for the formatter's property tests and its
//! benchmark. Programs are meant to check (declared names, typed expressions); the layout
//! is noisy on purpose: odd spacing, commas or newlines as separators, redundant (and
//! doubled) parentheses, long `and`/`or` and `if … else if` chains, blank lines, and comments wherever the grammar lets one stand.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct Gen {
    rng: StdRng,
    out: String,
    /// Suffix that keeps names unique when several programs are concatenated.
    unit: usize,
    /// Inside a string's interpolation: plain layout only (no comments, no line breaks,
    /// no triple-quoted strings), as people write them.
    quiet: bool,
}

const NUMBER_PARAMS: &[&str] = &["attempts", "score"];
const TEXT_PARAMS: &[&str] = &["order_id", "tier"];
const BOOL_PARAMS: &[&str] = &["vip"];

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            out: String::new(),
            unit: 0,
            quiet: false,
        }
    }

    /// One complete program (agent block included).
    pub fn program(seed: u64) -> String {
        let mut g = Gen::new(seed);
        g.agent();
        g.unit_of_declarations();
        g.out
    }

    /// A program of at least `bytes` bytes: one agent, then as many units as needed.
    pub fn program_of_size(seed: u64, bytes: usize) -> String {
        let mut g = Gen::new(seed);
        g.agent();
        while g.out.len() < bytes {
            g.unit_of_declarations();
            g.unit += 1;
        }
        g.out
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.gen_range(0..items.len())]
    }

    fn w(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Where blanks may stand: usually one space, sometimes more, a tab or a block comment.
    fn sp(&mut self) {
        if self.quiet {
            return self.w(" ");
        }
        match self.rng.gen_range(0..20) {
            0 => self.w("  "),
            1 => self.w("\t"),
            2 => self.w(" /* note */ "),
            _ => self.w(" "),
        }
    }

    /// Where blanks may stand but none is needed.
    fn tight(&mut self) {
        if self.quiet {
            return;
        }
        match self.rng.gen_range(0..25) {
            0 => self.w(" "),
            1 => self.w("/*x*/"),
            _ => {}
        }
    }

    /// Where the grammar allows newlines but needs nothing.
    fn nl_opt(&mut self) {
        if self.quiet {
            return;
        }
        match self.rng.gen_range(0..30) {
            0 => self.w("\n"),
            1 => self.w(" // why\n  "),
            2 => self.w("\n\n"),
            3 => self.w(" "),
            _ => {}
        }
    }

    /// A line break between declarations: sometimes blank lines, sometimes comments.
    fn line_break(&mut self) {
        match self.rng.gen_range(0..10) {
            0 => self.w("  // trailing remark\n"),
            1 => self.w("\n\n\n"),
            2 => self.w("\n\n// about what follows\n"),
            3 => self.w("\n/* a block\n   comment */\n"),
            4 | 5 => self.w("\n\n"),
            _ => self.w("\n"),
        }
    }

    /// Between entries of a block, record, list or argument list.
    fn sep(&mut self) {
        if self.quiet {
            return self.w(", ");
        }
        match self.rng.gen_range(0..8) {
            0 => self.w(",\n    "),
            1 => self.w(" // entry note\n    "),
            2 => self.w("\n\n    "),
            3 => self.w(","),
            4 => self.w(" ,  "),
            _ => self.w("\n    "),
        }
    }

    /// `{ a, b }`-style sequence with random separators, trailing separator and padding.
    fn seq(&mut self, open: &str, close: &str, n: usize, mut entry: impl FnMut(&mut Gen, usize)) {
        self.w(open);
        self.nl_opt();
        for i in 0..n {
            if i > 0 {
                self.sep();
            }
            entry(self, i);
        }
        if n > 0 && self.chance(20) {
            self.w(",");
        }
        self.nl_opt();
        self.w(close);
    }

    fn block(&mut self, n: usize, mut entry: impl FnMut(&mut Gen, usize)) {
        self.sp();
        self.w("{");
        if self.chance(80) {
            self.w("\n    ");
        }
        for i in 0..n {
            if i > 0 {
                self.sep();
            }
            entry(self, i);
        }
        if self.chance(80) {
            self.w("\n");
        } else {
            self.sp();
        }
        self.w("}");
    }

    fn field(&mut self, key: &str, value: impl FnOnce(&mut Gen)) {
        self.w(key);
        self.tight();
        self.w(":");
        self.sp();
        value(self);
    }

    fn agent(&mut self) {
        self.w("// The agent under test.\nagent gen_agent");
        let fields: [(&str, &str); 4] = [
            ("name", "\"Generated\""),
            ("channels", "[chat, voice]"),
            ("language", "\"en\""),
            ("inactivity", "3m"),
        ];
        self.block(5, |g, i| match fields.get(i) {
            Some((key, value)) => g.field(key, |g| g.w(value)),
            None => {
                g.w("params:");
                g.sp();
                let params = [
                    "order_id: text",
                    "tier: text = \"basic\"",
                    "attempts: number = 0",
                    "score: number=1.50",
                    "vip: bool = false",
                    "customer: record",
                    "order: record",
                ];
                g.seq("{", "}", params.len(), |g, i| g.w(params[i]));
            }
        });
        self.line_break();
    }

    /// Targets, a task, actions, a reply, a use case, bindings and a test, all named with
    /// this unit's suffix.
    fn unit_of_declarations(&mut self) {
        let u = self.unit;
        self.w(&format!("target orders{u}: http"));
        self.block(4, |g, i| match i {
            0 => g.field("base_url", |g| g.w("\"https://orders.acme.example/v2\"")),
            1 => g.field("timeout", |g| g.w("5s")),
            2 => g.field("retry", |g| {
                let entries = ["attempts: 3", "backoff: 200ms", "max_backoff: 5s"];
                g.seq("{", "}", 3, |g, i| g.w(entries[i]));
            }),
            _ => g.field("headers", |g| {
                g.seq("{", "}", 2, |g, i| {
                    g.w(["\"X-Client\": \"acme-agent\"", "\"X-Trace\": \"on\""][i])
                });
            }),
        });
        self.line_break();
        self.w(&format!("task get_order{u}"));
        let params = [
            "id: text",
            "verbose: bool?",
            "page_size_when_listing_the_orders_of_a_customer: number = 25",
        ];
        let count = self.rng.gen_range(1..=params.len());
        self.seq("(", ")", count, |g, i| g.w(params[i]));
        self.w(&format!(" on orders{u}"));
        self.block(3, |g, i| match i {
            0 => g.field("method", |g| g.w("GET")),
            1 => g.field("path", |g| g.w("\"/orders/{id}\"")),
            _ => g.field("result", |g| {
                g.seq("{", "}", 2, |g, i| {
                    g.w(["status: ", "eta: "][i]);
                    g.w(["response.body.status", "response.body.delivery.eta"][i]);
                });
            }),
        });
        self.line_break();
        for a in 0..3 {
            self.action(u, a);
            self.line_break();
        }
        self.w(&format!("reply welcome{u}"));
        self.block(1, |g, _| g.field("text", |g| g.text_literal(2)));
        self.line_break();
        self.w(&format!("usecase order_status{u}"));
        self.block(2, |g, i| match i {
            0 => g.field("description", |g| {
                g.w("\"\"\"Customer asks\n    where an order is\"\"\"")
            }),
            _ => g.field("blocks", |g| {
                g.seq("[", "]", 2, |g, i| g.w(["ask_id", "show"][i]));
            }),
        });
        self.line_break();
        self.bindings(u);
        self.test(u);
        self.line_break();
    }

    fn action(&mut self, u: usize, a: usize) {
        self.w(&format!("action act{u}_{a}"));
        let kind = self.rng.gen_range(0..3);
        self.block(4, |g, i| match (i, kind) {
            (0, 2) => g.field("target", |g| g.w(&format!("orders{u}"))),
            (0, _) => g.field("target", |g| g.w("conversation")),
            (1, 0) => g.field("task", |g| {
                g.w("set");
                g.seq("(", ")", 2, |g, i| {
                    if i == 0 {
                        g.w("attempts: ");
                        g.number_expr(3);
                    } else {
                        g.w("tier: ");
                        g.text_expr(2);
                    }
                });
            }),
            (1, 1) => g.field("task", |g| {
                g.w("add_label");
                g.seq("(", ")", 1, |g, _| g.text_expr(2));
            }),
            (1, _) => g.field("task", |g| {
                g.w(&format!("get_order{u}"));
                g.seq("(", ")", 1, |g, _| g.w("order_id"));
            }),
            (2, _) => g.field("when", |g| g.bool_expr(3)),
            (_, 2) => g.field("save", |g| g.w("order")),
            _ => g.field("timeout", |g| g.w("3s")),
        });
    }

    fn bindings(&mut self, u: usize) {
        self.w(&format!("on conversation_started reply welcome{u}"));
        self.line_break();
        self.w("on message_received");
        if self.chance(30) {
            self.w("\n ");
        }
        self.sp();
        self.w("when");
        self.sp();
        self.bool_expr(3);
        self.sp();
        self.w(&format!("do act{u}_0,"));
        self.sp();
        self.w(&format!("act{u}_1"));
        self.line_break();
        self.w(&format!("in usecase order_status{u} do act{u}_2"));
        self.line_break();
        self.w(&format!("at block order_status{u}.ask_id do act{u}_1"));
        self.line_break();
        self.w(&format!("before call do act{u}_0"));
        self.line_break();
    }

    fn test(&mut self, u: usize) {
        self.w(&format!("test \"unit {u} runs\""));
        self.block(7, |g, i| match i {
            0 => g.w(&format!(
                "mock orders{u} GET \"/orders/A1\" -> 200 {{ status: \"shipped\", delivery: {{ eta: \"soon\" }} }}"
            )),
            1 => g.w("send message_received { text: \"where is my order\" }"),
            2 => g.w(&format!("send usecase order_status{u}")),
            3 => g.w("send wait 5m"),
            4 => g.w(&format!("expect ran act{u}_0")),
            5 => g.w("expect not label \"vip\""),
            _ => {
                g.w("expect param ");
                g.bool_expr(2);
            }
        });
    }

    fn maybe_paren(&mut self, inner: impl FnOnce(&mut Gen)) {
        if self.chance(15) {
            let doubled = self.chance(25);
            self.w(if doubled { "((" } else { "(" });
            self.nl_opt();
            inner(self);
            self.nl_opt();
            self.w(if doubled { "))" } else { ")" });
        } else {
            inner(self);
        }
    }

    fn infix(&mut self, op: &str) {
        self.sp();
        self.w(op);
        if !self.quiet && self.chance(5) {
            self.w(" // continued\n        ");
        } else {
            self.sp();
        }
    }

    fn number_expr(&mut self, depth: u32) {
        let choice = if depth == 0 {
            self.rng.gen_range(0..3)
        } else {
            self.rng.gen_range(0..8)
        };
        match choice {
            0 => {
                let literal = self.pick(&["0", "42", "3.14", "007", "1.50"]);
                // A parenthesised literal's span covers its parentheses.
                self.maybe_paren(|g| g.w(literal));
            }
            1 => {
                let name = self.pick(NUMBER_PARAMS);
                self.w(name);
            }
            2 => self.w("len(order_id)"),
            3 | 4 => self.maybe_paren(|g| {
                g.number_expr(depth - 1);
                let op = g.pick(&["+", "-", "*", "/", "%"]);
                g.infix(op);
                g.number_expr(depth - 1);
            }),
            5 => {
                self.w("-");
                self.tight();
                self.maybe_paren(|g| g.number_expr(depth - 1));
            }
            // Always in parentheses: an `else` branch takes everything after it.
            6 => {
                self.w("(if ");
                self.bool_expr(depth - 1);
                self.w(" then ");
                self.number_expr(depth - 1);
                while self.chance(40) {
                    self.w(" else if ");
                    self.bool_expr(depth - 1);
                    self.w(" then ");
                    self.number_expr(depth - 1);
                }
                self.w(" else ");
                self.number_expr(depth - 1);
                self.w(")");
            }
            _ => {
                self.w("max");
                self.seq("(", ")", 2, |g, _| g.number_expr(depth - 1));
            }
        }
    }

    fn text_expr(&mut self, depth: u32) {
        let choice = if depth == 0 {
            self.rng.gen_range(0..2)
        } else {
            self.rng.gen_range(0..6)
        };
        match choice {
            0 => self.text_literal(depth),
            1 => {
                let name = self.pick(TEXT_PARAMS);
                self.w(name);
            }
            2 => self.maybe_paren(|g| {
                g.text_expr(depth - 1);
                g.infix("+");
                g.text_expr(depth - 1);
            }),
            3 => {
                let f = self.pick(&["upper", "lower", "trim"]);
                self.w(f);
                self.seq("(", ")", 1, |g, _| g.text_expr(depth - 1));
            }
            4 => self.maybe_paren(|g| {
                g.w("customer.name");
                g.infix("??");
                g.text_expr(depth - 1);
            }),
            _ => self.text_literal(depth),
        }
    }

    fn text_literal(&mut self, depth: u32) {
        match self.rng.gen_range(0..6) {
            0 => self.w("\"plain\""),
            1 => self.w("\"esc \\\" \\\\ \\n \\u{1F600} \\{ok}\""),
            2 if depth > 0 => {
                self.w("\"Hi {");
                let quiet = std::mem::replace(&mut self.quiet, true);
                self.text_expr(depth - 1);
                self.quiet = quiet;
                self.w("}!\"");
            }
            3 => self.w("\"héllo wörld — ünïcode\""),
            4 if !self.quiet => self.w("\"\"\"\n      triple\n        quoted\n    \"\"\""),
            _ => self.w("\"{order_id}\""),
        }
    }

    fn bool_expr(&mut self, depth: u32) {
        let choice = if depth == 0 {
            self.rng.gen_range(0..2)
        } else {
            self.rng.gen_range(0..8)
        };
        match choice {
            0 => {
                let literal = self.pick(&["true", "false"]);
                self.w(literal);
            }
            1 => {
                let name = self.pick(BOOL_PARAMS);
                self.w(name);
            }
            2 | 3 => self.maybe_paren(|g| {
                g.number_expr(depth - 1);
                let op = g.pick(&["==", "!=", "<", "<=", ">", ">="]);
                g.infix(op);
                g.number_expr(depth - 1);
            }),
            4 => self.maybe_paren(|g| {
                g.bool_expr(depth - 1);
                for _ in 0..g.rng.gen_range(1..4) {
                    let op = g.pick(&["and", "or"]);
                    g.infix(op);
                    g.bool_expr(depth - 1);
                }
            }),
            5 => self.maybe_paren(|g| {
                g.w("not");
                g.sp();
                g.bool_expr(depth - 1);
            }),
            6 => self.maybe_paren(|g| {
                g.text_expr(depth - 1);
                g.infix("in");
                g.seq("[", "]", 3, |g, i| {
                    g.w(["\"gold\"", "\"silver\"", "\"bronze\""][i])
                });
            }),
            _ => {
                self.w("contains");
                self.seq("(", ")", 2, |g, i| {
                    if i == 0 {
                        g.text_expr(depth - 1)
                    } else {
                        g.w("\"refund\"")
                    }
                });
            }
        }
    }
}
