//! The programs the runtime target runs: generated ones (the benches' realistic generator
//! and the formatter's noisy one, from the `agentc-gen` crate), the examples, and a
//! few hand-written hostile ones. Each is checked once per process and kept.

use agentc_gen::{layout as gen, programs as generate};
use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use agentc::ir::{self, Program};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// A program's files: the root first, then what it imports, by the path it is imported as.
type Files = &'static [(&'static str, &'static str)];

/// Programs written by hand, each with a conversation to borrow event lines from.
const FIXED: &[(Files, &str)] = &[
    (
        &[
            (
                "agent.agent",
                include_str!("../../../examples/order_status/agent.agent"),
            ),
            (
                "targets.agent",
                include_str!("../../../examples/order_status/targets.agent"),
            ),
            (
                "replies.agent",
                include_str!("../../../examples/order_status/replies.agent"),
            ),
        ],
        include_str!("../../../examples/conversations/order_status.jsonl"),
    ),
    (
        &[
            (
                "agent.agent",
                include_str!("../../../examples/zendesk_chat/agent.agent"),
            ),
            (
                "replies.agent",
                include_str!("../../../examples/zendesk_chat/replies.agent"),
            ),
        ],
        include_str!("../../../examples/conversations/zendesk_chat.jsonl"),
    ),
    (
        &[(
            "agent.agent",
            include_str!("../../../examples/email_triage/agent.agent"),
        )],
        include_str!("../../../examples/conversations/email_triage.jsonl"),
    ),
    (
        &[(
            "agent.agent",
            include_str!("../../../examples/salesforce_cases/agent.agent"),
        )],
        include_str!("../../../examples/conversations/salesforce_cases.jsonl"),
    ),
    (
        &[(
            "agent.agent",
            include_str!("../../../examples/voice_concierge/agent.agent"),
        )],
        include_str!("../../../examples/conversations/voice_concierge.jsonl"),
    ),
    (
        &[("agent.agent", include_str!("../../programs/growing.agent"))],
        "",
    ),
];

/// Which program an input runs; also the key of the cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Choice {
    /// `gen/src/programs.rs`: realistic units (targets, tasks, use cases, bindings).
    Units {
        units: usize,
        seed: u8,
    },
    /// `gen/src/layout.rs`: a small program in a noisy layout.
    Layout {
        seed: u8,
    },
    Fixed(usize),
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Choice::Units { units, seed } => {
                write!(f, "generate::program_of_units({units}, {seed})")
            }
            Choice::Layout { seed } => write!(f, "gen::Gen::program({seed})"),
            Choice::Fixed(index) => {
                let (files, _) = FIXED[*index];
                let root = files[0].1.lines().find(|l| l.starts_with("agent "));
                write!(f, "fixed program {index} ({})", root.unwrap_or("?"))
            }
        }
    }
}

/// A checked program and the names an event stream needs to reach into it.
pub struct Subject {
    /// Which program it is, for people reading a finding.
    pub name: String,
    pub program: Program,
    /// Use cases with their blocks.
    pub usecases: Vec<(String, Vec<String>)>,
    /// The agent's params.
    pub params: Vec<(String, ir::Type)>,
    /// The events its bindings listen to (`on EVENT`).
    pub events: Vec<String>,
    /// Every text and name the program holds (its IR's strings): keys and texts that make
    /// `when` conditions, `contains` and record lookups go both ways.
    pub words: Vec<String>,
    /// Event lines of the program's example conversation.
    pub lines: Vec<&'static str>,
}

thread_local! {
    /// `None` for a choice whose program does not check.
    static CHECKED: RefCell<HashMap<Choice, Option<Rc<Subject>>>> = RefCell::new(HashMap::new());
}

/// The program an input asks for, or `None` when it does not check (the noisy generator
/// sometimes writes one that does not).
pub fn choose(u: &mut Unstructured) -> Result<Option<Rc<Subject>>> {
    let choice = match u.int_in_range(0..=3)? {
        0 => Choice::Units {
            units: u.int_in_range(1..=3)?,
            seed: u.arbitrary()?,
        },
        1 => Choice::Layout {
            seed: u.arbitrary()?,
        },
        _ => Choice::Fixed(u.choose_index(FIXED.len())?),
    };
    Ok(CHECKED.with(|cache| {
        cache
            .borrow_mut()
            .entry(choice)
            .or_insert_with(|| subject(choice).map(Rc::new))
            .clone()
    }))
}

fn subject(choice: Choice) -> Option<Subject> {
    let (files, lines): (Vec<(&str, String)>, &'static str) = match choice {
        Choice::Units { units, seed } => (
            vec![(
                "agent.agent",
                generate::program_of_units(units, u64::from(seed)),
            )],
            "",
        ),
        Choice::Layout { seed } => (
            vec![("agent.agent", gen::Gen::program(u64::from(seed)))],
            "",
        ),
        Choice::Fixed(index) => {
            let (files, lines) = FIXED[index];
            let files = files.iter().map(|(p, t)| (*p, t.to_string())).collect();
            (files, lines)
        }
    };
    let program = compile(&files)?;
    Some(Subject {
        name: choice.to_string(),
        usecases: program
            .usecases
            .values()
            .map(|u| (u.name.clone(), u.blocks.clone()))
            .collect(),
        params: program
            .agent
            .params
            .iter()
            .map(|p| (p.name.clone(), p.ty))
            .collect(),
        events: program
            .bindings
            .iter()
            .filter_map(|binding| match &binding.trigger {
                ir::Trigger::Event { event } => Some(event.clone()),
                _ => None,
            })
            .collect(),
        words: words(&program),
        lines: lines.lines().filter(|l| !l.trim().is_empty()).collect(),
        program,
    })
}

fn compile(files: &[(&str, String)]) -> Option<Program> {
    let (root_path, root_text) = &files[0];
    let mut loader = files[1..]
        .iter()
        .fold(MemoryLoader::new(), |loader, (path, text)| {
            loader.with(path, text)
        });
    let mut sources = SourceMap::new();
    let root = sources.add(*root_path, root_text.clone());
    check_program(&mut sources, root, &mut loader).program
}

/// The distinct strings of the program's IR, short ones only (a triple-quoted body is no
/// use as a key).
fn words(program: &Program) -> Vec<String> {
    let mut words = BTreeSet::new();
    let mut pending = vec![serde_json::to_value(program).unwrap_or_default()];
    while let Some(json) = pending.pop() {
        match json {
            serde_json::Value::String(s) if s.len() <= 40 => {
                words.insert(s);
            }
            serde_json::Value::Array(items) => pending.extend(items),
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    words.insert(key);
                    pending.push(value);
                }
            }
            _ => {}
        }
    }
    words.into_iter().collect()
}
