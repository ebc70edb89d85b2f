//! One mocked world, shared by `agentc test`, `agentc run --mocks` and the REPL: the mock
//! services, an in-memory SQLite database per `sql` target (or the declared one), and
//! placeholder secrets.

use super::{protocol, MockRule, MockServices};
use crate::catalogue::Protocol;
use crate::ir::{self, Value};
use crate::runtime::{executors, Environment, Redactor, RunTaskError, Runtime, RuntimeBuilder};
use indexmap::IndexMap;
use std::fmt;

/// The url of an in-memory `sql` target: a database of its own, empty at first.
const MEMORY_DATABASE: &str = "sqlite::memory:";

/// The secrets policy of a mocked world (docs/testing.md, "Placeholder secrets"): nothing
/// real is reached, so nothing real is read. `secret("X")` and `env("X")` read `mock-X`,
/// whatever the process's environment holds; a secret read is registered with the
/// redactor like any other, so it shows as `[redacted]`.
pub struct MockSecrets;

impl MockSecrets {
    /// The placeholder `secret(name)` reads.
    pub fn placeholder(name: &str) -> String {
        format!("mock-{name}")
    }
}

impl Environment for MockSecrets {
    fn var(&self, name: &str) -> Option<String> {
        Some(Self::placeholder(name))
    }
}

/// Where a mocked world's `sql` targets keep their rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlTargets {
    /// Each in a fresh in-memory database: a test, a REPL conversation.
    InMemory,
    /// In the database its `url` names: `run --mocks` seeds a demo file to open afterwards.
    AsDeclared,
}

/// The mock services could not start (no loopback port to listen on).
#[derive(Debug)]
pub struct ServicesDown(pub std::io::Error);

impl fmt::Display for ServicesDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot start the mock services: {}", self.0)
    }
}

impl std::error::Error for ServicesDown {}

/// The running mock services and the redactor every runtime of the world shares; dropping
/// it stops the services. Each program gets its runtime from [`MockedWorld::runtime`].
pub struct MockedWorld {
    services: MockServices,
    redactor: Redactor,
}

impl MockedWorld {
    /// Starts the mock services with these rules. Needs a running tokio runtime.
    pub async fn start(rules: Vec<MockRule>, redactor: Redactor) -> Result<Self, ServicesDown> {
        let services = MockServices::start(rules).await.map_err(ServicesDown)?;
        Ok(MockedWorld { services, redactor })
    }

    pub fn services(&self) -> &MockServices {
        &self.services
    }

    /// A runtime for `program` in this world: every HTTP and SMTP target pointed at the
    /// mock services, every `sql` target where `sql` says, each of them so reaching nothing
    /// outside the process (a dry run lets its reads through); secrets by [`MockSecrets`].
    /// The caller adds the clock and the trace.
    pub fn runtime(&self, program: ir::Program, sql: SqlTargets) -> RuntimeBuilder {
        let targets: Vec<ir::Target> = program.targets.values().cloned().collect();
        let mut builder = Runtime::builder(program)
            .env(MockSecrets)
            .redactor(self.redactor.clone())
            .executor_factory(executors::factory(&self.redactor));
        for target in &targets {
            let fields = match protocol(target) {
                Protocol::Sql if sql == SqlTargets::AsDeclared => None,
                Protocol::Sql => Some(IndexMap::from([(
                    "url".to_string(),
                    Value::Text(MEMORY_DATABASE.into()),
                )])),
                _ => self.services.redirect(target),
            };
            if let Some(fields) = fields {
                builder = builder
                    .override_fields(&target.name, fields)
                    .in_process(&target.name);
            }
        }
        builder
    }
}

/// Runs a `mock DB SQL "statement"` on a sql target's database, as every mocked world
/// seeds one; the error is the database's.
pub async fn run_sql(runtime: &Runtime, target: &str, statement: &str) -> Result<(), RunTaskError> {
    let args = IndexMap::from([("statement".to_string(), Value::Text(statement.into()))]);
    runtime
        .run_task(target, "execute", args, Vec::new())
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_that_cannot_start_say_why() {
        let error = ServicesDown(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no loopback address",
        ));
        assert!(
            matches!(&error, ServicesDown(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable)
        );
        assert_eq!(
            error.to_string(),
            "cannot start the mock services: no loopback address"
        );
    }
}
