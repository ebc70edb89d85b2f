//! The identity of each built-in task: one enum per target kind, whose variants are the
//! entries of that kind's `tasks` in `TARGET_KINDS`, in order
//! (`tests::every_task_has_its_entry`), and [`BuiltinTask`], a task of any kind. A match on
//! one of them names every task of the kind, so a task added here and not implemented does
//! not compile. A declared task (`task get_order(..) on orders`) is the user's: it stays a
//! name (`ir::TaskRef::Declared`).

use super::targets::TaskSpec;
use super::Kind;
use serde::{Deserialize, Serialize};

/// Declares each kind's task enum (variants and the words a program writes, which are also
/// the IR's), and `BuiltinTask` over them all. The kinds are `Kind`'s variants.
macro_rules! builtin_tasks {
    ($($kind:ident { $($task:ident = $word:literal,)* })*) => {
        $(
            #[doc = concat!("The built-in tasks of `Kind::", stringify!($kind), "`.")]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
            pub enum $kind {
                $(#[serde(rename = $word)] $task,)*
            }

            impl $kind {
                pub const ALL: &'static [$kind] = &[$($kind::$task,)*];

                /// The word a program writes (`orders.get(..)`) and the IR holds.
                pub fn name(self) -> &'static str {
                    match self {
                        $($kind::$task => $word,)*
                    }
                }
            }
        )*

        /// A task of the catalogue, of one kind. Written in the IR as `{ KIND: TASK }`
        /// (`{ "zendesk": "create_ticket" }`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum BuiltinTask {
            $($kind($kind),)*
        }

        impl BuiltinTask {
            pub fn kind(self) -> Kind {
                match self {
                    $(BuiltinTask::$kind(_) => Kind::$kind,)*
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $(BuiltinTask::$kind(task) => task.name(),)*
                }
            }

            /// Its position in its kind's `tasks`.
            fn index(self) -> usize {
                match self {
                    $(BuiltinTask::$kind(task) => task as usize,)*
                }
            }

            /// Every built-in task of a kind, in catalogue order.
            pub fn of(kind: Kind) -> Vec<BuiltinTask> {
                match kind {
                    $(Kind::$kind => $kind::ALL.iter().copied().map(BuiltinTask::$kind).collect(),)*
                }
            }
        }
    };
}

builtin_tasks! {
    Conversation {
        Set = "set",
        Unset = "unset",
        Increment = "increment",
        Push = "push",
        AddLabel = "add_label",
        RemoveLabel = "remove_label",
        Reply = "reply",
        Escalate = "escalate",
        End = "end",
        SetLanguage = "set_language",
        Verify = "verify",
        StartUsecase = "start_usecase",
        GotoBlock = "goto_block",
    }
    Call {
        Transfer = "transfer",
        Hangup = "hangup",
        SendDtmf = "send_dtmf",
        Hold = "hold",
        Say = "say",
    }
    Http {
        Get = "get",
        Post = "post",
        Put = "put",
        Patch = "patch",
        Delete = "delete",
    }
    Zendesk {
        CreateTicket = "create_ticket",
        UpdateTicket = "update_ticket",
        AddTags = "add_tags",
        AddInternalNote = "add_internal_note",
        GetUser = "get_user",
        GetTicket = "get_ticket",
        GetTicketTags = "get_ticket_tags",
        MergeTickets = "merge_tickets",
        GetOrganization = "get_organization",
        ApplyMacro = "apply_macro",
        Search = "search",
        CreateOrUpdateUser = "create_or_update_user",
        UpdateUser = "update_user",
    }
    Salesforce {
        CreateCase = "create_case",
        UpdateCase = "update_case",
        AddCaseComment = "add_case_comment",
        FindContact = "find_contact",
        Query = "query",
        GetCase = "get_case",
    }
    Smtp {
        SendEmail = "send_email",
    }
    Sms {
        SendSms = "send_sms",
    }
    Sql {
        Execute = "execute",
        Query = "query",
        Insert = "insert",
    }
}

impl BuiltinTask {
    /// The catalogue task of this name on targets of `kind`.
    pub fn parse(kind: Kind, name: &str) -> Option<BuiltinTask> {
        kind.spec().task(name).map(|spec| spec.task)
    }

    /// Its catalogue entry: arguments, result, side effect.
    pub fn spec(self) -> &'static TaskSpec {
        &self.kind().spec().tasks[self.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::{BuiltinTask, Kind};

    #[test]
    fn every_task_has_its_entry() {
        for kind in Kind::ALL {
            let entries: Vec<BuiltinTask> = kind.spec().tasks.iter().map(|t| t.task).collect();
            assert_eq!(entries, BuiltinTask::of(kind), "{kind}");
            for task in entries {
                assert_eq!(task.spec().task, task);
                assert_eq!(BuiltinTask::parse(kind, task.name()), Some(task));
            }
        }
    }

    /// The IR writes a task as its kind and the word a program writes.
    #[test]
    fn a_task_is_written_as_its_kind_and_name() {
        for task in Kind::ALL.into_iter().flat_map(BuiltinTask::of) {
            let json = serde_json::to_value(task).unwrap();
            assert_eq!(json, serde_json::json!({ task.kind().name(): task.name() }));
            assert_eq!(serde_json::from_value::<BuiltinTask>(json).unwrap(), task);
        }
    }
}
