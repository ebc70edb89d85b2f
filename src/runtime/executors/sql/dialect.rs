//! What differs between the databases a `sql` target speaks, so that the executor binds,
//! runs and reads a statement once for both.
//!
//! Binding: texts as text, whole numbers as 64-bit integers, other numbers as doubles,
//! booleans as booleans, durations as milliseconds, lists and records as JSON, null as a
//! NULL whose type the database infers.
//!
//! Reading: SQLite by each value's storage class (a column declared `BOOLEAN` reads as a
//! bool, a `BLOB` as text). PostgreSQL by the column's type: booleans, integers, floats and
//! `numeric` as numbers, text types, `uuid` as text, `timestamptz` and `timestamp` as
//! RFC 3339 text in UTC (a `timestamp` has no zone and is taken as UTC), `date` as
//! `YYYY-MM-DD`, `json`/`jsonb` as values; any other type is refused with a hint to cast it.

use crate::ir::Value;
use futures::future::BoxFuture;
use indexmap::IndexMap;
use sqlx::postgres::{PgArgumentBuffer, PgRow, PgTypeInfo};
use sqlx::sqlite::SqliteRow;
use sqlx::types::{BigDecimal, Uuid};
use sqlx::{Column, ColumnIndex, Database, Decode, Encode, Postgres, Row, Sqlite, Type};
use sqlx::{TypeInfo, ValueRef};
use std::time::{Duration, Instant};

pub type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// Why a column of a row could not be read as a value.
#[derive(Debug)]
pub enum ColumnError {
    /// sqlx could not reach the column's raw value.
    Raw(sqlx::Error),
    Decode {
        column: String,
        error: sqlx::Error,
    },
    OutOfRange {
        column: String,
        why: &'static str,
    },
    /// A PostgreSQL type agentc does not read.
    Unreadable {
        column: String,
        ty: String,
    },
}

impl std::error::Error for ColumnError {}

impl std::fmt::Display for ColumnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnError::Raw(error) => write!(f, "{error}"),
            ColumnError::Decode { column, error } => write!(f, "column `{column}`: {error}"),
            ColumnError::OutOfRange { column, why } => {
                write!(f, "column `{column}`: the value is {why}")
            }
            ColumnError::Unreadable { column: name, ty } => write!(
                f,
                "column `{name}` has type {ty}, which agentc does not read: cast it in \
                 the query (`{name}::text`, `{name}::float8`)"
            ),
        }
    }
}

/// One of the databases a `sql` target speaks: what sqlx does differently for it.
pub trait Dialect: Database {
    /// Binds a NULL whose type the database infers from where it is used.
    fn bind_null(query: Query<'_, Self>) -> Query<'_, Self>;
    /// Binds a list or a record, as JSON.
    fn bind_json(query: Query<'_, Self>, json: serde_json::Value) -> Query<'_, Self>;
    /// Reads column `i` of a row, known not to be NULL.
    fn read(row: &Self::Row, i: usize) -> Result<Value, ColumnError>;
    fn rows_affected(done: &Self::QueryResult) -> u64;
    /// Makes the database stop the connection's next statement after `timeout` (zero: no
    /// limit), so an abandoned statement does not keep the connection busy.
    fn stop_after(
        conn: &mut Self::Connection,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(), sqlx::Error>>;
}

/// Whether a database error is a statement stopped by [`Dialect::stop_after`]: SQLite's
/// "interrupted", PostgreSQL's `query_canceled`.
pub fn stopped_at_timeout(error: &dyn sqlx::error::DatabaseError) -> bool {
    // SQLITE_INTERRUPT is 9; PostgreSQL's query_canceled is 57014.
    matches!(error.code().as_deref(), Some("9" | "57014"))
}

/// Binds one value (see the module's documentation).
pub fn bind<'q, DB: Dialect>(query: Query<'q, DB>, value: &Value) -> Query<'q, DB>
where
    bool: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
{
    match value {
        Value::Null => DB::bind_null(query),
        Value::Bool(b) => query.bind(*b),
        Value::Number(n) => match whole(*n) {
            Some(i) => query.bind(i),
            None => query.bind(*n),
        },
        Value::Text(s) => query.bind(s.clone()),
        Value::Duration(ms) => query.bind(*ms as i64),
        Value::List(_) | Value::Record(_) => DB::bind_json(query, value.to_json()),
    }
}

fn whole(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

/// One row as a record of its columns, in order.
pub fn record<DB: Dialect>(row: &DB::Row) -> Result<Value, ColumnError>
where
    usize: ColumnIndex<DB::Row>,
{
    let mut record = IndexMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(ColumnError::Raw)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            DB::read(row, i)?
        };
        record.insert(column.name().to_string(), value);
    }
    Ok(Value::Record(record))
}

/// Decodes column `i`, reporting a decoding failure as text.
fn get<'r, R, T>(row: &'r R, i: usize) -> Result<T, ColumnError>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
{
    row.try_get_unchecked::<T, usize>(i)
        .map_err(|error| ColumnError::Decode {
            column: row.columns()[i].name().to_string(),
            error,
        })
}

impl Dialect for Sqlite {
    fn bind_null(query: Query<'_, Self>) -> Query<'_, Self> {
        query.bind(Option::<String>::None)
    }

    fn bind_json(query: Query<'_, Self>, json: serde_json::Value) -> Query<'_, Self> {
        query.bind(json.to_string())
    }

    fn stop_after(
        conn: &mut Self::Connection,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let mut handle = conn.lock_handle().await?;
            if timeout.is_zero() {
                handle.remove_progress_handler();
            } else {
                // Checked every 1,000 virtual-machine steps; `false` interrupts the statement.
                let deadline = Instant::now() + timeout;
                handle.set_progress_handler(1_000, move || Instant::now() < deadline);
            }
            Ok(())
        })
    }

    fn read(row: &SqliteRow, i: usize) -> Result<Value, ColumnError> {
        let raw = row.try_get_raw(i).map_err(ColumnError::Raw)?;
        let storage = raw.type_info().name().to_string();
        // SQLite stores booleans as integers; a column declared BOOLEAN reads back as one.
        let declared_bool = row.columns()[i].type_info().name() == "BOOLEAN";
        Ok(match storage.as_str() {
            "INTEGER" | "BOOLEAN" if declared_bool => Value::Bool(get::<_, i64>(row, i)? != 0),
            "INTEGER" | "BOOLEAN" => Value::Number(get::<_, i64>(row, i)? as f64),
            "REAL" | "NUMERIC" => finite(row, i, get(row, i)?)?,
            "BLOB" => {
                Value::Text(String::from_utf8_lossy(&get::<_, Vec<u8>>(row, i)?).into_owned())
            }
            _ => Value::Text(get(row, i)?),
        })
    }

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for Postgres {
    fn bind_null(query: Query<'_, Self>) -> Query<'_, Self> {
        query.bind(UntypedNull)
    }

    fn bind_json(query: Query<'_, Self>, json: serde_json::Value) -> Query<'_, Self> {
        query.bind(json)
    }

    fn stop_after(
        conn: &mut Self::Connection,
        timeout: Duration,
    ) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            // A session setting: it holds for every later statement on this connection until
            // the next task sets its own.
            sqlx::query("SELECT set_config('statement_timeout', $1, false)")
                .bind(format!("{}ms", timeout.as_millis()))
                .execute(conn)
                .await
                .map(|_| ())
        })
    }

    fn read(row: &PgRow, i: usize) -> Result<Value, ColumnError> {
        let text = Value::Text;
        Ok(match row.columns()[i].type_info().name() {
            "BOOL" => Value::Bool(get(row, i)?),
            "INT2" => Value::Number(get::<_, i16>(row, i)?.into()),
            "INT4" => Value::Number(get::<_, i32>(row, i)?.into()),
            "INT8" => Value::Number(get::<_, i64>(row, i)? as f64),
            "FLOAT4" => finite(row, i, get::<_, f32>(row, i)?.into())?,
            "FLOAT8" => finite(row, i, get(row, i)?)?,
            "NUMERIC" => Value::Number(
                decimal(&get(row, i)?)
                    .ok_or_else(|| out_of_range(row, i, "too large for a number"))?,
            ),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" | "UNKNOWN" => {
                text(get(row, i)?)
            }
            "UUID" => text(get::<_, Uuid>(row, i)?.to_string()),
            "TIMESTAMPTZ" | "TIMESTAMP" => {
                text(timestamp(get(row, i)?).ok_or_else(|| out_of_range(row, i, YEARS))?)
            }
            "DATE" => text(date(get(row, i)?).ok_or_else(|| out_of_range(row, i, YEARS))?),
            "JSON" | "JSONB" => Value::from_json(&get::<_, serde_json::Value>(row, i)?),
            other => {
                return Err(ColumnError::Unreadable {
                    column: row.columns()[i].name().to_string(),
                    ty: other.to_string(),
                });
            }
        })
    }

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

// PostgreSQL sends `timestamp` and `timestamptz` as microseconds, and `date` as days, since
// 2000-01-01 (UTC), the type's largest and smallest values standing for ±infinity. They are
// read as those integers and converted with checked arithmetic: sqlx's chrono and time
// decoders panic on `'infinity'` and on years past chrono's range.

/// 2000-01-01T00:00:00Z in microseconds since the Unix epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

const YEARS: &str = "outside the years -9999 to 9999 that agentc reads";

/// `2024-05-01T10:00:00.5Z`: RFC 3339 in UTC like `now()`, with fractional seconds when
/// there are any; `infinity` and `-infinity` as PostgreSQL writes them.
fn timestamp(micros: i64) -> Option<String> {
    match micros {
        i64::MAX => Some("infinity".into()),
        i64::MIN => Some("-infinity".into()),
        _ => micros
            .checked_add(PG_EPOCH_MICROS)
            .and_then(|unix| jiff::Timestamp::from_microsecond(unix).ok())
            .map(|at| at.to_string()),
    }
}

/// `2024-05-01`; `infinity` and `-infinity` as PostgreSQL writes them.
fn date(days: i32) -> Option<String> {
    match days {
        i32::MAX => Some("infinity".into()),
        i32::MIN => Some("-infinity".into()),
        _ => jiff::Span::new()
            .try_days(days)
            .and_then(|span| jiff::civil::date(2000, 1, 1).checked_add(span))
            .map(|date| date.to_string())
            .ok(),
    }
}

/// A `numeric` as a number, through its decimal text (which Rust's parser rounds
/// correctly); `None` beyond a double's range, rather than infinity.
fn decimal(value: &BigDecimal) -> Option<f64> {
    value
        .to_string()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// A float column's value: both databases' floats hold NaN and infinity, which are not
/// numbers agentc holds.
fn finite<R: Row>(row: &R, i: usize, n: f64) -> Result<Value, ColumnError> {
    if n.is_finite() {
        Ok(Value::Number(n))
    } else {
        Err(out_of_range(
            row,
            i,
            "not a finite number (NaN or infinity)",
        ))
    }
}

fn out_of_range<R: Row>(row: &R, i: usize, why: &'static str) -> ColumnError {
    ColumnError::OutOfRange {
        column: row.columns()[i].name().to_string(),
        why,
    }
}

/// A NULL sent with type OID 0, "unspecified": PostgreSQL infers the column's type, where a
/// typed NULL (`text`) would be refused by an integer column.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(
        &self,
        _: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn timestamps_read_as_rfc3339_in_utc() {
        assert_eq!(timestamp(0).unwrap(), "2000-01-01T00:00:00Z");
        assert_eq!(timestamp(-1).unwrap(), "1999-12-31T23:59:59.999999Z");
        assert_eq!(
            timestamp(848_592_149_500_000).unwrap(),
            "2026-11-21T16:02:29.5Z"
        );
        assert_eq!(timestamp(i64::MAX).unwrap(), "infinity");
        assert_eq!(timestamp(i64::MIN).unwrap(), "-infinity");
        // Year 290000: PostgreSQL has it, a timestamp agentc reads does not.
        assert_eq!(timestamp(9_000_000_000_000_000_000), None);
        assert_eq!(timestamp(i64::MAX - 1), None);
    }

    #[test]
    fn dates_read_as_iso_dates() {
        assert_eq!(date(0).unwrap(), "2000-01-01");
        assert_eq!(date(-730_119).unwrap(), "0001-01-01");
        assert_eq!(date(i32::MAX).unwrap(), "infinity");
        assert_eq!(date(i32::MIN).unwrap(), "-infinity");
        assert_eq!(date(3_000_000), None);
    }

    #[test]
    fn numerics_read_as_the_nearest_number() {
        let number = |text: &str| decimal(&BigDecimal::from_str(text).unwrap());
        assert_eq!(number("12.50"), Some(12.5));
        assert_eq!(number("-0.001"), Some(-0.001));
        assert_eq!(number("0.1"), Some(0.1));
        assert_eq!(number("1e300"), Some(1e300));
        assert_eq!(
            number("123456789012345678901234567890.125"),
            Some(1.2345678901234568e29)
        );
        assert_eq!(number("1e400"), None);
    }

    /// The sentence names the column and says how to cast it, as one line.
    #[test]
    fn an_unreadable_column_type_says_how_to_cast_it() {
        let error = ColumnError::Unreadable {
            column: "at".into(),
            ty: "INTERVAL".into(),
        };
        assert_eq!(
            error.to_string(),
            "column `at` has type INTERVAL, which agentc does not read: cast it in the query \
             (`at::text`, `at::float8`)"
        );
    }
}
