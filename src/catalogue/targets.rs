//! The target kinds (docs/language.md, "Catalogue"), their fields and their tasks.

use super::tasks::{self, BuiltinTask};
use super::{Channel, Kind, Moment, Ty};

#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
    /// What is wrong with a text value of the field, if anything: checked by the checker
    /// on a literal and when the target is built on the evaluated value.
    pub check: Option<fn(&str) -> Option<String>>,
    /// Fields that must be given with this one (`api_key_secret` with `api_key_sid`).
    pub needs: &'static [&'static str],
    /// Fields that must not be given with this one (`messaging_service_sid` and `from`).
    pub excludes: &'static [&'static str],
}

impl FieldSpec {
    pub const fn required(name: &'static str, ty: Ty, doc: &'static str) -> Self {
        FieldSpec {
            required: true,
            ..FieldSpec::optional(name, ty, doc)
        }
    }
    pub const fn optional(name: &'static str, ty: Ty, doc: &'static str) -> Self {
        FieldSpec {
            name,
            ty,
            required: false,
            doc,
            check: None,
            needs: &[],
            excludes: &[],
        }
    }
    pub const fn checked(self, check: fn(&str) -> Option<String>) -> Self {
        FieldSpec {
            check: Some(check),
            ..self
        }
    }
    pub const fn needs(self, needs: &'static [&'static str]) -> Self {
        FieldSpec { needs, ..self }
    }
    pub const fn excludes(self, excludes: &'static [&'static str]) -> Self {
        FieldSpec { excludes, ..self }
    }
}

/// A field given where its spec's `needs` or `excludes` forbid it.
#[derive(Debug, PartialEq)]
pub enum Combination {
    /// `field` is given without `missing`.
    Needs {
        field: &'static str,
        missing: &'static str,
    },
    /// `field` and `other` are both given.
    Excludes {
        field: &'static str,
        other: &'static str,
    },
}

impl std::fmt::Display for Combination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Combination::Needs { field, missing } => {
                write!(f, "field `{field}` needs `{missing}` too")
            }
            Combination::Excludes { field, other } => {
                write!(
                    f,
                    "fields `{field}` and `{other}` exclude each other: give one"
                )
            }
        }
    }
}

#[derive(Debug)]
pub struct ArgSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Source text of the default, when there is one (`by: 1`, `mode: cold`).
    pub default: Option<&'static str>,
}

const fn arg(name: &'static str, ty: Ty) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: true,
        default: None,
    }
}
const fn opt(name: &'static str, ty: Ty) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: false,
        default: None,
    }
}
const fn dflt(name: &'static str, ty: Ty, default: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        required: false,
        default: Some(default),
    }
}

#[derive(Debug)]
pub struct TaskSpec {
    pub task: BuiltinTask,
    pub args: &'static [ArgSpec],
    /// Extra positional arguments after `args` are accepted (`sql.execute(statement, args...)`).
    pub variadic: bool,
    /// Any `param: value` named arguments are accepted, each naming a param (`set(..)`).
    pub named_params: bool,
    pub result: Ty,
    /// Changes something outside the process: carries an idempotency key, skipped by dry runs.
    pub side_effect: bool,
    /// Moments at which the task makes no sense, with the reason shown to the user.
    pub not_at: &'static [(Moment, &'static str)],
    /// The request a service task sends, for the docs and for writing mocks up front.
    pub endpoint: Option<Endpoint>,
    pub doc: &'static str,
}

/// The HTTP request a task of a service kind (`zendesk`, `salesforce`) sends, under the
/// kind's API root. `tests/it/executors.rs` checks that the executor sends it.
#[derive(Debug)]
pub struct Endpoint {
    pub method: &'static str,
    /// `{name}` is the task's argument `name`, encoded as one segment; `?key=` names a query
    /// parameter sent.
    pub path: &'static str,
    /// What the body or query holds, as docs markdown (empty: nothing).
    pub sends: &'static str,
    /// What of the answer the task returns.
    pub returns: &'static str,
}

const fn sends(
    method: &'static str,
    path: &'static str,
    sends: &'static str,
    returns: &'static str,
) -> Option<Endpoint> {
    Some(Endpoint {
        method,
        path,
        sends,
        returns,
    })
}

const fn task(
    task: BuiltinTask,
    args: &'static [ArgSpec],
    result: Ty,
    side_effect: bool,
    doc: &'static str,
) -> TaskSpec {
    TaskSpec {
        task,
        args,
        variadic: false,
        named_params: false,
        result,
        side_effect,
        not_at: &[],
        endpoint: None,
        doc,
    }
}

#[derive(Debug)]
pub struct TargetKind {
    pub kind: Kind,
    pub fields: &'static [FieldSpec],
    pub tasks: &'static [TaskSpec],
    /// Built-in targets (`conversation`, `call`) are never declared.
    pub builtin: bool,
    /// What its executor speaks: what mock services stand in for (`runtime::mock`).
    pub protocol: Protocol,
    /// Empty means every channel.
    pub channels: &'static [Channel],
    /// `task` declarations may add tasks to targets of this kind.
    pub declared_tasks: bool,
    /// Groups of optional fields of which at least one must be given
    /// (`subdomain` or `base_url`).
    pub one_of: &'static [&'static [&'static str]],
    pub doc: &'static str,
}

/// How a kind's executor reaches its service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP under the target's base address, and under `api_prefix` there (empty: none). A
    /// prefix segment `*` is any one segment, `v*` any one starting with `v`.
    /// `renews_token` names the fields of a flow that renews the access token against the
    /// service itself (Salesforce's OAuth): a mocked target drops them and gets a dummy
    /// `token`, so no real credential reaches the mock and no token endpoint needs one.
    Http {
        api_prefix: &'static str,
        renews_token: &'static [&'static str],
    },
    /// Email submitted over SMTP.
    Smtp,
    /// SQL on the database the target's `url` names.
    Sql,
    /// Nothing outside the runtime (`conversation`, `call`).
    InProcess,
}

impl TaskSpec {
    pub fn name(&self) -> &'static str {
        self.task.name()
    }
}

impl TargetKind {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
    pub fn task(&self, name: &str) -> Option<&'static TaskSpec> {
        self.tasks.iter().find(|t| t.name() == name)
    }
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// Every broken `needs` and `excludes` among the fields `given` says are given; a pair
    /// that excludes each other is named once.
    pub fn combination_problems(&self, given: impl Fn(&str) -> bool) -> Vec<Combination> {
        let mut problems = Vec::new();
        for spec in self.fields.iter().filter(|spec| given(spec.name)) {
            for &missing in spec.needs.iter().filter(|name| !given(name)) {
                problems.push(Combination::Needs {
                    field: spec.name,
                    missing,
                });
            }
            for &other in spec.excludes.iter().filter(|name| given(name)) {
                let named = problems.iter().any(|p| {
                    *p == Combination::Excludes {
                        field: other,
                        other: spec.name,
                    }
                });
                if !named {
                    problems.push(Combination::Excludes {
                        field: spec.name,
                        other,
                    });
                }
            }
        }
        problems
    }
}

const AFTER_CALL: (Moment, &str) = (Moment::AfterCall, "the call has already ended");
const AFTER: (Moment, &str) = (Moment::After, "the conversation has already ended");
const RINGING: (Moment, &str) = (Moment::BeforeCall, "the call is not answered yet");
/// Tasks that need an answered, live call.
const LIVE_CALL: &[(Moment, &str)] = &[RINGING, AFTER_CALL, AFTER];
const NOT_AFTER: &[(Moment, &str)] = &[AFTER, AFTER_CALL];
/// Use-case and block bindings count as during the conversation: starting one needs the
/// conversation (and, on a call, the answered call) under way.
const UNDER_WAY: &[(Moment, &str)] = &[RINGING, AFTER_CALL, AFTER];

const RETRY_FIELD: FieldSpec = FieldSpec::optional(
    "retry",
    Ty::Retry,
    "Default retry policy for the target's actions.",
);
const ALLOW_HOSTS_FIELD: FieldSpec = FieldSpec::optional(
    "allow_hosts",
    Ty::List,
    "Hosts allowed even on loopback or private addresses.",
);
const CONCURRENCY_FIELD: FieldSpec = FieldSpec::optional(
    "concurrency",
    Ty::Number,
    "At most this many tasks on the target at once (default 32); more wait their turn.",
);
const TIMEOUT_FIELD: FieldSpec = FieldSpec::optional(
    "timeout",
    Ty::Duration,
    "Default timeout for the target's actions.",
);

pub const TARGET_KINDS: &[TargetKind] = &[
    TargetKind {
        kind: Kind::Conversation,
        protocol: Protocol::InProcess,
        builtin: true,
        channels: &[],
        declared_tasks: false,
        one_of: &[],
        doc: "The conversation itself: its parameters, labels, replies, hand-over and end.",
        fields: &[],
        tasks: &[
            TaskSpec {
                named_params: true,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::Set),
                    &[],
                    Ty::Any,
                    false,
                    "Set parameters: set(name: value, ...).",
                )
            },
            task(
                BuiltinTask::Conversation(tasks::Conversation::Unset),
                &[arg("name", Ty::Param)],
                Ty::Any,
                false,
                "Reset a parameter to its default (or null).",
            ),
            task(
                BuiltinTask::Conversation(tasks::Conversation::Increment),
                &[arg("name", Ty::Param), dflt("by", Ty::Number, "1")],
                Ty::Number,
                false,
                "Add to a number parameter.",
            ),
            task(
                BuiltinTask::Conversation(tasks::Conversation::Push),
                &[arg("name", Ty::Param), arg("value", Ty::Any)],
                Ty::List,
                false,
                "Append to a list parameter.",
            ),
            task(
                BuiltinTask::Conversation(tasks::Conversation::AddLabel),
                &[arg("label", Ty::Text)],
                Ty::Any,
                false,
                "Tag the conversation.",
            ),
            task(
                BuiltinTask::Conversation(tasks::Conversation::RemoveLabel),
                &[arg("label", Ty::Text)],
                Ty::Any,
                false,
                "Remove a tag.",
            ),
            TaskSpec {
                not_at: NOT_AFTER,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::Reply),
                    &[opt("reply", Ty::ReplyRef), opt("text", Ty::Text)],
                    Ty::Text,
                    false,
                    "Send a declared reply (`reply(welcome)`), or a one-off text (`reply(\"Your order is on its way\")`).",
                )
            },
            TaskSpec {
                not_at: NOT_AFTER,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::Escalate),
                    &[opt("queue", Ty::Text), opt("reason", Ty::Text)],
                    Ty::Any,
                    false,
                    "Hand the conversation over to a human.",
                )
            },
            TaskSpec {
                not_at: NOT_AFTER,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::End),
                    &[opt("reason", Ty::Text)],
                    Ty::Any,
                    false,
                    "End the conversation.",
                )
            },
            task(
                BuiltinTask::Conversation(tasks::Conversation::SetLanguage),
                &[arg("code", Ty::Text)],
                Ty::Any,
                false,
                "Switch the conversation's language.",
            ),
            task(
                BuiltinTask::Conversation(tasks::Conversation::Verify),
                &[arg("condition", Ty::Bool), opt("message", Ty::Text)],
                Ty::Bool,
                false,
                "Fail the action when the condition is false.",
            ),
            TaskSpec {
                not_at: UNDER_WAY,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::StartUsecase),
                    &[arg("usecase", Ty::UsecaseRef)],
                    Ty::Any,
                    false,
                    "Start a use case: its `in usecase` bindings run right after this event's.",
                )
            },
            TaskSpec {
                not_at: UNDER_WAY,
                ..task(
                    BuiltinTask::Conversation(tasks::Conversation::GotoBlock),
                    &[arg("block", Ty::BlockRef)],
                    Ty::Any,
                    false,
                    "Reach a block (`goto_block(U.B)`): its `at block` bindings run right after this event's.",
                )
            },
        ],
    },
    TargetKind {
        kind: Kind::Call,
        protocol: Protocol::InProcess,
        builtin: true,
        channels: &[Channel::Voice],
        declared_tasks: false,
        one_of: &[],
        doc: "The phone call of a voice conversation.",
        fields: &[],
        tasks: &[
            TaskSpec {
                not_at: LIVE_CALL,
                ..task(
                    BuiltinTask::Call(tasks::Call::Transfer),
                    &[
                        arg("to", Ty::Text),
                        dflt("mode", Ty::Word(&["warm", "cold"]), "cold"),
                        opt("whisper", Ty::Text),
                    ],
                    Ty::Any,
                    false,
                    "Transfer the call, warm (with a whisper) or cold.",
                )
            },
            TaskSpec {
                not_at: &[AFTER_CALL, AFTER],
                ..task(
                    BuiltinTask::Call(tasks::Call::Hangup),
                    &[opt("reason", Ty::Text)],
                    Ty::Any,
                    false,
                    "Hang up (or reject a ringing call).",
                )
            },
            TaskSpec {
                not_at: LIVE_CALL,
                ..task(
                    BuiltinTask::Call(tasks::Call::SendDtmf),
                    &[arg("digits", Ty::Text)],
                    Ty::Any,
                    false,
                    "Send touch-tone digits.",
                )
            },
            TaskSpec {
                not_at: LIVE_CALL,
                ..task(
                    BuiltinTask::Call(tasks::Call::Hold),
                    &[opt("message", Ty::Text), opt("music", Ty::Text)],
                    Ty::Any,
                    false,
                    "Put the caller on hold: `message` is said first, then `music` (an https URL of an audio file) plays until the call goes on.",
                )
            },
            TaskSpec {
                not_at: LIVE_CALL,
                ..task(
                    BuiltinTask::Call(tasks::Call::Say),
                    &[arg("text", Ty::Text)],
                    Ty::Any,
                    false,
                    "Say something on the call.",
                )
            },
        ],
    },
    TargetKind {
        kind: Kind::Http,
        protocol: Protocol::Http {
            api_prefix: "",
            renews_token: &[],
        },
        builtin: false,
        channels: &[],
        declared_tasks: true,
        one_of: &[],
        doc: "An HTTP JSON API.",
        fields: &[
            FieldSpec::required("base_url", Ty::Text, "The API's base address."),
            FieldSpec::optional(
                "auth",
                Ty::Auth,
                "bearer(token), basic(user, pass) or api_key(header, value).",
            ),
            FieldSpec::optional("headers", Ty::Record, "Headers sent with every request."),
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
            ALLOW_HOSTS_FIELD,
        ],
        tasks: &[
            task(
                BuiltinTask::Http(tasks::Http::Get),
                HTTP_ARGS,
                Ty::Record,
                false,
                "GET path; returns { status, headers, body }.",
            ),
            task(
                BuiltinTask::Http(tasks::Http::Post),
                HTTP_ARGS,
                Ty::Record,
                true,
                "POST path; returns { status, headers, body }.",
            ),
            task(
                BuiltinTask::Http(tasks::Http::Put),
                HTTP_ARGS,
                Ty::Record,
                true,
                "PUT path; returns { status, headers, body }.",
            ),
            task(
                BuiltinTask::Http(tasks::Http::Patch),
                HTTP_ARGS,
                Ty::Record,
                true,
                "PATCH path; returns { status, headers, body }.",
            ),
            task(
                BuiltinTask::Http(tasks::Http::Delete),
                HTTP_ARGS,
                Ty::Record,
                true,
                "DELETE path; returns { status, headers, body }.",
            ),
        ],
    },
    TargetKind {
        kind: Kind::Zendesk,
        protocol: Protocol::Http {
            api_prefix: "/api/v2",
            renews_token: &[],
        },
        builtin: false,
        channels: &[],
        declared_tasks: true,
        one_of: &[&["subdomain", "base_url"]],
        doc: "Zendesk Support, through its REST API. Endpoints and declared tasks' paths are \
              under `https://{subdomain}.zendesk.com/api/v2` (or `base_url` + `/api/v2`), with \
              API-token auth.",
        fields: &[
            FieldSpec::optional(
                "subdomain",
                Ty::Text,
                "Your Zendesk subdomain (acme → acme.zendesk.com).",
            ),
            FieldSpec::optional(
                "base_url",
                Ty::Text,
                "The API address, instead of subdomain.",
            ),
            FieldSpec::required(
                "email",
                Ty::Text,
                "The agent email used for API-token auth.",
            ),
            FieldSpec::required("token", Ty::Text, "The API token: use secret(\"...\")."),
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
            ALLOW_HOSTS_FIELD,
        ],
        tasks: &[
            TaskSpec {
                endpoint: sends(
                    "POST",
                    "/tickets.json",
                    "body `{ ticket: { subject, comment: { body: comment }, priority?, tags?, requester?: { email: requester_email } } }`",
                    "the answer's `ticket`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::CreateTicket),
                    &[
                        arg("subject", Ty::Text),
                        arg("comment", Ty::Text),
                        opt("priority", Ty::Word(&["low", "normal", "high", "urgent"])),
                        opt("tags", Ty::List),
                        opt("requester_email", Ty::Text),
                    ],
                    Ty::Record,
                    true,
                    "Create a ticket.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "PUT",
                    "/tickets/{ticket_id}.json",
                    "body `{ ticket: fields }`",
                    "the answer's `ticket`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::UpdateTicket),
                    &[arg("ticket_id", Ty::Any), arg("fields", Ty::Record)],
                    Ty::Record,
                    true,
                    "Update a ticket's fields.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "PUT",
                    "/tickets/{ticket_id}/tags.json",
                    "body `{ tags }`",
                    "the answer (`{ tags }`)",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::AddTags),
                    &[arg("ticket_id", Ty::Any), arg("tags", Ty::List)],
                    Ty::Record,
                    true,
                    "Add tags to a ticket.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "PUT",
                    "/tickets/{ticket_id}.json",
                    "body `{ ticket: { comment: { body, public: false } } }`",
                    "the answer's `ticket`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::AddInternalNote),
                    &[arg("ticket_id", Ty::Any), arg("body", Ty::Text)],
                    Ty::Record,
                    true,
                    "Add a private comment.",
                )
            },
            TaskSpec {
                endpoint: sends("GET", "/users/{user_id}.json", "", "the answer's `user`"),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::GetUser),
                    &[arg("user_id", Ty::Any)],
                    Ty::Record,
                    false,
                    "Read a user.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/tickets/{ticket_id}.json",
                    "",
                    "the answer's `ticket`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::GetTicket),
                    &[arg("ticket_id", Ty::Any)],
                    Ty::Record,
                    false,
                    "Read a ticket.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/tickets/{ticket_id}/tags.json",
                    "",
                    "the answer's `tags` list",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::GetTicketTags),
                    &[arg("ticket_id", Ty::Any)],
                    Ty::List,
                    false,
                    "Read a ticket's tags.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "POST",
                    "/tickets/{into}/merge.json",
                    "body `{ ids }`",
                    "the answer's `job_status`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::MergeTickets),
                    &[arg("ids", Ty::List), arg("into", Ty::Any)],
                    Ty::Record,
                    true,
                    "Merge tickets into one.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/organizations/{org_id}.json",
                    "",
                    "the answer's `organization`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::GetOrganization),
                    &[arg("org_id", Ty::Any)],
                    Ty::Record,
                    false,
                    "Read an organization.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/macros/{macro_id}/apply.json",
                    "(the macro's changes), then `GET /tickets/{ticket_id}.json` (its `updated_at`) and `PUT /tickets/{ticket_id}.json`, body `{ ticket: result.ticket + { comment: result.comment, safe_update: true, updated_stamp: updated_at } }` without read-only fields; on a 409 the read and the update once more",
                    "the last answer's `ticket`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::ApplyMacro),
                    &[arg("ticket_id", Ty::Any), arg("macro_id", Ty::Any)],
                    Ty::Record,
                    true,
                    "Apply a macro to a ticket.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/search.json?query=",
                    "query `query`, `sort_by`, `sort_order`",
                    "the answer's `results` list",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::Search),
                    &[
                        arg("query", Ty::Text),
                        opt(
                            "sort_by",
                            Ty::Word(&["updated_at", "created_at", "priority", "status", "ticket_type"]),
                        ),
                        opt("sort_order", Ty::Word(&["asc", "desc"])),
                    ],
                    Ty::List,
                    false,
                    "Search tickets, users and organizations with Zendesk's search syntax \
                     (`type:user email:ana@example.com`).",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "POST",
                    "/users/create_or_update.json",
                    "body `{ user: fields + { name, email } }`",
                    "the answer's `user`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::CreateOrUpdateUser),
                    &[
                        arg("name", Ty::Text),
                        arg("email", Ty::Text),
                        opt("fields", Ty::Record),
                    ],
                    Ty::Record,
                    true,
                    "Create the user with this email, or update the one that has it \
                     (`fields`: phone, external_id, user_fields, …).",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "PUT",
                    "/users/{user_id}.json",
                    "body `{ user: fields }`",
                    "the answer's `user`",
                ),
                ..task(
                    BuiltinTask::Zendesk(tasks::Zendesk::UpdateUser),
                    &[arg("user_id", Ty::Any), arg("fields", Ty::Record)],
                    Ty::Record,
                    true,
                    "Update a user's fields.",
                )
            },
        ],
    },
    TargetKind {
        kind: Kind::Salesforce,
        protocol: Protocol::Http {
            api_prefix: "/services/data/v*",
            renews_token: &["client_id", "client_secret", "refresh_token"],
        },
        builtin: false,
        channels: &[],
        declared_tasks: true,
        one_of: &[&["instance_url", "base_url"], &["token", "client_id"]],
        doc: "Salesforce, through its REST API. Endpoints and declared tasks' paths are under \
              `{instance_url}/services/data/v{api_version}` (or `base_url` instead of \
              `instance_url`), with the OAuth access token as bearer: a fixed `token`, or \
              one renewed at `/services/oauth2/token` with `client_id` and `client_secret` \
              (and `refresh_token` for the refresh-token flow, else client credentials).",
        fields: &[
            FieldSpec::optional(
                "instance_url",
                Ty::Text,
                "Your instance, e.g. https://acme.my.salesforce.com.",
            ),
            FieldSpec::optional(
                "token",
                Ty::Text,
                "An OAuth access token: use secret(\"...\"). With `client_id`, the first \
                 one used until it is renewed.",
            ),
            FieldSpec::optional(
                "client_id",
                Ty::Text,
                "The connected app's consumer key: renews the access token.",
            )
            .needs(&["client_secret"]),
            FieldSpec::optional(
                "client_secret",
                Ty::Text,
                "The connected app's consumer secret: use secret(\"...\").",
            )
            .needs(&["client_id"]),
            FieldSpec::optional(
                "refresh_token",
                Ty::Text,
                "A refresh token (use secret(\"...\")); without it, the client credentials \
                 flow.",
            )
            .needs(&["client_id"]),
            FieldSpec::optional(
                "api_version",
                Ty::Text,
                "The API version, default \"59.0\".",
            ),
            FieldSpec::optional(
                "base_url",
                Ty::Text,
                "Overrides instance_url (tests, staging).",
            ),
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
            ALLOW_HOSTS_FIELD,
        ],
        tasks: &[
            TaskSpec {
                endpoint: sends(
                    "POST",
                    "/sobjects/Case",
                    "body `{ Subject: subject, Description: description, Priority?: priority, Origin?: origin }`",
                    "the answer `{ id, success, errors }`",
                ),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::CreateCase),
                    &[
                        arg("subject", Ty::Text),
                        arg("description", Ty::Text),
                        opt("priority", Ty::Word(&["Low", "Medium", "High"])),
                        opt("origin", Ty::Text),
                    ],
                    Ty::Record,
                    true,
                    "Create a Case.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "PATCH",
                    "/sobjects/Case/{case_id}",
                    "body `fields`",
                    "`{ id, success: true }` (the answer is empty)",
                ),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::UpdateCase),
                    &[arg("case_id", Ty::Text), arg("fields", Ty::Record)],
                    Ty::Record,
                    true,
                    "Update a Case's fields.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "POST",
                    "/sobjects/CaseComment",
                    "body `{ ParentId: case_id, CommentBody: body }`",
                    "the answer `{ id, success, errors }`",
                ),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::AddCaseComment),
                    &[arg("case_id", Ty::Text), arg("body", Ty::Text)],
                    Ty::Record,
                    true,
                    "Add a CaseComment.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/query?q=",
                    "query `q`: `SELECT Id, Name, Email, Phone FROM Contact WHERE Email = '…' OR Phone = '…' LIMIT 1`",
                    "the first of `records`, or null",
                ),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::FindContact),
                    &[opt("email", Ty::Text), opt("phone", Ty::Text)],
                    Ty::Record,
                    false,
                    "Find a Contact by email or phone.",
                )
            },
            TaskSpec {
                endpoint: sends(
                    "GET",
                    "/query?q=",
                    "query `q`: `soql`, each `:name` replaced by the escaped literal of `values.name`",
                    "the answer's `records` list",
                ),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::Query),
                    &[arg("soql", Ty::Text), opt("values", Ty::Record)],
                    Ty::List,
                    false,
                    "Run a SOQL query with bound values: \
                     query(\"SELECT Id FROM Case WHERE SuppliedEmail = :email\", { email: user.email }).",
                )
            },
            TaskSpec {
                endpoint: sends("GET", "/sobjects/Case/{case_id}", "", "the Case record"),
                ..task(
                    BuiltinTask::Salesforce(tasks::Salesforce::GetCase),
                    &[arg("case_id", Ty::Text)],
                    Ty::Record,
                    false,
                    "Read a Case.",
                )
            },
        ],
    },
    TargetKind {
        kind: Kind::Smtp,
        protocol: Protocol::Smtp,
        builtin: false,
        channels: &[],
        declared_tasks: false,
        one_of: &[&["host", "base_url"]],
        doc: "An SMTP server for outgoing email.",
        fields: &[
            FieldSpec::optional("host", Ty::Text, "The SMTP server's host."),
            FieldSpec::optional("port", Ty::Number, "The port, default 587."),
            FieldSpec::optional("username", Ty::Text, "The login."),
            FieldSpec::optional("password", Ty::Text, "The password: use secret(\"...\")."),
            FieldSpec::required("from", Ty::Text, "The sender address."),
            FieldSpec::optional(
                "helo_name",
                Ty::Text,
                "The name sent with EHLO: a domain or an address literal ([192.0.2.1]); \
                 default this machine's host name when it has a dot, else the literal of \
                 the local address.",
            )
            .checked(helo_name_problem),
            FieldSpec::optional(
                "tls",
                Ty::Word(&["starttls", "tls", "none"]),
                "Transport security, default starttls.",
            ),
            FieldSpec::optional(
                "base_url",
                Ty::Text,
                "smtp://host:port, instead of host and port (tests, staging).",
            ),
            ALLOW_HOSTS_FIELD,
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
        ],
        tasks: &[task(
            BuiltinTask::Smtp(tasks::Smtp::SendEmail),
            &[
                arg("to", Ty::Text),
                arg("subject", Ty::Text),
                arg("body", Ty::Text),
                opt("cc", Ty::List),
                opt("reply_to", Ty::Text),
            ],
            Ty::Record,
            true,
            "Send an email.",
        )],
    },
    TargetKind {
        kind: Kind::Sms,
        protocol: Protocol::Http {
            api_prefix: "/2010-04-01/Accounts/*",
            renews_token: &[],
        },
        builtin: false,
        channels: &[],
        declared_tasks: false,
        one_of: &[&["auth_token", "api_key_sid"], &["from", "messaging_service_sid"]],
        doc: "A Twilio-compatible SMS API (Twilio's CreateMessage): authenticated by the \
              account's auth token or by an API key, sending from a number or through a \
              Messaging Service.",
        fields: &[
            FieldSpec::required("account_sid", Ty::Text, "The account SID (AC + 32 hex digits).")
                .checked(account_sid_problem),
            FieldSpec::optional(
                "auth_token",
                Ty::Text,
                "The auth token: use secret(\"...\"). Or an API key instead.",
            )
            .excludes(&["api_key_sid"]),
            FieldSpec::optional(
                "api_key_sid",
                Ty::Text,
                "An API key's SID (SK + 32 hex digits), instead of the auth token.",
            )
            .checked(api_key_sid_problem)
            .needs(&["api_key_secret"]),
            FieldSpec::optional(
                "api_key_secret",
                Ty::Text,
                "The API key's secret: use secret(\"...\").",
            )
            .needs(&["api_key_sid"]),
            FieldSpec::optional("from", Ty::Text, "The sending number.")
                .excludes(&["messaging_service_sid"]),
            FieldSpec::optional(
                "messaging_service_sid",
                Ty::Text,
                "A Messaging Service's SID (MG + 32 hex digits), which picks the sender, \
                 instead of `from`.",
            )
            .checked(messaging_service_sid_problem),
            FieldSpec::optional(
                "status_callback",
                Ty::Text,
                "An https:// URL Twilio posts each message's status changes to.",
            )
            .checked(status_callback_problem),
            FieldSpec::optional(
                "base_url",
                Ty::Text,
                "The API address, default https://api.twilio.com.",
            ),
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
            ALLOW_HOSTS_FIELD,
        ],
        tasks: &[task(
            BuiltinTask::Sms(tasks::Sms::SendSms),
            &[
                arg("to", Ty::Text),
                arg("body", Ty::Text),
                opt("media_urls", Ty::List),
            ],
            Ty::Record,
            true,
            "Send a text message; `media_urls` (public URLs) make it an MMS.",
        )],
    },
    TargetKind {
        kind: Kind::Sql,
        protocol: Protocol::Sql,
        builtin: false,
        channels: &[],
        declared_tasks: false,
        one_of: &[],
        doc: "A SQL database: SQLite or PostgreSQL. Statements take bound parameters only.",
        fields: &[
            FieldSpec::required(
                "url",
                Ty::Text,
                "sqlite://path, sqlite::memory: or postgres://...",
            ),
            TIMEOUT_FIELD,
            RETRY_FIELD,
            CONCURRENCY_FIELD,
        ],
        tasks: &[
            TaskSpec {
                variadic: true,
                ..task(
                    BuiltinTask::Sql(tasks::Sql::Execute),
                    &[arg("statement", Ty::Text)],
                    Ty::Record,
                    true,
                    "Run a statement with bound arguments; returns { rows_affected }.",
                )
            },
            TaskSpec {
                variadic: true,
                ..task(
                    BuiltinTask::Sql(tasks::Sql::Query),
                    &[arg("statement", Ty::Text)],
                    Ty::List,
                    false,
                    "Run a query with bound arguments; returns a list of records.",
                )
            },
            task(
                BuiltinTask::Sql(tasks::Sql::Insert),
                &[arg("table", Ty::Text), arg("record", Ty::Record)],
                Ty::Record,
                true,
                "Insert one record; returns { rows_affected }.",
            ),
        ],
    },
];

const HTTP_ARGS: &[ArgSpec] = &[
    arg("path", Ty::Text),
    opt("query", Ty::Record),
    opt("body", Ty::Any),
    opt("headers", Ty::Record),
];

/// What is wrong with a Twilio SID: `prefix` and 32 hex digits (Twilio's `^AC[0-9a-fA-F]{32}$`).
fn sid_shape(sid: &str, prefix: &str) -> Option<String> {
    let digits = sid.strip_prefix(prefix).unwrap_or_default();
    if digits.len() == 32 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("must be {prefix} followed by 32 hex digits"))
}

fn account_sid_problem(sid: &str) -> Option<String> {
    sid_shape(sid, "AC")
}

fn api_key_sid_problem(sid: &str) -> Option<String> {
    sid_shape(sid, "SK")
}

fn messaging_service_sid_problem(sid: &str) -> Option<String> {
    sid_shape(sid, "MG")
}

/// Twilio fetches the callback from the internet: an absolute https:// URL.
fn status_callback_problem(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() == "https" && parsed.host().is_some() => None,
        _ => Some("must be an https:// URL".to_string()),
    }
}

/// What is wrong with an EHLO name (RFC 5321 §4.1.4): it must be a domain (letters,
/// digits and inner hyphens in dot-separated labels) or an address literal
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
pub fn helo_name_problem(name: &str) -> Option<String> {
    let literal = name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'));
    let valid = match literal {
        Some(inner) => match inner.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
        },
        None => {
            name.len() <= 255
                && name.split('.').all(|label| {
                    (1..=63).contains(&label.len())
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        }
    };
    (!valid).then(|| {
        "must be a domain (mail.example.com) or an address literal ([192.0.2.1])".to_string()
    })
}

/// What is wrong with the `music` of `call.hold`, if anything: the telephony platform
/// fetches it, so it must be an https URL (checked on literals by the checker, on computed
/// values when the action runs).
pub fn hold_music_problem(url: &str) -> Option<String> {
    let problem = match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() == "https" && parsed.host().is_some() => return None,
        Ok(parsed) => format!("its scheme is `{}`", parsed.scheme()),
        Err(e) => format!("it is not a URL ({e})"),
    };
    Some(format!(
        "needs an https:// URL of an audio file, but {problem}"
    ))
}
