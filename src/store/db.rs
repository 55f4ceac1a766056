//! The two databases a store can live in, behind one small interface: SQLite, a file on one
//! machine (the default), and PostgreSQL, a server that a team's machines share.
//!
//! Statements are written once, in the SQL both speak: `?1` placeholders (rewritten to `$1`
//! for PostgreSQL), `INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`, integers as 64-bit,
//! instants as RFC 3339 text in UTC (they sort as text). Each is prepared once per
//! connection. Only the schema's DDL differs by dialect, and one migration text is rendered for
//! each (`migrate::render`). Values cross the interface as [`Value`]s,
//! typed even when null, since PostgreSQL checks a parameter's type against its column.

use std::collections::HashMap;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(Some(i64::from(v)))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_string()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}

impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Value {
        Value::Text(v.clone())
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_string))
    }
}

/// The parameters of a statement: `vals![a, b, c]`.
macro_rules! vals {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::db::Value::from($v)),*][..]
    };
}
pub(crate) use vals;

/// Rows per statement when many are written: for PostgreSQL every statement is a round trip
/// to the server. A few thousand parameters, well within both databases' limits.
pub const BATCH: usize = 250;

/// The `VALUES` of `count` rows of `width` parameters each, numbered from `first`: each row as
/// `row` writes it from the number of its first parameter.
pub fn tuples(count: usize, first: usize, width: usize, row: impl Fn(usize) -> String) -> String {
    (0..count).map(|i| row(first + i * width)).collect::<Vec<_>>().join(", ")
}

/// A row read, its columns in the order the statement selects them.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        self.opt_int(i)?.ok_or(DbError::Column(i, "is null, not an integer"))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(Value::Text(None)) => Ok(None),
            Some(Value::Text(Some(_))) => Err(DbError::Column(i, "is text, not an integer")),
            None => Err(DbError::Column(i, "is not selected")),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, DbError> {
        self.opt_text(i)?.ok_or(DbError::Column(i, "is null, not text"))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            Some(Value::Int(None)) => Ok(None),
            Some(Value::Int(Some(_))) => Err(DbError::Column(i, "is an integer, not text")),
            None => Err(DbError::Column(i, "is not selected")),
        }
    }
}

/// What went wrong in the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("column {0} {1}")]
    Column(usize, &'static str),
    #[error("the statement returned no row")]
    NoRow,
    /// A blob the transaction's rows name could not be written (see `Recorded::seal`).
    #[error("cannot keep the run's evidence beside the store: {0}")]
    Evidence(std::io::Error),
}

/// A PostgreSQL error with the server's own words, when it sent some.
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{}: {}{}",
            db.severity(),
            db.message(),
            db.hint().map(|h| format!(" ({h})")).unwrap_or_default()
        ),
        // The cause ("connection refused") is the source, not the message.
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl DbError {
    /// Whether retrying the transaction may succeed: PostgreSQL broke a deadlock between two
    /// machines' commits, or could not serialise them.
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Postgres(e) if e.code().is_some_and(|c| {
            *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED || *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
        }))
    }

    /// A PostgreSQL lock was not had within the transaction's `lock_timeout`.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, DbError::Postgres(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE))
    }

    /// The SQLite error code, for hints.
    pub fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            DbError::Sqlite(e) => e.sqlite_error_code(),
            _ => None,
        }
    }
}

/// Where statements run: a connection, or a transaction on one.
pub trait Exec {
    /// Runs a statement; how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize, DbError>;
    /// Runs a query; all its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row, which must exist.
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or(DbError::NoRow)
    }
}

/// A connection to one of the two databases.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Pg>),
}

/// A PostgreSQL connection and the statements prepared on it.
pub struct Pg {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl Pg {
    pub fn new(client: postgres::Client) -> Pg {
        Pg {
            client,
            statements: HashMap::new(),
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Sqlite(_) => "Conn::Sqlite",
            Conn::Postgres(_) => "Conn::Postgres",
        })
    }
}

/// A transaction, committed by [`Tx::commit`] and rolled back if dropped.
pub enum Tx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Postgres {
        tx: postgres::Transaction<'a>,
        statements: &'a mut HashMap<String, postgres::Statement>,
    },
}

impl Conn {
    /// A transaction that, in SQLite, takes the write lock at once (`BEGIN IMMEDIATE`): for
    /// reading a value and writing on it with no other writer in between (a migration).
    pub fn transaction_immediate(&mut self) -> Result<Tx<'_>, DbError> {
        match self {
            Conn::Sqlite(c) => Ok(Tx::Sqlite(c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)),
            Conn::Postgres(_) => self.transaction(),
        }
    }

    pub fn transaction(&mut self) -> Result<Tx<'_>, DbError> {
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(c.transaction()?),
            Conn::Postgres(pg) => {
                let Pg { client, statements } = &mut **pg;
                Tx::Postgres {
                    tx: client.transaction()?,
                    statements,
                }
            }
        })
    }

    /// Runs several statements separated by `;`, without parameters (a migration).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Postgres(pg) => pg.client.batch_execute(sql)?,
        }
        Ok(())
    }
}

impl Tx<'_> {
    pub fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(tx) => tx.commit()?,
            Tx::Postgres { tx, .. } => tx.commit()?,
        }
        Ok(())
    }

    /// Runs several statements separated by `;`, without parameters (a migration).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(tx) => tx.execute_batch(sql)?,
            Tx::Postgres { tx, .. } => tx.batch_execute(sql)?,
        }
        Ok(())
    }
}

impl Exec for Conn {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        match self {
            Conn::Sqlite(c) => sqlite_execute(c, sql, params),
            Conn::Postgres(pg) => pg_execute(&mut pg.client, &mut pg.statements, sql, params),
        }
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Sqlite(c) => sqlite_query(c, sql, params),
            Conn::Postgres(pg) => pg_query(&mut pg.client, &mut pg.statements, sql, params),
        }
    }
}

impl Exec for Tx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<usize, DbError> {
        match self {
            Tx::Sqlite(tx) => sqlite_execute(tx, sql, params),
            Tx::Postgres { tx, statements } => pg_execute(tx, statements, sql, params),
        }
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        match self {
            Tx::Sqlite(tx) => sqlite_query(tx, sql, params),
            Tx::Postgres { tx, statements } => pg_query(tx, statements, sql, params),
        }
    }
}

fn pg_execute(
    c: &mut impl postgres::GenericClient,
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
    params: &[Value],
) -> Result<usize, DbError> {
    let stmt = prepared(statements, sql, |q| c.prepare(q))?;
    Ok(c.execute(&stmt, &pg_params(params))? as usize)
}

fn pg_query(
    c: &mut impl postgres::GenericClient,
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, DbError> {
    let stmt = prepared(statements, sql, |q| c.prepare(q))?;
    c.query(&stmt, &pg_params(params))?.iter().map(pg_row).collect()
}

fn sqlite_execute(c: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<usize, DbError> {
    let mut stmt = c.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(params))?)
}

fn sqlite_query(c: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
    let mut stmt = c.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        (0..columns)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(v) => Value::Int(Some(v)),
                    rusqlite::types::ValueRef::Null => Value::Text(None),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
                    rusqlite::types::ValueRef::Real(v) => Value::Int(Some(v as i64)),
                    rusqlite::types::ValueRef::Blob(b) => Value::Text(Some(String::from_utf8_lossy(b).into_owned())),
                })
            })
            .collect::<rusqlite::Result<Vec<Value>>>()
            .map(Row)
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<Row>>>()?)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// The statement prepared for `sql` on this connection, preparing it the first time: `?N`
/// placeholders become PostgreSQL's `$N`.
fn prepared(
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
    prepare: impl FnOnce(&str) -> Result<postgres::Statement, postgres::Error>,
) -> Result<postgres::Statement, DbError> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let stmt = prepare(&dollar_placeholders(sql))?;
    statements.insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

/// `?1` → `$1`, outside string literals.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
}

/// A PostgreSQL row as values: integers of any width as 64-bit, booleans as 0 or 1, text as
/// text; the schema uses nothing else.
fn pg_row(row: &postgres::Row) -> Result<Row, DbError> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        out.push(if *ty == Type::INT8 {
            Value::Int(row.try_get::<_, Option<i64>>(i)?)
        } else if *ty == Type::INT4 {
            Value::Int(row.try_get::<_, Option<i32>>(i)?.map(i64::from))
        } else if *ty == Type::INT2 {
            Value::Int(row.try_get::<_, Option<i16>>(i)?.map(i64::from))
        } else if *ty == Type::BOOL {
            Value::Int(row.try_get::<_, Option<bool>>(i)?.map(i64::from))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            Value::Text(row.try_get::<_, Option<String>>(i)?)
        } else {
            return Err(DbError::Column(i, "is of a type the store does not use"));
        });
    }
    Ok(Row(out))
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // `accepts` cannot see which variant comes: the value's own type is checked here, so
        // an integer is never sent as a text column's bytes, nor text as an integer's.
        match self {
            Value::Int(v) if <i64 as postgres::types::ToSql>::accepts(ty) => v.to_sql(ty, out),
            Value::Text(v) if <&str as postgres::types::ToSql>::accepts(ty) => v.as_deref().to_sql(ty, out),
            _ => Err(format!("{self:?} for a parameter of type {ty}").into()),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <i64 as postgres::types::ToSql>::accepts(ty) || <&str as postgres::types::ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_literals() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', x FROM t WHERE a = ?1 AND b IN ('new', 'open') AND c = ?12"),
            "SELECT '?1', x FROM t WHERE a = $1 AND b IN ('new', 'open') AND c = $12"
        );
    }

    #[test]
    fn sqlite_values_round_trip_typed_and_null() {
        let mut c = Conn::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.batch("CREATE TABLE t (i INTEGER, s TEXT)").unwrap();
        c.execute(
            "INSERT INTO t VALUES (?1, ?2), (?3, ?4)",
            vals![7i64, "a", None::<i64>, None::<String>],
        )
        .unwrap();
        let rows = c.query("SELECT i, s FROM t ORDER BY i NULLS LAST", &[]).unwrap();
        assert_eq!((rows[0].int(0).unwrap(), rows[0].text(1).unwrap().as_str()), (7, "a"));
        assert_eq!((rows[1].opt_int(0).unwrap(), rows[1].opt_text(1).unwrap()), (None, None));
        assert!(rows[1].int(0).is_err());
    }
}
