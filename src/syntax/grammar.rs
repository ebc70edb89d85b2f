//! The pest parser generated from `grammar/agent.pest`.

use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/agent.pest"]
pub(crate) struct AgentParser;
