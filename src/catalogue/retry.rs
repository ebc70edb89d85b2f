//! How each task may be tried again after a failure that leaves its outcome unknown (a
//! timeout after the request was written, a reset connection, a 500): the task's
//! [`RetryRule`], with the reason and the document that justifies it. The runtime retries
//! an [`RetryClass::Unsafe`] task only when the request provably did not reach the service;
//! the checker warns (W0608) when an action configures a retry on one; docs/language.md
//! ("Retry classes") lists every rule, generated from here.

use super::tasks::{self, BuiltinTask};

/// Whether a second try of a request that may have been processed is harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryClass {
    /// Reads, and writes that set the same state: a repeat changes nothing more.
    Safe,
    /// The service documents that it recognises a repeat by the value of this header, which
    /// agentc sends, the same on every try of one attempt.
    Keyed { header: &'static str },
    /// A repeat does it again: `twice` is what a second try may make (`a second SMS`).
    Unsafe { twice: &'static str },
}

impl RetryClass {
    /// Whether a try may follow one whose outcome is unknown.
    pub fn repeatable(self) -> bool {
        !matches!(self, RetryClass::Unsafe { .. })
    }

    /// `safe`, `keyed by Idempotency-Key`, `unsafe`: how the docs and messages name it.
    pub fn label(self) -> String {
        match self {
            RetryClass::Safe => "safe".into(),
            RetryClass::Keyed { header } => format!("keyed by `{header}`"),
            RetryClass::Unsafe { .. } => "unsafe".into(),
        }
    }
}

/// A task's retry class, why it has it (one line), and the document that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryRule {
    pub class: RetryClass,
    pub why: &'static str,
    pub source: &'static str,
}

const fn rule(class: RetryClass, why: &'static str, source: &'static str) -> RetryRule {
    RetryRule { class, why, source }
}

const RFC9110_SAFE: &str = "RFC 9110 §9.2.1 (safe methods)";
const RFC9110_IDEMPOTENT: &str = "RFC 9110 §9.2.2 (idempotent methods)";

const GET: RetryRule = rule(RetryClass::Safe, "a GET only reads", RFC9110_SAFE);
const PUT: RetryRule = rule(
    RetryClass::Safe,
    "a PUT sets the resource to the state it carries: a repeat sets the same state",
    RFC9110_IDEMPOTENT,
);
const DELETE: RetryRule = rule(
    RetryClass::Safe,
    "a DELETE of a deleted resource deletes nothing more",
    RFC9110_IDEMPOTENT,
);
const POST: RetryRule = rule(
    RetryClass::Unsafe {
        twice: "a second resource or a second effect",
    },
    "a POST is not idempotent: the service may act on each copy",
    "RFC 9110 §9.3.3, §9.2.2",
);
const PATCH: RetryRule = rule(
    RetryClass::Unsafe {
        twice: "a second change",
    },
    "a PATCH is neither safe nor idempotent (it may append or increment)",
    "RFC 5789 §2",
);

/// The rule of a request sent with this HTTP method: a declared task's, and the `http`
/// kind's tasks'. A method outside GET, PUT, DELETE, POST and PATCH (HEAD, OPTIONS) reads.
pub fn method_rule(method: &str) -> RetryRule {
    match method.to_ascii_uppercase().as_str() {
        "POST" => POST,
        "PATCH" => PATCH,
        "PUT" => PUT,
        "DELETE" => DELETE,
        _ => GET,
    }
}

const ZENDESK_OAS: &str = "Zendesk Support API reference (OpenAPI)";
const SALESFORCE_REST: &str = "Salesforce REST API Developer Guide";

/// The rule of a built-in task; `None` for the in-process kinds (`conversation`, `call`),
/// which send nothing and are never retried.
pub fn task_rule(task: BuiltinTask) -> Option<RetryRule> {
    use tasks::{Http, Salesforce, Sms, Smtp, Sql, Zendesk};
    const ZENDESK_READ: RetryRule = rule(RetryClass::Safe, "a GET only reads", ZENDESK_OAS);
    const SALESFORCE_READ: RetryRule = rule(RetryClass::Safe, "a GET only reads", SALESFORCE_REST);
    const SOQL: RetryRule = rule(
        RetryClass::Safe,
        "SOQL only reads (a GET of /query)",
        "Salesforce SOQL and SOSL Reference; REST API Developer Guide, Query",
    );
    Some(match task {
        BuiltinTask::Conversation(_) | BuiltinTask::Call(_) => return None,
        BuiltinTask::Http(task) => method_rule(match task {
            Http::Get => "GET",
            Http::Post => "POST",
            Http::Put => "PUT",
            Http::Patch => "PATCH",
            Http::Delete => "DELETE",
        }),
        BuiltinTask::Zendesk(task) => match task {
            Zendesk::CreateTicket => rule(
                RetryClass::Keyed {
                    header: "Idempotency-Key",
                },
                "Zendesk returns the first ticket for a repeat with the same key \
                 (`x-idempotency-lookup: hit`)",
                "Zendesk Ticketing API introduction, \"Idempotency\" \
                 (developer.zendesk.com/api-reference/ticketing/introduction/#idempotency)",
            ),
            Zendesk::UpdateTicket => rule(
                RetryClass::Safe,
                "a PUT of the ticket's fields sets the same fields again (a `comment` among \
                 `fields` would be added again: use add_internal_note for notes)",
                ZENDESK_OAS,
            ),
            Zendesk::AddTags => rule(
                RetryClass::Safe,
                "a PUT of tags adds them to the set: tags already there stay once",
                "Zendesk Support API reference, Tags: Add Tags",
            ),
            Zendesk::AddInternalNote => rule(
                RetryClass::Unsafe {
                    twice: "a second internal note",
                },
                "each update that carries a comment adds one",
                "Zendesk Support API reference, Tickets: Update Ticket (comment)",
            ),
            Zendesk::GetUser
            | Zendesk::GetTicket
            | Zendesk::GetTicketTags
            | Zendesk::GetOrganization
            | Zendesk::Search => ZENDESK_READ,
            Zendesk::MergeTickets => rule(
                RetryClass::Unsafe {
                    twice: "a second merge job and its comments",
                },
                "a POST that queues a merge job; Zendesk documents no key for it",
                "Zendesk Support API reference, Tickets: Merge Tickets into Target Ticket",
            ),
            Zendesk::ApplyMacro => rule(
                RetryClass::Unsafe {
                    twice: "a second copy of the macro's comment",
                },
                "a macro's changes may add a comment, added again by each update",
                "Zendesk Support API reference, Macros: Show Changes to Ticket",
            ),
            Zendesk::CreateOrUpdateUser => rule(
                RetryClass::Safe,
                "an upsert by email: a repeat finds the user the first made and updates it",
                "Zendesk Support API reference, Users: Create Or Update User",
            ),
            Zendesk::UpdateUser => rule(
                RetryClass::Safe,
                "a PUT of the user's fields sets the same fields again",
                ZENDESK_OAS,
            ),
        },
        BuiltinTask::Salesforce(task) => match task {
            Salesforce::CreateCase => rule(
                RetryClass::Unsafe {
                    twice: "a second Case",
                },
                "a POST to /sobjects creates a record each time; no key is documented for it \
                 (only the UI API has one)",
                "Salesforce REST API Developer Guide, Create a Record",
            ),
            Salesforce::UpdateCase => rule(
                RetryClass::Safe,
                "a PATCH of a record's fields sets the same values again",
                "Salesforce REST API Developer Guide, Update a Record",
            ),
            Salesforce::AddCaseComment => rule(
                RetryClass::Unsafe {
                    twice: "a second CaseComment",
                },
                "a POST to /sobjects creates a record each time",
                "Salesforce REST API Developer Guide, Create a Record",
            ),
            Salesforce::FindContact | Salesforce::Query => SOQL,
            Salesforce::GetCase => SALESFORCE_READ,
        },
        BuiltinTask::Smtp(Smtp::SendEmail) => rule(
            RetryClass::Unsafe {
                twice: "a second email",
            },
            "a connection lost after the message's final dot leaves its delivery unknown; \
             servers do not drop a repeated Message-ID",
            "RFC 1047 (Duplicate messages and SMTP); RFC 5321 §4.1.1.4",
        ),
        BuiltinTask::Sms(Sms::SendSms) => rule(
            RetryClass::Unsafe {
                twice: "a second SMS",
            },
            "Twilio's CreateMessage takes no idempotency key: each request sends a message",
            "twilio-oai twilio_api_v2010.json, CreateMessage",
        ),
        BuiltinTask::Sql(task) => match task {
            Sql::Query => rule(
                RetryClass::Safe,
                "a SELECT reads; a statement that writes (INSERT … RETURNING) would run again: \
                 it belongs in `execute`",
                "SQL: SELECT changes no data",
            ),
            Sql::Execute => rule(
                RetryClass::Unsafe {
                    twice: "a second run of the statement",
                },
                "a statement may insert or increment: agentc cannot tell that it sets state",
                "SQL: INSERT and UPDATE … SET x = x + 1 are not idempotent",
            ),
            Sql::Insert => rule(
                RetryClass::Unsafe {
                    twice: "a second row",
                },
                "an INSERT adds a row each time it commits",
                "SQL: INSERT is not idempotent",
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Kind, Protocol};

    /// Every task that leaves the process has a rule, and a task without a side effect is
    /// safe to repeat.
    #[test]
    fn every_task_that_sends_has_a_rule_and_reads_are_safe() {
        for kind in Kind::ALL {
            for task in BuiltinTask::of(kind) {
                let rule = task_rule(task);
                let in_process = kind.spec().protocol == Protocol::InProcess;
                assert_eq!(rule.is_none(), in_process, "{kind}.{}", task.name());
                if let Some(rule) = rule {
                    assert!(!rule.why.is_empty() && !rule.source.is_empty());
                    if !task.spec().side_effect {
                        assert_eq!(rule.class, RetryClass::Safe, "{kind}.{}", task.name());
                    }
                }
            }
        }
    }

    #[test]
    fn methods_are_classed_by_rfc_9110() {
        let class = |m| method_rule(m).class.repeatable();
        assert!(class("GET") && class("put") && class("DELETE") && class("HEAD"));
        assert!(!class("POST") && !class("patch"));
    }
}
