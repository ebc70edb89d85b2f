//! `sql` targets: SQLite (`sqlite://path`, created if missing; `sqlite::memory:`) and
//! PostgreSQL (`postgres://...`) through sqlx. Values are always bound, never spliced:
//! `execute(statement, args...)` → `{ rows_affected }`, `query(statement, args...)` → a list
//! of records, `insert(table, record)` → `{ rows_affected }` with quoted, validated
//! identifiers.
//!
//! Binding: texts as text, whole numbers as 64-bit integers, other numbers as doubles,
//! booleans as booleans, durations as milliseconds, lists and records as JSON, null as a
//! NULL whose type the database infers. Placeholders are the database's own: `?` for
//! SQLite, `$1` for PostgreSQL.

use super::args::{self, Fields};
use crate::ir::Value;
use crate::runtime::effects::{Executor, TaskError, TaskRequest};
use futures::future::BoxFuture;
use indexmap::IndexMap;
use sqlx::postgres::{PgArgumentBuffer, PgPoolOptions, PgRow, PgTypeInfo};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Postgres, Row, Sqlite, TypeInfo, ValueRef};
use std::str::FromStr;

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

pub struct SqlExecutor {
    pool: Pool,
    /// The URL without its password, for describe() and errors.
    shown_url: String,
}

impl SqlExecutor {
    pub fn new(fields: &Fields) -> Result<Self, String> {
        let raw = fields.required_text("url")?;
        let shown_url = redact(&raw);
        // No reaper tasks: building needs no running runtime, and an in-memory database
        // lives as long as its one connection.
        let pool = if raw.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(&raw)
                .map_err(|e| fields.error(format_args!("field `url` ({shown_url}): {e}")))?
                .create_if_missing(true)
                .foreign_keys(true);
            let in_memory = raw.contains(":memory:") || raw.contains("mode=memory");
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(if in_memory { 1 } else { 4 })
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options),
            )
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let options = sqlx::postgres::PgConnectOptions::from_str(&raw).map_err(|_| {
                fields.error(format_args!("field `url` ({shown_url}) is not valid"))
            })?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_lazy_with(options),
            )
        } else {
            return Err(fields
                .error("field `url` must start with sqlite:// , sqlite::memory: or postgres://"));
        };
        Ok(SqlExecutor { pool, shown_url })
    }

    /// The statement and its bound values.
    fn statement(&self, request: &TaskRequest) -> Result<(String, Vec<Value>), TaskError> {
        match request.task.as_str() {
            "execute" | "query" => Ok((
                args::required_text(request, "statement")?,
                request.rest.clone(),
            )),
            "insert" => {
                let table = args::required_text(request, "table")?;
                let record = args::record_arg(request, "record")?
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| TaskError::fatal("task `insert` needs a non-empty `record`"))?;
                let placeholder = |i: usize| match self.pool {
                    Pool::Sqlite(_) => "?".to_string(),
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
            _ => Err(super::unknown_task(request, "sql")),
        }
    }

    async fn run(&self, request: &TaskRequest) -> Result<Value, TaskError> {
        let (statement, values) = self.statement(request)?;
        let rows = request.task == "query";
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut query = sqlx::query::<Sqlite>(&statement);
                for value in &values {
                    query = bind_sqlite(query, value);
                }
                if rows {
                    let rows = query.fetch_all(pool).await.map_err(|e| self.error(e))?;
                    rows.iter()
                        .map(sqlite_record)
                        .collect::<Result<Vec<_>, _>>()
                        .map(Value::List)
                } else {
                    let done = query.execute(pool).await.map_err(|e| self.error(e))?;
                    Ok(affected(done.rows_affected()))
                }
            }
            Pool::Postgres(pool) => {
                let mut query = sqlx::query::<Postgres>(&statement);
                for value in &values {
                    query = bind_postgres(query, value);
                }
                if rows {
                    let rows = query.fetch_all(pool).await.map_err(|e| self.error(e))?;
                    rows.iter()
                        .map(postgres_record)
                        .collect::<Result<Vec<_>, _>>()
                        .map(Value::List)
                } else {
                    let done = query.execute(pool).await.map_err(|e| self.error(e))?;
                    Ok(affected(done.rows_affected()))
                }
            }
        };
        result.map_err(TaskError::fatal)
    }

    /// Constraint violations and SQL errors are final; a lost connection, a busy pool, a
    /// deadlock or a serialization failure may pass.
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
                let message = format!("{}: {what}{}", self.shown_url, db.message());
                let transient = matches!(db.code().as_deref(), Some("40001" | "40P01"))
                    || db.message().contains("database is locked");
                TaskError {
                    message,
                    retryable: transient,
                    retry_after: None,
                }
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                TaskError::retryable(format!("{}: cannot connect: {error}", self.shown_url))
            }
            _ => TaskError::fatal(format!("{}: {error}", self.shown_url)),
        }
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
        Err(_) => raw.split(['?', '@']).next().unwrap_or("").to_string(),
    }
}

fn whole(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_sqlite<'q>(query: SqliteQuery<'q>, value: &Value) -> SqliteQuery<'q> {
    match value {
        Value::Null => query.bind(Option::<String>::None),
        Value::Bool(b) => query.bind(*b),
        Value::Number(n) => match whole(*n) {
            Some(i) => query.bind(i),
            None => query.bind(*n),
        },
        Value::Text(s) => query.bind(s.clone()),
        Value::Duration(ms) => query.bind(*ms as i64),
        Value::List(_) | Value::Record(_) => query.bind(value.to_json().to_string()),
    }
}

fn bind_postgres<'q>(query: PgQuery<'q>, value: &Value) -> PgQuery<'q> {
    match value {
        Value::Null => query.bind(UntypedNull),
        Value::Bool(b) => query.bind(*b),
        Value::Number(n) => match whole(*n) {
            Some(i) => query.bind(i),
            None => query.bind(*n),
        },
        Value::Text(s) => query.bind(s.clone()),
        Value::Duration(ms) => query.bind(*ms as i64),
        Value::List(_) | Value::Record(_) => query.bind(value.to_json()),
    }
}

/// A NULL sent with type OID 0, "unspecified": PostgreSQL infers the column's type, where a
/// typed NULL (`text`) would be refused by an integer column.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(
        &self,
        _: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

fn sqlite_record(row: &SqliteRow) -> Result<Value, String> {
    let mut record = IndexMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
        let storage = raw.type_info().name().to_string();
        // SQLite stores booleans as integers; a column declared BOOLEAN reads back as one.
        let declared_bool = column.type_info().name() == "BOOLEAN";
        let value = if raw.is_null() {
            Value::Null
        } else {
            match storage.as_str() {
                "INTEGER" | "BOOLEAN" if declared_bool => {
                    Value::Bool(get::<Sqlite, _, i64>(row, i)? != 0)
                }
                "INTEGER" | "BOOLEAN" => Value::Number(get::<Sqlite, _, i64>(row, i)? as f64),
                "REAL" | "NUMERIC" => Value::Number(get::<Sqlite, _, f64>(row, i)?),
                "BLOB" => Value::Text(
                    String::from_utf8_lossy(&get::<Sqlite, _, Vec<u8>>(row, i)?).into_owned(),
                ),
                _ => Value::Text(get::<Sqlite, _, String>(row, i)?),
            }
        };
        record.insert(column.name().to_string(), value);
    }
    Ok(Value::Record(record))
}

fn postgres_record(row: &PgRow) -> Result<Value, String> {
    let mut record = IndexMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match column.type_info().name() {
                "BOOL" => Value::Bool(get::<Postgres, _, bool>(row, i)?),
                "INT2" => Value::Number(get::<Postgres, _, i16>(row, i)?.into()),
                "INT4" => Value::Number(get::<Postgres, _, i32>(row, i)?.into()),
                "INT8" => Value::Number(get::<Postgres, _, i64>(row, i)? as f64),
                "FLOAT4" => Value::Number(get::<Postgres, _, f32>(row, i)?.into()),
                "FLOAT8" => Value::Number(get::<Postgres, _, f64>(row, i)?),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => {
                    Value::Text(get::<Postgres, _, String>(row, i)?)
                }
                "JSON" | "JSONB" => {
                    Value::from_json(&get::<Postgres, _, serde_json::Value>(row, i)?)
                }
                other => {
                    return Err(format!(
                        "column `{}` has type {other}, which agentc does not read: cast it in \
                         the query (`{}::text`, `{}::float8`)",
                        column.name(),
                        column.name(),
                        column.name()
                    ))
                }
            }
        };
        record.insert(column.name().to_string(), value);
    }
    Ok(Value::Record(record))
}

/// Decodes column `i`, reporting a decoding failure as text.
fn get<'r, DB, R, T>(row: &'r R, i: usize) -> Result<T, String>
where
    DB: sqlx::Database,
    R: Row<Database = DB>,
    T: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<R>,
{
    row.try_get_unchecked::<T, usize>(i)
        .map_err(|e| format!("column {i}: {e}"))
}

impl Executor for SqlExecutor {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            if request.timeout.is_zero() {
                return self.run(request).await;
            }
            tokio::time::timeout(request.timeout, self.run(request))
                .await
                .map_err(|_| TaskError::retryable(format!("{}: timed out", self.shown_url)))?
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        match self.statement(request) {
            Ok((statement, values)) => format!(
                "SQL {}: {} [{} bound value{}]",
                self.shown_url,
                statement.split_whitespace().collect::<Vec<_>>().join(" "),
                values.len(),
                if values.len() == 1 { "" } else { "s" }
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
    }
}
