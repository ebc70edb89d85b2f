//! `sql` targets: SQLite (`sqlite://path`, created if missing; `sqlite::memory:`) and
//! PostgreSQL (`postgres://...`) through sqlx. Values are always bound, never spliced:
//! `execute(statement, args...)` → `{ rows_affected }`, `query(statement, args...)` → a list
//! of records, `insert(table, record)` → `{ rows_affected }` with quoted, validated
//! identifiers.
//!
//! Placeholders are the database's own: `?` for SQLite, `$1` for PostgreSQL. How values
//! are bound and columns read is in [`dialect`].
//!
//! A statement that outlives the task's timeout is stopped by the database itself (a
//! progress handler in SQLite, `statement_timeout` in PostgreSQL), so it does not hold its
//! connection and slow every later task. A query's answer is read row by row and fails
//! past [`ExecutorOptions::max_rows`] rows or [`ExecutorOptions::max_response_bytes`].

mod dialect;

use super::args::{self, Fields};
use super::{ExecutorOptions, Problem};
use crate::catalogue::tasks::Sql;
use crate::catalogue::BuiltinTask;
use crate::ir::Value;
use crate::runtime::effects::{Executor, ExecutorTask, TaskError, TaskRequest};
use dialect::Dialect;
use futures::future::BoxFuture;
use futures::TryStreamExt;
use indexmap::IndexMap;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::str::FromStr;

/// Why a `sql` target's `url` names no database. Holds the URL without its password.
#[derive(Debug)]
pub enum SqlError {
    Sqlite {
        shown_url: String,
        error: sqlx::Error,
    },
    Postgres(String),
    Scheme,
}

impl std::error::Error for SqlError {}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqlError::Sqlite { shown_url, error } => {
                write!(f, "field `url` ({shown_url}): {error}")
            }
            SqlError::Postgres(shown_url) => write!(f, "field `url` ({shown_url}) is not valid"),
            SqlError::Scheme => write!(
                f,
                "field `url` must start with sqlite:// , sqlite::memory: or postgres://"
            ),
        }
    }
}

enum Pool {
    /// With the folder the database file lives in, made on first use (not at build time,
    /// so a dry run leaves the file system untouched).
    Sqlite(sqlx::SqlitePool, Option<std::path::PathBuf>),
    Postgres(sqlx::PgPool),
}

pub struct SqlExecutor {
    pool: Pool,
    /// The URL without its password, for describe() and errors.
    shown_url: String,
    max_rows: usize,
    max_bytes: usize,
}

impl SqlExecutor {
    pub fn new(fields: &Fields, options: &ExecutorOptions) -> Result<Self, Problem> {
        let raw = fields.required_text("url")?;
        let shown_url = redact(&raw);
        // No reaper tasks: building needs no running runtime, and an in-memory database
        // lives as long as its one connection.
        let pool = if raw.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(&raw)
                .map_err(|error| SqlError::Sqlite {
                    shown_url: shown_url.clone(),
                    error,
                })?
                .create_if_missing(true)
                .foreign_keys(true);
            let in_memory = raw.contains(":memory:") || raw.contains("mode=memory");
            let folder = (!in_memory)
                .then(|| options.get_filename().parent().map(|p| p.to_path_buf()))
                .flatten()
                .filter(|p| !p.as_os_str().is_empty());
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(if in_memory { 1 } else { 4 })
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options),
                folder,
            )
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let options = sqlx::postgres::PgConnectOptions::from_str(&raw)
                .map_err(|_| SqlError::Postgres(shown_url.clone()))?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options),
            )
        } else {
            return Err(SqlError::Scheme.into());
        };
        Ok(SqlExecutor {
            pool,
            shown_url,
            max_rows: options.max_rows,
            max_bytes: options.max_response_bytes,
        })
    }

    /// The statement and its bound values.
    fn statement(&self, request: &TaskRequest) -> Result<(String, Vec<Value>), TaskError> {
        let ExecutorTask::Builtin(BuiltinTask::Sql(task)) = request.task else {
            return Err(super::unknown_task(request, "sql"));
        };
        match task {
            Sql::Execute | Sql::Query => Ok((
                args::required_text(request, "statement")?,
                request.rest.clone(),
            )),
            Sql::Insert => {
                let table = args::required_text(request, "table")?;
                let record = args::record_arg(request, "record")?
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| TaskError::fatal("task `insert` needs a non-empty `record`"))?;
                let placeholder = |i: usize| match self.pool {
                    Pool::Sqlite(..) => "?".to_string(),
                    Pool::Postgres(_) => format!("${i}"),
                };
                let columns = record
                    .keys()
                    .map(|c| quote_identifier(c))
                    .collect::<Result<Vec<_>, _>>()?;
                let marks: Vec<String> = (1..=record.len()).map(placeholder).collect();
                let statement = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    quote_identifier(&table)?,
                    columns.join(", "),
                    marks.join(", ")
                );
                Ok((statement, record.values().cloned().collect()))
            }
        }
    }

    async fn run(&self, request: &TaskRequest) -> Result<Value, TaskError> {
        let (statement, values) = self.statement(request)?;
        let rows = request.task == ExecutorTask::Builtin(BuiltinTask::Sql(Sql::Query));
        let request = (statement.as_str(), values.as_slice(), rows, request.timeout);
        match &self.pool {
            Pool::Sqlite(pool, folder) => {
                if let Some(folder) = folder {
                    tokio::fs::create_dir_all(folder).await.map_err(|e| {
                        TaskError::fatal(format!(
                            "cannot create the folder of {}: {e}",
                            self.shown_url
                        ))
                    })?;
                }
                self.run_on(pool, request).await
            }
            Pool::Postgres(pool) => self.run_on(pool, request).await,
        }
    }

    /// Runs one statement with its values bound, stopped by the database at `timeout`: the
    /// rows as records, or how many rows it changed.
    async fn run_on<DB: Dialect>(
        &self,
        pool: &sqlx::Pool<DB>,
        (statement, values, rows, timeout): (&str, &[Value], bool, std::time::Duration),
    ) -> Result<Value, TaskError>
    where
        for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
    {
        let mut conn = pool.acquire().await.map_err(|e| self.error(e))?;
        DB::stop_after(&mut conn, timeout)
            .await
            .map_err(|e| self.error(e))?;
        let query = values
            .iter()
            .fold(sqlx::query::<DB>(statement), dialect::bind);
        if !rows {
            let done = query.execute(&mut *conn).await.map_err(|e| self.error(e))?;
            return Ok(affected(DB::rows_affected(&done)));
        }
        let mut stream = query.fetch(&mut *conn);
        let (mut records, mut bytes) = (Vec::new(), 0);
        while let Some(row) = stream.try_next().await.map_err(|e| self.error(e))? {
            let record =
                dialect::record::<DB>(&row).map_err(|e| TaskError::fatal(e.to_string()))?;
            bytes += weight(&record);
            if records.len() == self.max_rows || bytes > self.max_bytes {
                return Err(self.too_large());
            }
            records.push(record);
        }
        Ok(Value::List(records))
    }

    /// A message about this database. The URL goes last, after "on": a URL may end in a
    /// colon (`sqlite::memory:`), so a `URL: message` form would print two.
    fn on_database(&self, what: impl std::fmt::Display) -> String {
        format!("{what} (on {})", self.shown_url)
    }

    fn too_large(&self) -> TaskError {
        TaskError::fatal(self.on_database(format_args!(
            "the query returns more than {} rows or {} MiB, the most agentc reads: add a \
             LIMIT or select fewer columns",
            self.max_rows,
            self.max_bytes / (1024 * 1024)
        )))
    }

    /// Constraint violations and SQL errors are final; a lost connection, a busy pool, a
    /// deadlock or a serialization failure may pass. What the database refused or undid (a
    /// deadlock, a serialization failure, a locked SQLite file, a statement it stopped at
    /// the timeout), no connection and a refused one left nothing done; a connection lost
    /// midway may have committed.
    fn error(&self, error: sqlx::Error) -> TaskError {
        match &error {
            sqlx::Error::Database(db) => {
                let what = match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => "unique constraint violated: ",
                    sqlx::error::ErrorKind::ForeignKeyViolation => {
                        "foreign key constraint violated: "
                    }
                    sqlx::error::ErrorKind::NotNullViolation => "not-null constraint violated: ",
                    sqlx::error::ErrorKind::CheckViolation => "check constraint violated: ",
                    _ => "",
                };
                let message = self.on_database(format_args!("{what}{}", db.message()));
                if dialect::stopped_at_timeout(db.as_ref()) {
                    return TaskError::not_sent(self.on_database("timed out"));
                }
                let transient = matches!(db.code().as_deref(), Some("40001" | "40P01"))
                    || db.message().contains("database is locked");
                if transient {
                    return TaskError::not_sent(message);
                }
                TaskError::fatal(message)
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                TaskError::not_sent(self.on_database(format_args!("cannot connect: {error}")))
            }
            sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                TaskError::not_sent(self.on_database(format_args!("cannot connect: {error}")))
            }
            sqlx::Error::Io(_) => TaskError::retryable(
                self.on_database(format_args!("the connection failed: {error}")),
            ),
            _ => TaskError::fatal(self.on_database(&error)),
        }
    }
}

/// About how many bytes a value read from a row holds: texts by their length, anything
/// else as 8.
fn weight(value: &Value) -> usize {
    match value {
        Value::Text(text) => text.len(),
        Value::List(items) => 8 + items.iter().map(weight).sum::<usize>(),
        Value::Record(map) => 8 + map.iter().map(|(k, v)| k.len() + weight(v)).sum::<usize>(),
        _ => 8,
    }
}

fn affected(n: u64) -> Value {
    Value::Record(IndexMap::from([(
        "rows_affected".to_string(),
        Value::Number(n as f64),
    )]))
}

/// `"name"` or `"schema"."name"`; only letters, digits and `_`, not starting with a digit.
fn quote_identifier(name: &str) -> Result<String, TaskError> {
    let valid = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| valid(p)) {
        return Err(TaskError::fatal(format!(
            "`{name}` is not a valid table or column name (letters, digits and _ only)"
        )));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

/// The URL with its password replaced, so it can be shown.
fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) if raw.starts_with("sqlite:") || url.query().is_none() => raw.to_string(),
        // Connection parameters may carry a password (`?password=`): show none of them.
        Ok(mut url) => {
            url.set_query(None);
            url.to_string()
        }
        // Where a URL that does not parse keeps its password cannot be told (it may hold a
        // `/`, `?` or `@`): show only the scheme.
        Err(_) => match raw.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "…".to_string(),
        },
    }
}

impl Executor for SqlExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            if request.timeout.is_zero() {
                return self.run(request).await;
            }
            tokio::time::timeout(request.timeout, self.run(request))
                .await
                .map_err(|_| TaskError::retryable(self.on_database("timed out")))?
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        match self.statement(request) {
            Ok((statement, values)) => format!(
                "SQL {} [{} bound value{}] on {}",
                statement.split_whitespace().collect::<Vec<_>>().join(" "),
                values.len(),
                if values.len() == 1 { "" } else { "s" },
                self.shown_url,
            ),
            Err(e) => super::describe_invalid(request, &e),
        }
    }

    fn preview(&self, request: &TaskRequest) -> String {
        match self.statement(request) {
            Ok((statement, values)) => format!(
                "SQL {}: {} bound to {}",
                self.shown_url,
                statement.split_whitespace().collect::<Vec<_>>().join(" "),
                Value::List(values).to_json()
            ),
            Err(e) => super::describe_invalid(request, &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_plain_identifiers() {
        assert_eq!(quote_identifier("calls").unwrap(), "\"calls\"");
        assert_eq!(quote_identifier("crm.calls").unwrap(), "\"crm\".\"calls\"");
        for bad in ["", "1x", "a\"b", "a;drop", "a.b.c", "x y"] {
            assert!(quote_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact("postgres://bot:s3cret@db.example/crm"),
            "postgres://bot:***@db.example/crm"
        );
        assert_eq!(
            redact("postgres://db.example/crm?password=s3cret"),
            "postgres://db.example/crm"
        );
        assert_eq!(redact("sqlite://acme.db"), "sqlite://acme.db");
        for unparsed in [
            "postgres://bot:s3cret@db.example:port/crm",
            "postgres://bot:s3/cret@db.example/crm",
            "postgres://bot@db.example:port/crm?password=s3@cret",
        ] {
            assert_eq!(redact(unparsed), "postgres://…", "{unparsed}");
        }
    }
}
