//! The transaction lifecycle writes run in. On PostgreSQL it is sqlx's own
//! transaction behind sea-orm's `ConnectionTrait`, so the rows a large
//! write adds can go in by `COPY … FROM STDIN` on the transaction's
//! connection (sea-orm keeps the connection under its `DatabaseTransaction`
//! private, and `COPY` needs it); on SQLite it is sea-orm's transaction.
//! Every sea-orm query and mutation runs unchanged on either.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
    sea_query::Value,
    sqlx::{
        self, Arguments, AssertSqlSafe,
        postgres::{PgArguments, Postgres},
    },
};
use tokio::sync::Mutex;

/// A write transaction; dropped without [`WriteTxn::commit`], it rolls back.
pub enum WriteTxn {
    Orm(DatabaseTransaction),
    Postgres(Mutex<sqlx::Transaction<'static, Postgres>>),
}

impl std::fmt::Debug for WriteTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Orm(_) => "WriteTxn::Orm",
            Self::Postgres(_) => "WriteTxn::Postgres",
        })
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

impl WriteTxn {
    /// Begins a write: on SQLite with the write lock taken at `BEGIN`
    /// (`chiso_runtime::db::begin_write`), on PostgreSQL on a connection of
    /// sea-orm's own pool.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        if db.get_database_backend() == DbBackend::Postgres {
            let txn = db
                .get_postgres_connection_pool()
                .begin()
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
            Ok(Self::Postgres(Mutex::new(txn)))
        } else {
            Ok(Self::Orm(chiso_runtime::db::begin_write(db).await?))
        }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(txn) => txn.commit().await,
            Self::Postgres(txn) => txn.into_inner().commit().await.map_err(exec_err),
        }
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Orm(txn) => txn.rollback().await,
            Self::Postgres(txn) => txn.into_inner().rollback().await.map_err(exec_err),
        }
    }

    /// Runs `statement` (a `COPY … FROM STDIN`) with its input sent in the
    /// pieces given; a piece that fails aborts the copy with its error.
    /// `None` when the database is not PostgreSQL.
    pub async fn copy_in<I>(&self, statement: &str, pieces: I) -> Result<Option<u64>, DbErr>
    where
        I: IntoIterator<Item = Result<Vec<u8>, DbErr>>,
    {
        let Self::Postgres(txn) = self else {
            return Ok(None);
        };
        let mut txn = txn.lock().await;
        let mut copy = txn.copy_in_raw(statement).await.map_err(exec_err)?;
        for piece in pieces {
            let sent = match piece {
                Ok(piece) => copy.send(piece).await.map(|_| ()).map_err(exec_err),
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                // Never `finish`: the server would take the rows sent so
                // far as the whole input. The transaction is lost either
                // way; the abort puts the connection in order for the rollback.
                let _ = copy.abort("failed to encode or send the rows").await;
                return Err(e);
            }
        }
        copy.finish().await.map(Some).map_err(exec_err)
    }
}

/// A statement's values bound as sea-orm's own sqlx driver binds them.
fn arguments(stmt: &Statement) -> Result<PgArguments, DbErr> {
    let mut args = PgArguments::default();
    let Some(values) = &stmt.values else {
        return Ok(args);
    };
    for value in &values.0 {
        let added = match value.clone() {
            Value::Bool(v) => args.add(v),
            Value::TinyInt(v) => args.add(v.map(i16::from)),
            Value::SmallInt(v) => args.add(v),
            Value::Int(v) => args.add(v),
            Value::BigInt(v) => args.add(v),
            Value::TinyUnsigned(v) => args.add(v.map(i16::from)),
            Value::SmallUnsigned(v) => args.add(v.map(i32::from)),
            Value::Unsigned(v) => args.add(v.map(i64::from)),
            // `LIMIT` and `OFFSET` are bound as u64.
            Value::BigUnsigned(v) => args.add(
                v.map(i64::try_from)
                    .transpose()
                    .map_err(|e| DbErr::Custom(format!("write transaction: {e}")))?,
            ),
            Value::Float(v) => args.add(v),
            Value::Double(v) => args.add(v),
            Value::String(v) => args.add(v),
            Value::Char(v) => args.add(v.map(String::from)),
            Value::Bytes(v) => args.add(v),
            Value::Json(v) => args.add(v.map(|j| sqlx::types::Json(*j))),
            Value::ChronoDate(v) => args.add(v),
            Value::ChronoTime(v) => args.add(v),
            Value::ChronoDateTime(v) => args.add(v),
            Value::ChronoDateTimeUtc(v) => args.add(v),
            Value::ChronoDateTimeWithTimeZone(v) => args.add(v),
            Value::Uuid(v) => args.add(v),
            other => {
                return Err(DbErr::Custom(format!(
                    "write transaction: cannot bind {other:?}"
                )));
            }
        };
        added.map_err(|e| DbErr::Custom(format!("write transaction: binding a value: {e}")))?;
    }
    Ok(args)
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Orm(txn) => txn.get_database_backend(),
            Self::Postgres(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(txn) => txn.execute_raw(stmt).await,
            Self::Postgres(txn) => {
                let args = arguments(&stmt)?;
                let mut txn = txn.lock().await;
                sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), args)
                    .execute(&mut **txn)
                    .await
                    .map(ExecResult::from)
                    .map_err(exec_err)
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(txn) => txn.execute_unprepared(sql).await,
            Self::Postgres(txn) => {
                let mut txn = txn.lock().await;
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(&mut **txn)
                    .await
                    .map(ExecResult::from)
                    .map_err(exec_err)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Orm(txn) => txn.query_one_raw(stmt).await,
            Self::Postgres(txn) => {
                let args = arguments(&stmt)?;
                let mut txn = txn.lock().await;
                sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), args)
                    .fetch_optional(&mut **txn)
                    .await
                    .map(|row| row.map(QueryResult::from))
                    .map_err(query_err)
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Orm(txn) => txn.query_all_raw(stmt).await,
            Self::Postgres(txn) => {
                let args = arguments(&stmt)?;
                let mut txn = txn.lock().await;
                sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), args)
                    .fetch_all(&mut **txn)
                    .await
                    .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                    .map_err(query_err)
            }
        }
    }
}

/// Bytes of `COPY` data sent at a time: the rows are encoded while the
/// server parses the previous piece, and a table's rows are never held
/// encoded whole.
const COPY_PIECE: usize = 256 * 1024;

/// PostgreSQL's binary `COPY` signature, flags and header extension length.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Days and microseconds count from here in PostgreSQL's binary formats.
const PG_EPOCH_UNIX_SECONDS: i64 = 946_684_800;

/// One cell in PostgreSQL's binary `COPY` format: its length (-1: NULL)
/// and its value in the column type's binary form. The column type follows
/// from the value's kind as sea-orm binds it (`i32` into `integer`, `i64`
/// into `bigint`, `String` into `varchar`/`text`, …); a mismatch makes the
/// server refuse the whole `COPY`, never store a wrong value.
fn encode_cell(out: &mut Vec<u8>, value: Value) -> Result<(), DbErr> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), DbErr> {
        let len = i32::try_from(bytes.len())
            .map_err(|_| DbErr::Custom("copy: a value over 2 GiB".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
        Ok(())
    }
    const NULL: [u8; 4] = (-1i32).to_be_bytes();
    match value {
        Value::Bool(Some(b)) => put(out, &[u8::from(b)]),
        Value::SmallInt(Some(n)) => put(out, &n.to_be_bytes()),
        Value::Int(Some(n)) => put(out, &n.to_be_bytes()),
        Value::BigInt(Some(n)) => put(out, &n.to_be_bytes()),
        Value::String(Some(s)) => put(out, s.as_bytes()),
        Value::Bytes(Some(b)) => put(out, &b),
        Value::ChronoDate(Some(d)) => {
            let days = d.signed_duration_since(pg_epoch().date_naive()).num_days();
            let days = i32::try_from(days)
                .map_err(|_| DbErr::Custom(format!("copy: date {d} out of range")))?;
            put(out, &days.to_be_bytes())
        }
        Value::ChronoDateTimeUtc(Some(t)) => {
            let micros = t
                .signed_duration_since(pg_epoch())
                .num_microseconds()
                .ok_or_else(|| DbErr::Custom(format!("copy: instant {t} out of range")))?;
            put(out, &micros.to_be_bytes())
        }
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::Bytes(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None) => {
            out.extend_from_slice(&NULL);
            Ok(())
        }
        other => Err(DbErr::Custom(format!("copy: cannot encode {other:?}"))),
    }
}

fn pg_epoch() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(PG_EPOCH_UNIX_SECONDS, 0).expect("2000-01-01 is in range")
}

/// Inserts `rows` with one binary `COPY` on PostgreSQL, every column the
/// first row sets (a column left unset takes its default, as the audit
/// log's id does). Returns the rows back when the transaction is not on
/// PostgreSQL, for the caller to insert another way.
pub async fn copy_rows<A>(txn: &WriteTxn, rows: Vec<A>) -> Result<Option<Vec<A>>, DbErr>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::{EntityName, EntityTrait, IdenStatic, Iterable};
    if !matches!(txn, WriteTxn::Postgres(_)) {
        return Ok(Some(rows));
    }
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| first.get(*c).into_value().is_some())
        .collect();
    let count = i16::try_from(columns.len())
        .map_err(|_| DbErr::Custom("copy: too many columns".into()))?
        .to_be_bytes();
    let names: Vec<String> = columns
        .iter()
        .map(|c| format!("\"{}\"", c.as_str()))
        .collect();
    let table = A::Entity::default().table_name().to_owned();
    let statement = format!(
        "COPY \"{table}\" ({}) FROM STDIN (FORMAT binary)",
        names.join(", ")
    );

    // Encoded lazily, a piece at a time, while the server takes the last.
    let mut rows = rows.into_iter();
    let mut started = false;
    let mut ended = false;
    let pieces = std::iter::from_fn(|| {
        if ended {
            return None;
        }
        let mut piece = Vec::with_capacity(COPY_PIECE + 4096);
        if !std::mem::replace(&mut started, true) {
            piece.extend_from_slice(COPY_HEADER);
        }
        while piece.len() < COPY_PIECE {
            let Some(mut row) = rows.next() else {
                // The trailer: a row of -1 columns.
                piece.extend_from_slice(&(-1i16).to_be_bytes());
                ended = true;
                break;
            };
            piece.extend_from_slice(&count);
            for c in &columns {
                let encoded = match row.take(*c).into_value() {
                    Some(value) => encode_cell(&mut piece, value),
                    None => Err(DbErr::Custom(format!(
                        "copy into {table}: a row leaves {} unset",
                        c.as_str()
                    ))),
                };
                if let Err(e) = encoded {
                    ended = true;
                    return Some(Err(e));
                }
            }
        }
        Some(Ok(piece))
    });
    txn.copy_in(&statement, pieces).await?;
    Ok(None)
}
