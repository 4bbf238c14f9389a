//! The message log's durable store: SQLite by default, PostgreSQL by config,
//! written by one background task that batches rows into transactions so that
//! logging never sits on the gateway's hot path.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no
//! database). The schema lives twice, in `migrations/sqlite` and
//! `migrations/postgres`, because the two disagree on the binary column type
//! and on auto-numbered keys; the SQL in this file is the dialect they share.
//!
//! Column encodings (both stores):
//! - times are integer unix microseconds, UTC (`received_at_us`, `duration_us`);
//! - `signatures` is the protobuf encoding of [`StoredSignatures`]: the encoded
//!   `egov.v1.Signature`s without their certificate chains, and each chain as
//!   the SHA-256 digests of its certificates, whose DER is stored once in the
//!   `certificate` table (see [`super::certificates`]); `protoc --decode_raw`
//!   reads it;
//! - `signers` is a JSON array of certificate subjects, as text;
//! - `body` is NULL when the route keeps only `body_sha256`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{
    Arguments, AssertSqlSafe, ColumnIndex, Database, Decode, Encode, IntoArguments, QueryBuilder,
    Row, SqlSafeStr, SqlStr, Type,
};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::certificates::{self, Digest, Known, StoredSignatures};
use super::record::{Direction, LogRecord};

/// How many appended records may wait for the writer before `append` waits:
/// over a second of the target load, so bursts and a slow commit are absorbed.
const CHANNEL_CAPACITY: usize = 16_384;

/// The most records the writer commits in one transaction.
const MAX_BATCH: usize = 500;

/// How long the writer keeps gathering after a batch's first record.
const MAX_BATCH_DELAY: Duration = Duration::from_millis(10);

/// Rows per INSERT statement. A batch is cut into statements of at most this
/// many rows, so there are at most this many distinct INSERT texts, all of
/// which fit the connection's prepared-statement cache (100 by default); 50
/// rows of 18 columns stay far under both stores' bind-parameter limits.
const ROWS_PER_STATEMENT: usize = 50;

/// The most message ids one replay-claim transaction inserts. Claims are
/// grouped only from those already waiting (no timer): an idle gateway
/// commits each alone, a busy one commits what queued during the last commit.
const MAX_CLAIM_BATCH: usize = 256;

/// How often the replay file's write-ahead log is checkpointed into it, off
/// the admission path (see [`run_checkpointer`]).
const REPLAY_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// How often the writer tries a batch before giving it up as lost.
const WRITE_ATTEMPTS: u32 = 4;

/// The pause before the first retry; it quadruples on each later one.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How long a SQLite connection waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a query waits for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Pooled connections for a file or server database: one for the writer, the
/// rest for concurrent readers (WAL lets SQLite readers run beside the writer).
const MAX_CONNECTIONS: u32 = 8;

/// Expands to the stored columns in the order every query uses.
macro_rules! columns {
    () => {
        "message_id, correlation_id, in_reply_to, service_id, sender, receiver, message_type, \
         channel, direction, status_code, status_message, header, body, body_sha256, \
         signatures, signers, received_at_us, duration_us"
    };
}

const INSERT: &str = concat!("INSERT INTO message_log (", columns!(), ") ");

const BY_MESSAGE_ID: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM message_log WHERE message_id = $1 ORDER BY id"
);

const BY_CORRELATION_ID: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM message_log WHERE correlation_id = $1 ORDER BY received_at_us, id"
);

/// The newest rows matching the console's filters; `''` matches any value.
const RECENT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM message_log WHERE ($1 = '' OR service_id = $1) \
     AND ($2 = '' OR sender = $2 OR receiver = $2) \
     AND ($3 = '' OR status_code = $3) AND ($4 = '' OR correlation_id = $4) \
     ORDER BY received_at_us DESC, id DESC LIMIT $5"
);

/// Rows per service, direction and status code since a time.
const COUNTS_SINCE: &str = "SELECT service_id, direction, status_code, COUNT(*) FROM message_log \
     WHERE received_at_us >= $1 \
     GROUP BY service_id, direction, status_code ORDER BY service_id, direction, status_code";

/// Which rows the operator console lists; an empty field matches every row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct RecentFilter {
    /// The catalogue service id.
    pub service: String,
    /// A system, as sender or receiver.
    pub system: String,
    /// The status code the gateway gave.
    pub status: String,
    /// The exchange's correlation id.
    pub correlation_id: String,
}

/// How many hops of one service, one way, got one status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCount {
    /// The catalogue service id.
    pub service_id: String,
    /// Which way the hops crossed: INBOUND rows count messages taken in, OUTBOUND ones
    /// carry a target's failure.
    pub direction: Direction,
    /// The status code.
    pub status_code: String,
    /// How many messages.
    pub count: i64,
}

/// What failed in the message log.
#[derive(Debug, thiserror::Error)]
pub enum MessageLogError {
    /// The database URL names a store the log does not support.
    #[error(
        "unsupported message log database url scheme {scheme:?}: expected sqlite: or postgres://"
    )]
    UnsupportedUrl {
        /// The URL's scheme (never the whole URL, which may hold a password).
        scheme: String,
    },
    /// The SQLite file's directory could not be created.
    #[error("cannot create the message log directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or reached.
    #[error("cannot connect to the message log database {target}")]
    Connect {
        /// The SQLite file or the PostgreSQL `host:port/database`, never a password.
        target: String,
        /// Why it failed.
        #[source]
        source: sqlx::Error,
    },
    /// The schema migrations failed.
    #[error("cannot migrate the message log schema")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A read query failed.
    #[error("message log query failed")]
    Query(#[source] sqlx::Error),
    /// A stored row does not decode into a record.
    #[error("message log row for message {message_id:?} has a corrupt {column}: {reason}")]
    Corrupt {
        /// The row's message id.
        message_id: String,
        /// The column that did not decode.
        column: &'static str,
        /// Why.
        reason: String,
    },
    /// Batches were given up after repeated write failures since the last flush.
    #[error("message log lost {rows} rows after repeated write failures: {reason}")]
    Lost {
        /// How many rows were not stored.
        rows: u64,
        /// The last write error.
        reason: String,
    },
    /// The background writer is gone, so nothing more can be stored.
    #[error("message log writer stopped")]
    WriterStopped,
    /// The transaction holding this message id's replay claim failed.
    #[error("message id claim failed: {reason}")]
    Claim {
        /// The database's error, shared by every claim of the transaction.
        reason: String,
    },
}

/// The gateway's durable message log; cheap to clone, all clones share one writer.
#[derive(Debug, Clone)]
pub struct MessageLog {
    backend: Backend,
    /// Where the replay table lives: the log's own store, except for a SQLite
    /// file, whose replay table is a file of its own (see [`replay_file`]).
    replay: Backend,
    commands: mpsc::Sender<Command>,
    claims: mpsc::Sender<Claim>,
}

/// One message id waiting for the claimer's transaction, and who to answer.
#[derive(Debug)]
struct Claim {
    message_id: String,
    seen_at_us: i64,
    answer: oneshot::Sender<Result<bool, MessageLogError>>,
}

/// The connection pool of whichever store the URL chose.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What travels to the writer: records and flush requests share one channel,
/// so a flush is answered only after everything appended before it.
#[derive(Debug)]
enum Command {
    /// Boxed so every channel slot is pointer-sized, not record-sized.
    Append(Box<LogRecord>),
    Flush(oneshot::Sender<Result<(), MessageLogError>>),
}

impl MessageLog {
    /// Opens the store at `database_url` (`sqlite://…`, `sqlite::memory:` or
    /// `postgres://…`), applies pending migrations and starts the writer task.
    pub async fn connect(database_url: &str) -> Result<MessageLog, MessageLogError> {
        let (backend, replay) = if database_url.starts_with("sqlite:") {
            let (log, replay) = connect_sqlite(database_url).await?;
            (Backend::Sqlite(log), Backend::Sqlite(replay))
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            let options = PgConnectOptions::from_str(database_url).map_err(|source| {
                MessageLogError::Connect {
                    target: "postgres".to_owned(),
                    source,
                }
            })?;
            let target = postgres_target(&options);
            let pool = PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|source| MessageLogError::Connect { target, source })?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(MessageLogError::Migrate)?;
            (Backend::Postgres(pool.clone()), Backend::Postgres(pool))
        } else {
            let scheme = database_url
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            return Err(MessageLogError::UnsupportedUrl { scheme });
        };
        let (commands, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        tokio::spawn(run_writer(backend.clone(), receiver));
        let (claims, claim_receiver) = mpsc::channel(CHANNEL_CAPACITY);
        tokio::spawn(run_claimer(replay.clone(), claim_receiver));
        if let Backend::Sqlite(pool) = &replay
            && !in_memory(database_url)
        {
            tokio::spawn(run_checkpointer(pool.clone(), claims.downgrade()));
        }
        Ok(MessageLog {
            backend,
            replay,
            commands,
            claims,
        })
    }

    /// Queues a record for the writer, waiting only while the queue is full.
    ///
    /// The record is stored once the writer commits its batch (within about
    /// 10 ms); call [`MessageLog::flush`] to wait for that.
    pub async fn append(&self, record: LogRecord) -> Result<(), MessageLogError> {
        self.commands
            .send(Command::Append(Box::new(record)))
            .await
            .map_err(|_| MessageLogError::WriterStopped)
    }

    /// Waits until every record appended before this call is committed.
    ///
    /// Fails with [`MessageLogError::Lost`] if the writer gave up any batch
    /// since the previous flush was answered.
    pub async fn flush(&self) -> Result<(), MessageLogError> {
        let (done, answer) = oneshot::channel();
        self.commands
            .send(Command::Flush(done))
            .await
            .map_err(|_| MessageLogError::WriterStopped)?;
        answer.await.map_err(|_| MessageLogError::WriterStopped)?
    }

    /// Returns the committed rows of one message id (its INBOUND and OUTBOUND
    /// hops), in insertion order; an unknown id gives an empty list.
    pub async fn by_message_id(&self, message_id: &str) -> Result<Vec<LogRecord>, MessageLogError> {
        self.select(BY_MESSAGE_ID, message_id).await
    }

    /// Returns the committed rows of one exchange, ordered by the time the
    /// gateway received them, then by insertion; an unknown id gives an empty list.
    pub async fn by_correlation_id(
        &self,
        correlation_id: &str,
    ) -> Result<Vec<LogRecord>, MessageLogError> {
        self.select(BY_CORRELATION_ID, correlation_id).await
    }

    /// Returns the newest `limit` rows matching `filter`, newest first.
    pub async fn recent(
        &self,
        filter: &RecentFilter,
        limit: u32,
    ) -> Result<Vec<LogRecord>, MessageLogError> {
        let keys = [
            &filter.service,
            &filter.system,
            &filter.status,
            &filter.correlation_id,
        ]
        .map(|key| without_nul(key.trim()).into_owned());
        let limit = i64::from(limit);
        macro_rules! run {
            ($pool:expr) => {
                sqlx::query(RECENT)
                    .bind(&keys[0])
                    .bind(&keys[1])
                    .bind(&keys[2])
                    .bind(&keys[3])
                    .bind(limit)
                    .fetch_all($pool)
                    .await
                    .map_err(MessageLogError::Query)?
                    .iter()
                    .map(decode_row)
                    .collect::<Result<Vec<_>, _>>()?
            };
        }
        let rows = match &self.backend {
            Backend::Sqlite(pool) => run!(pool),
            Backend::Postgres(pool) => run!(pool),
        };
        self.with_chains(rows).await
    }

    /// Returns how many messages each service took in since `since`, per status code.
    pub async fn counts_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<ServiceCount>, MessageLogError> {
        let since = i64::try_from(since.unix_timestamp_nanos() / 1000).unwrap_or(i64::MIN);
        let rows: Vec<(String, String, String, i64)> = match &self.backend {
            Backend::Sqlite(pool) => sqlx::query_as(COUNTS_SINCE)
                .bind(since)
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?,
            Backend::Postgres(pool) => sqlx::query_as(COUNTS_SINCE)
                .bind(since)
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?,
        };
        Ok(rows
            .into_iter()
            .map(|(service_id, direction, status_code, count)| ServiceCount {
                service_id,
                direction: if direction == "OUTBOUND" {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                },
                status_code,
                count,
            })
            .collect())
    }

    async fn select(
        &self,
        sql: &'static str,
        key: &str,
    ) -> Result<Vec<LogRecord>, MessageLogError> {
        // Stored keys went through the same substitution, so a key with NUL
        // finds what it was stored as instead of failing on PostgreSQL.
        let key = without_nul(key);
        let rows = match &self.backend {
            Backend::Sqlite(pool) => sqlx::query(sql)
                .bind(key.as_ref())
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?
                .iter()
                .map(decode_row)
                .collect::<Result<Vec<_>, _>>()?,
            Backend::Postgres(pool) => sqlx::query(sql)
                .bind(key.as_ref())
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?
                .iter()
                .map(decode_row)
                .collect::<Result<Vec<_>, _>>()?,
        };
        self.with_chains(rows).await
    }

    /// Puts each row's certificate chains back from the `certificate` table,
    /// read in one query per [`ROWS_PER_STATEMENT`] digests.
    async fn with_chains(
        &self,
        rows: Vec<(LogRecord, StoredSignatures)>,
    ) -> Result<Vec<LogRecord>, MessageLogError> {
        let mut wanted = HashSet::new();
        for (_, stored) in &rows {
            certificates::wanted(stored, &mut wanted);
        }
        let wanted: Vec<Digest> = wanted.into_iter().collect();
        let mut found: HashMap<Digest, Vec<u8>> = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = match &self.backend {
                Backend::Sqlite(pool) => certificate_select::<sqlx::Sqlite>(chunk)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
                    .map_err(MessageLogError::Query)?,
                Backend::Postgres(pool) => certificate_select::<sqlx::Postgres>(chunk)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
                    .map_err(MessageLogError::Query)?,
            };
            found.extend(pairs.into_iter().filter_map(|(digest, der)| {
                Digest::try_from(digest.as_slice())
                    .ok()
                    .map(|digest| (digest, der))
            }));
        }
        rows.into_iter()
            .map(|(mut record, stored)| {
                record.signatures = certificates::join(stored, &found).map_err(|reason| {
                    MessageLogError::Corrupt {
                        message_id: record.message_id.clone(),
                        column: "signatures",
                        reason,
                    }
                })?;
                Ok(record)
            })
            .collect()
    }
}

/// A message refused at the gateway's door, as the refusal table keeps it:
/// the digest of its header bytes and the reason, never its body or the ids it
/// claims, since nothing in it was proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalRecord {
    /// SHA-256 of the envelope's header bytes as received.
    pub header_sha256: Vec<u8>,
    /// SYNC or ASYNC.
    pub channel: String,
    /// The refusal's status code.
    pub status_code: String,
    /// The reason, clipped.
    pub status_message: String,
    /// When the gateway received it.
    pub received_at: OffsetDateTime,
}

/// Claims message ids; RETURNING names those this statement inserted.
const CLAIM_MESSAGE_IDS: &str = "INSERT INTO seen_message_id (message_id, seen_at_us) ";
const CLAIM_RETURNING: &str = " ON CONFLICT DO NOTHING RETURNING message_id";

const FORGET_MESSAGE_IDS: &str = "DELETE FROM seen_message_id WHERE seen_at_us < $1";

const INSERT_REFUSAL: &str = "INSERT INTO refused_message \
     (header_sha256, channel, status_code, status_message, received_at_us) \
     VALUES ($1, $2, $3, $4, $5)";

const REFUSALS_BY_HEADER: &str = "SELECT header_sha256, channel, status_code, status_message, \
     received_at_us FROM refused_message WHERE header_sha256 = $1 ORDER BY id";

impl MessageLog {
    /// Records a message id as seen; returns false when it was seen before, by
    /// this gateway or another replica on the same database, before or after a
    /// restart. Admission waits for the answer: the id is committed before it
    /// returns. Claims waiting at the same time share one transaction (group
    /// commit, no added wait), which costs far less per id than one each.
    pub async fn claim_message_id(
        &self,
        message_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, MessageLogError> {
        let (answer, answered) = oneshot::channel();
        self.claims
            .send(Claim {
                message_id: without_nul(message_id).into_owned(),
                seen_at_us: unix_micros(at),
                answer,
            })
            .await
            .map_err(|_| MessageLogError::WriterStopped)?;
        answered.await.map_err(|_| MessageLogError::WriterStopped)?
    }

    /// Forgets message ids seen before `before`; returns how many.
    pub async fn forget_message_ids_before(
        &self,
        before: OffsetDateTime,
    ) -> Result<u64, MessageLogError> {
        Ok(match &self.replay {
            Backend::Sqlite(pool) => sqlx::query(FORGET_MESSAGE_IDS)
                .bind(unix_micros(before))
                .execute(pool)
                .await
                .map_err(MessageLogError::Query)?
                .rows_affected(),
            Backend::Postgres(pool) => sqlx::query(FORGET_MESSAGE_IDS)
                .bind(unix_micros(before))
                .execute(pool)
                .await
                .map_err(MessageLogError::Query)?
                .rows_affected(),
        })
    }

    /// Stores a refusal in the refusal table.
    pub async fn record_refusal(&self, refusal: &RefusalRecord) -> Result<(), MessageLogError> {
        let message = without_nul(&refusal.status_message);
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::query(INSERT_REFUSAL)
                .bind(refusal.header_sha256.as_slice())
                .bind(refusal.channel.as_str())
                .bind(refusal.status_code.as_str())
                .bind(message.as_ref())
                .bind(unix_micros(refusal.received_at))
                .execute(pool)
                .await
                .map(|_| ()),
            Backend::Postgres(pool) => sqlx::query(INSERT_REFUSAL)
                .bind(refusal.header_sha256.as_slice())
                .bind(refusal.channel.as_str())
                .bind(refusal.status_code.as_str())
                .bind(message.as_ref())
                .bind(unix_micros(refusal.received_at))
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .map_err(MessageLogError::Query)
    }

    /// Returns the refusals of envelopes whose header bytes had this SHA-256.
    pub async fn refusals_by_header(
        &self,
        header_sha256: &[u8],
    ) -> Result<Vec<RefusalRecord>, MessageLogError> {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::query(REFUSALS_BY_HEADER)
                .bind(header_sha256)
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?
                .iter()
                .map(decode_refusal)
                .collect(),
            Backend::Postgres(pool) => sqlx::query(REFUSALS_BY_HEADER)
                .bind(header_sha256)
                .fetch_all(pool)
                .await
                .map_err(MessageLogError::Query)?
                .iter()
                .map(decode_refusal)
                .collect(),
        }
    }
}

fn decode_refusal<R>(row: &R) -> Result<RefusalRecord, MessageLogError>
where
    R: Row,
    for<'r> &'r str: ColumnIndex<R>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let corrupt = |column: &'static str, reason: String| MessageLogError::Corrupt {
        message_id: "(refusal)".to_owned(),
        column,
        reason,
    };
    let micros: i64 = row
        .try_get("received_at_us")
        .map_err(|err| corrupt("received_at_us", err.to_string()))?;
    Ok(RefusalRecord {
        header_sha256: row
            .try_get("header_sha256")
            .map_err(|err| corrupt("header_sha256", err.to_string()))?,
        channel: row
            .try_get("channel")
            .map_err(|err| corrupt("channel", err.to_string()))?,
        status_code: row
            .try_get("status_code")
            .map_err(|err| corrupt("status_code", err.to_string()))?,
        status_message: row
            .try_get("status_message")
            .map_err(|err| corrupt("status_message", err.to_string()))?,
        received_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|err| corrupt("received_at_us", err.to_string()))?,
    })
}

/// Names a PostgreSQL database for errors and logs, leaving out credentials.
fn postgres_target(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

/// Opens the log's SQLite store and its replay table's; an in-memory store
/// keeps both in its one connection.
async fn connect_sqlite(database_url: &str) -> Result<(SqlitePool, SqlitePool), MessageLogError> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|source| MessageLogError::Connect {
            target: "sqlite".to_owned(),
            source,
        })?
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL syncs at checkpoints only: a power cut may lose
        // the last commits but never corrupts the file; fsync per commit
        // would cap the writer far below the target rate.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    if in_memory(database_url) {
        // An in-memory database lives as long as one of its connections, and
        // several connections on it would contend on shared-cache table
        // locks: keep exactly one, forever.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        let pool = open_sqlite(pool, options).await?;
        migrate_sqlite(&pool).await?;
        return Ok((pool.clone(), pool));
    }
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| MessageLogError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
    }
    let replay_options = options
        .clone()
        .filename(replay_file(options.get_filename()))
        // No checkpoint inside a claim's commit: [`run_checkpointer`] runs them.
        .pragma("wal_autocheckpoint", "0");
    let log = open_sqlite(
        SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS),
        options,
    )
    .await?;
    migrate_sqlite(&log).await?;
    let replay = open_sqlite(SqlitePoolOptions::new().max_connections(2), replay_options).await?;
    sqlx::migrate!("./migrations/sqlite-replay")
        .run(&replay)
        .await
        .map_err(MessageLogError::Migrate)?;
    move_replay_ids(&log, &replay).await?;
    Ok((log, replay))
}

/// Checkpoints the replay file's write-ahead log every
/// [`REPLAY_CHECKPOINT_EVERY`] until the claimer stops.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its
/// threshold, and a claim's commit is on the admission path: each one held
/// every admission waiting for milliseconds and set the gateway's p99. A
/// passive checkpoint on the pool's other connection waits for no claim and
/// no claim waits for it; the log stays as durable (every claim is in the
/// write-ahead log at its commit), and the write-ahead log restarts from its
/// start once a checkpoint has caught up.
async fn run_checkpointer(replay: SqlitePool, claimer: mpsc::WeakSender<Claim>) {
    let mut every = tokio::time::interval(REPLAY_CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if claimer.upgrade().is_none() {
            return;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&replay)
            .await
        {
            tracing::warn!(error = %err, "checkpointing the replay file failed");
        }
    }
}

/// Whether a SQLite URL names an in-memory database (one connection, no files).
fn in_memory(database_url: &str) -> bool {
    database_url.contains(":memory:") || database_url.contains("mode=memory")
}

/// The replay table's own file beside a SQLite log (`gateway.db` →
/// `gateway.replay.db`). SQLite has one writer per file: with the replay
/// table in the log's file, an admission's claim waited for the log writer's
/// batch, in SQLite's busy handler (sleeps of 1, 2, 5, 10 ms…), which set the
/// gateway's tail latency.
pub fn replay_file(log_file: &std::path::Path) -> PathBuf {
    let mut name = log_file
        .file_stem()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".replay.db");
    log_file.with_file_name(name)
}

async fn open_sqlite(
    pool: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<SqlitePool, MessageLogError> {
    let target = options.get_filename().display().to_string();
    pool.acquire_timeout(ACQUIRE_TIMEOUT)
        // A SQLite connection is a file handle on its own thread; it cannot
        // go stale, and a ping before each use is one more round trip to it.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| MessageLogError::Connect { target, source })
}

async fn migrate_sqlite(pool: &SqlitePool) -> Result<(), MessageLogError> {
    sqlx::migrate!("./migrations/sqlite")
        .run(pool)
        .await
        .map_err(MessageLogError::Migrate)
}

/// Moves the ids a log file written before the replay file existed still
/// holds into the replay file, so an upgrade forgets no id; a no-op after.
async fn move_replay_ids(log: &SqlitePool, replay: &SqlitePool) -> Result<(), MessageLogError> {
    let ids: Vec<(String, i64)> =
        sqlx::query_as("SELECT message_id, seen_at_us FROM seen_message_id")
            .fetch_all(log)
            .await
            .map_err(MessageLogError::Query)?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut transaction = replay.begin().await.map_err(MessageLogError::Query)?;
    for (message_id, seen_at_us) in &ids {
        sqlx::query(
            "INSERT OR IGNORE INTO seen_message_id (message_id, seen_at_us) VALUES ($1, $2)",
        )
        .bind(message_id)
        .bind(seen_at_us)
        .execute(&mut *transaction)
        .await
        .map_err(MessageLogError::Query)?;
    }
    transaction.commit().await.map_err(MessageLogError::Query)?;
    // Deleted only once the replay file has committed them: a crash between
    // the two leaves the ids in both, and the next start moves them again.
    sqlx::query("DELETE FROM seen_message_id")
        .execute(log)
        .await
        .map_err(MessageLogError::Query)?;
    tracing::info!(ids = ids.len(), "replay ids moved to their own file");
    Ok(())
}

/// Rows lost since the last answered flush, reported to the next one.
#[derive(Debug, Default)]
struct Losses {
    rows: u64,
    reason: String,
}

/// Commits replay claims: each transaction takes every claim already waiting
/// (up to [`MAX_CLAIM_BATCH`]) and answers each once it is committed.
async fn run_claimer(backend: Backend, mut claims: mpsc::Receiver<Claim>) {
    let mut batch: Vec<Claim> = Vec::with_capacity(MAX_CLAIM_BATCH);
    let mut held: Option<ClaimConnection> = None;
    let keeps_connection = backend.lends_one_for_claims();
    while let Some(first) = claims.recv().await {
        batch.push(first);
        while batch.len() < MAX_CLAIM_BATCH {
            match claims.try_recv() {
                Ok(claim) => batch.push(claim),
                Err(_) => break,
            }
        }
        // The same id twice in one batch: the statement inserts it once, and
        // only the first claimer may be told it was new.
        let mut distinct = std::collections::HashSet::with_capacity(batch.len());
        let ids: Vec<&Claim> = batch
            .iter()
            .filter(|claim| distinct.insert(claim.message_id.as_str()))
            .collect();
        let inserted = match held.take() {
            Some(connection) => Ok(connection),
            None => ClaimConnection::acquire(&backend).await,
        };
        let inserted = match inserted {
            Ok(mut connection) => {
                let inserted = insert_claims(&mut connection, &ids).await;
                // A connection whose batch failed may be broken: the next
                // batch takes a fresh one from the pool.
                if inserted.is_ok() && keeps_connection {
                    held = Some(connection);
                }
                inserted
            }
            Err(err) => Err(err),
        };
        let mut answered: std::collections::HashSet<String> =
            std::collections::HashSet::with_capacity(batch.len());
        for claim in batch.drain(..) {
            let first = answered.insert(claim.message_id.clone());
            let answer = match &inserted {
                Ok(inserted) => Ok(first && inserted.contains(&claim.message_id)),
                Err(err) => Err(MessageLogError::Claim {
                    reason: err.to_string(),
                }),
            };
            // A claimer that gave up waiting needs no answer.
            let _ = claim.answer.send(answer);
        }
    }
}

/// The claimer's connection, kept from one batch to the next.
///
/// A pooled connection goes back to its pool through a task spawned when it
/// is dropped, and the next batch's acquire, on the admission's path, could
/// wait for that task: at half the closed loop's rate it put 0.6–1 ms on the
/// sender's median.
enum ClaimConnection {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

impl ClaimConnection {
    async fn acquire(backend: &Backend) -> Result<ClaimConnection, sqlx::Error> {
        Ok(match backend {
            Backend::Sqlite(pool) => ClaimConnection::Sqlite(pool.acquire().await?),
            Backend::Postgres(pool) => ClaimConnection::Postgres(pool.acquire().await?),
        })
    }
}

impl Backend {
    /// Whether the claimer may keep a connection: not from an in-memory
    /// database's single connection, which the writer and readers share.
    fn lends_one_for_claims(&self) -> bool {
        match self {
            Backend::Sqlite(pool) => pool.options().get_max_connections() > 1,
            Backend::Postgres(pool) => pool.options().get_max_connections() > 1,
        }
    }
}

/// Inserts the claims' ids in one transaction; returns those it inserted
/// (the others were claimed before).
async fn insert_claims(
    connection: &mut ClaimConnection,
    claims: &[&Claim],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    match connection {
        // One statement commits on its own: no BEGIN and COMMIT round trips
        // to the connection's thread on the admission's path.
        ClaimConnection::Sqlite(connection) => {
            let one_statement = claims.len() <= ROWS_PER_STATEMENT;
            insert_claims_on::<sqlx::Sqlite>(connection, claims, one_statement).await
        }
        ClaimConnection::Postgres(connection) => {
            insert_claims_on::<sqlx::Postgres>(connection, claims, false).await
        }
    }
}

/// Runs the claims' statements on one connection: as one self-committing
/// statement when `one_statement`, else in a transaction of statements of
/// at most [`ROWS_PER_STATEMENT`] rows.
async fn insert_claims_on<DB>(
    connection: &mut DB::Connection,
    claims: &[&Claim],
    one_statement: bool,
) -> Result<std::collections::HashSet<String>, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> String: Encode<'t, DB> + Decode<'t, DB>,
    String: Type<DB>,
    for<'t> i64: Encode<'t, DB>,
    i64: Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let mut inserted = std::collections::HashSet::with_capacity(claims.len());
    if one_statement {
        for row in claim_statement::<DB>(claims)
            .build()
            .fetch_all(&mut *connection)
            .await?
        {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
        return Ok(inserted);
    }
    let mut transaction = sqlx::Connection::begin(connection).await?;
    for chunk in claims.chunks(ROWS_PER_STATEMENT) {
        for row in claim_statement::<DB>(chunk)
            .build()
            .fetch_all(&mut *transaction)
            .await?
        {
            inserted.insert(row.try_get::<String, _>(0)?);
        }
    }
    transaction.commit().await?;
    Ok(inserted)
}

/// Builds one `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING …`.
fn claim_statement<DB>(claims: &[&Claim]) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> String: Encode<'t, DB>,
    String: Type<DB>,
    for<'t> i64: Encode<'t, DB>,
    i64: Type<DB>,
{
    let mut builder = QueryBuilder::new(CLAIM_MESSAGE_IDS);
    builder.push_values(claims, |mut values, claim| {
        values
            .push_bind(claim.message_id.clone())
            .push_bind(claim.seen_at_us);
    });
    builder.push(CLAIM_RETURNING);
    builder
}

/// Gathers commands into batches and commits them until every sender is gone.
async fn run_writer(backend: Backend, mut commands: mpsc::Receiver<Command>) {
    let mut batch: Vec<LogRecord> = Vec::with_capacity(MAX_BATCH);
    let mut waiters: Vec<oneshot::Sender<Result<(), MessageLogError>>> = Vec::new();
    let mut losses = Losses::default();
    let mut known = Known::default();
    while let Some(first) = commands.recv().await {
        let mut flush_now = take(first, &mut batch, &mut waiters);
        let deadline = Instant::now() + MAX_BATCH_DELAY;
        // A flush cuts the wait short: its caller is blocked on this batch.
        while !flush_now && batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, commands.recv()).await {
                Ok(Some(command)) => flush_now = take(command, &mut batch, &mut waiters),
                Ok(None) | Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let rows: Vec<StoredRow> = batch.drain(..).map(StoredRow::from).collect();
            let count = rows.len() as u64;
            if let Err(error) = write_with_retries(&backend, rows, &mut known).await {
                tracing::error!(rows = count, error = %error, "message log batch lost");
                metrics::counter!("gateway_message_log_lost_rows_total").increment(count);
                losses.rows += count;
                losses.reason = error.to_string();
            }
        }
        if !waiters.is_empty() {
            for waiter in waiters.drain(..) {
                let answer = if losses.rows == 0 {
                    Ok(())
                } else {
                    Err(MessageLogError::Lost {
                        rows: losses.rows,
                        reason: losses.reason.clone(),
                    })
                };
                // A caller that stopped waiting needs no answer.
                let _ = waiter.send(answer);
            }
            losses = Losses::default();
        }
    }
    tracing::debug!("message log writer stopped: every handle was dropped");
}

/// Files one command; returns whether it asks for an immediate commit.
fn take(
    command: Command,
    batch: &mut Vec<LogRecord>,
    waiters: &mut Vec<oneshot::Sender<Result<(), MessageLogError>>>,
) -> bool {
    match command {
        Command::Append(record) => {
            batch.push(*record);
            false
        }
        Command::Flush(waiter) => {
            waiters.push(waiter);
            true
        }
    }
}

/// Commits one batch, retrying with growing pauses: a failed transaction
/// rolls back whole, so a retry cannot store a row twice.
async fn write_with_retries(
    backend: &Backend,
    mut rows: Vec<StoredRow>,
    known: &mut Known,
) -> Result<(), sqlx::Error> {
    // Each certificate not known to be stored goes in once, in the rows' transaction.
    let mut new: Vec<(Digest, Vec<u8>)> = Vec::new();
    for certificate in rows.iter_mut().flat_map(|row| row.certificates.drain(..)) {
        if !known.contains(&certificate.0) && !new.iter().any(|seen| seen.0 == certificate.0) {
            new.push(certificate);
        }
    }
    let count = rows.len();
    let inserts = match backend {
        Backend::Sqlite(pool) => Inserts::Sqlite(pool, prepared_inserts(rows)?),
        Backend::Postgres(pool) => Inserts::Postgres(pool, prepared_inserts(rows)?),
    };
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempt = 1;
    loop {
        let started = Instant::now();
        match write_batch(&inserts, &new).await {
            Ok(()) => {
                known.extend(new.iter().map(|certificate| &certificate.0));
                metrics::counter!("gateway_message_log_rows_total").increment(count as u64);
                metrics::histogram!("gateway_message_log_batch_rows").record(count as f64);
                metrics::histogram!("gateway_message_log_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                return Ok(());
            }
            Err(error) if attempt < WRITE_ATTEMPTS => {
                tracing::warn!(
                    rows = count,
                    attempt,
                    error = %error,
                    "message log write failed, retrying"
                );
                tokio::time::sleep(delay).await;
                delay *= 4;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// A batch's INSERT statements, with the pool they run on.
enum Inserts<'a> {
    Sqlite(&'a SqlitePool, Vec<PreparedInsert<sqlx::Sqlite>>),
    Postgres(&'a PgPool, Vec<PreparedInsert<sqlx::Postgres>>),
}

/// Inserts the rows and the new certificates in one transaction, a few
/// multi-row statements long.
async fn write_batch(
    inserts: &Inserts<'_>,
    certificates: &[(Digest, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    match inserts {
        Inserts::Sqlite(pool, inserts) => {
            let mut transaction = pool.begin().await?;
            for chunk in certificates.chunks(ROWS_PER_STATEMENT) {
                certificate_insert::<sqlx::Sqlite>(chunk)
                    .build()
                    .execute(&mut *transaction)
                    .await?;
            }
            for insert in inserts {
                insert.query().execute(&mut *transaction).await?;
            }
            transaction.commit().await
        }
        Inserts::Postgres(pool, inserts) => {
            let mut transaction = pool.begin().await?;
            for chunk in certificates.chunks(ROWS_PER_STATEMENT) {
                certificate_insert::<sqlx::Postgres>(chunk)
                    .build()
                    .execute(&mut *transaction)
                    .await?;
            }
            for insert in inserts {
                insert.query().execute(&mut *transaction).await?;
            }
            transaction.commit().await
        }
    }
}

/// Builds one `INSERT INTO certificate … ON CONFLICT DO NOTHING`: another
/// writer (a replica, or this one before a restart) may have stored it.
fn certificate_insert<DB>(certificates: &[(Digest, Vec<u8>)]) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> Vec<u8>: Encode<'t, DB>,
    Vec<u8>: Type<DB>,
{
    let mut builder = QueryBuilder::new("INSERT INTO certificate (sha256, der) ");
    builder.push_values(certificates, |mut values, (digest, der)| {
        values.push_bind(digest.to_vec()).push_bind(der.clone());
    });
    builder.push(" ON CONFLICT (sha256) DO NOTHING");
    builder
}

/// Builds one `SELECT sha256, der FROM certificate WHERE sha256 IN (…)`.
fn certificate_select<DB>(digests: &[Digest]) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> Vec<u8>: Encode<'t, DB>,
    Vec<u8>: Type<DB>,
{
    let mut builder = QueryBuilder::new("SELECT sha256, der FROM certificate WHERE sha256 IN (");
    let mut list = builder.separated(", ");
    for digest in digests {
        list.push_bind(digest.to_vec());
    }
    builder.push(")");
    builder
}

/// One multi-row `INSERT … VALUES (…), (…)`, built once per batch: the rows'
/// values are moved into the arguments, not copied, and each attempt runs a
/// clone of them (for SQLite, a clone of each value's `Arc`).
struct PreparedInsert<DB: Database> {
    sql: SqlStr,
    arguments: DB::Arguments,
}

impl<DB> PreparedInsert<DB>
where
    DB: Database,
    DB::Arguments: Clone + IntoArguments<DB>,
{
    /// Returns the statement for one attempt, with a clone of its arguments.
    fn query(&self) -> sqlx::query::Query<'_, DB, DB::Arguments> {
        sqlx::query_with(self.sql.clone(), self.arguments.clone())
    }
}

/// Builds the rows' statements, [`ROWS_PER_STATEMENT`] rows each.
fn prepared_inserts<DB>(rows: Vec<StoredRow>) -> Result<Vec<PreparedInsert<DB>>, sqlx::Error>
where
    DB: Database,
    for<'t> String: Encode<'t, DB>,
    String: Type<DB>,
    for<'t> Vec<u8>: Encode<'t, DB>,
    Vec<u8>: Type<DB>,
    for<'t> Option<Vec<u8>>: Encode<'t, DB>,
    Option<Vec<u8>>: Type<DB>,
    for<'t> i64: Encode<'t, DB>,
    i64: Type<DB>,
{
    let mut inserts = Vec::with_capacity(rows.len().div_ceil(ROWS_PER_STATEMENT));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = String::with_capacity(INSERT.len() + ROWS_PER_STATEMENT * 80);
        sql.push_str(INSERT);
        sql.push_str("VALUES ");
        let mut arguments = DB::Arguments::default();
        for (index, row) in rows.by_ref().take(ROWS_PER_STATEMENT).enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            let mut values = Values {
                sql: &mut sql,
                arguments: &mut arguments,
                first: true,
            };
            values
                .bind(row.message_id)?
                .bind(row.correlation_id)?
                .bind(row.in_reply_to)?
                .bind(row.service_id)?
                .bind(row.sender)?
                .bind(row.receiver)?
                .bind(row.message_type)?
                .bind(row.channel)?
                .bind(row.direction)?
                .bind(row.status_code)?
                .bind(row.status_message)?
                .bind(row.header)?
                .bind(row.body)?
                .bind(row.body_sha256)?
                .bind(row.signatures)?
                .bind(row.signers)?
                .bind(row.received_at_us)?
                .bind(row.duration_us)?;
            sql.push(')');
        }
        inserts.push(PreparedInsert {
            sql: AssertSqlSafe(sql).into_sql_str(),
            arguments,
        });
    }
    Ok(inserts)
}

/// One row's values being bound: each adds its argument and its placeholder.
struct Values<'a, DB: Database> {
    sql: &'a mut String,
    arguments: &'a mut DB::Arguments,
    first: bool,
}

impl<DB: Database> Values<'_, DB> {
    fn bind<T>(&mut self, value: T) -> Result<&mut Self, sqlx::Error>
    where
        for<'t> T: Encode<'t, DB> + Type<DB>,
    {
        if !self.first {
            self.sql.push_str(", ");
        }
        self.first = false;
        self.arguments.add(value).map_err(sqlx::Error::Encode)?;
        self.arguments
            .format_placeholder(self.sql)
            .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        Ok(self)
    }
}

/// A record in its stored form, encoded once so retries reuse it.
#[derive(Debug)]
struct StoredRow {
    message_id: String,
    correlation_id: String,
    in_reply_to: String,
    service_id: String,
    sender: String,
    receiver: String,
    message_type: String,
    channel: String,
    direction: String,
    status_code: String,
    status_message: String,
    header: Vec<u8>,
    body: Option<Vec<u8>>,
    body_sha256: Vec<u8>,
    signatures: Vec<u8>,
    signers: String,
    received_at_us: i64,
    duration_us: i64,
    /// The certificates the signatures carried, stored apart by digest.
    certificates: Vec<(Digest, Vec<u8>)>,
}

impl From<LogRecord> for StoredRow {
    fn from(record: LogRecord) -> Self {
        let (signatures, certificates) = certificates::split(record.signatures);
        StoredRow {
            message_id: nul_replaced(record.message_id),
            correlation_id: nul_replaced(record.correlation_id),
            in_reply_to: nul_replaced(record.in_reply_to),
            service_id: nul_replaced(record.service_id),
            sender: nul_replaced(record.sender),
            receiver: nul_replaced(record.receiver),
            message_type: nul_replaced(record.message_type),
            channel: nul_replaced(record.channel),
            direction: record.direction.as_str().to_owned(),
            status_code: nul_replaced(record.status_code),
            status_message: nul_replaced(record.status_message),
            header: Vec::from(record.header),
            body: record.body.map(Vec::from),
            body_sha256: Vec::from(record.body_sha256),
            signatures: signatures.encode_to_vec(),
            // Display of a JSON value cannot fail, unlike serde_json::to_string.
            signers: serde_json::Value::from(record.signers).to_string(),
            received_at_us: unix_micros(record.received_at),
            duration_us: record.duration_us,
            certificates,
        }
    }
}

/// Replaces NUL characters, which PostgreSQL text cannot hold: one such
/// header field would otherwise fail, and so lose, a whole batch.
fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// [`without_nul`] for a string the caller gives up: moved, not copied,
/// when it has no NUL (nearly always).
fn nul_replaced(text: String) -> String {
    match without_nul(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(replaced) => replaced,
    }
}

/// Returns the time as unix microseconds; every `OffsetDateTime` fits in an i64.
fn unix_micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// Decodes one selected row (columns in [`columns!`] order) into a record whose
/// signatures are still in their stored form, beside it (see [`MessageLog::with_chains`]).
fn decode_row<R>(row: &R) -> Result<(LogRecord, StoredSignatures), MessageLogError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database>,
    String: Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database>,
    Vec<u8>: Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database>,
    i64: Type<R::Database>,
{
    let text = |column: &'static str| row.try_get::<String, _>(column);
    let bytes = |column: &'static str| row.try_get::<Vec<u8>, _>(column);
    let query = MessageLogError::Query;
    let message_id = text("message_id").map_err(query)?;
    let corrupt = |column: &'static str, reason: String| MessageLogError::Corrupt {
        message_id: message_id.clone(),
        column,
        reason,
    };

    let direction = text("direction").map_err(query)?;
    let direction = Direction::parse(&direction)
        .ok_or_else(|| corrupt("direction", format!("unknown value {direction:?}")))?;
    let signatures = StoredSignatures::decode(bytes("signatures").map_err(query)?.as_slice())
        .map_err(|error| corrupt("signatures", error.to_string()))?;
    let signers: Vec<String> = serde_json::from_str(&text("signers").map_err(query)?)
        .map_err(|error| corrupt("signers", error.to_string()))?;
    let received_at_us = row.try_get::<i64, _>("received_at_us").map_err(query)?;
    let received_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(received_at_us) * 1_000)
        .map_err(|error| corrupt("received_at_us", error.to_string()))?;

    let record = LogRecord {
        correlation_id: text("correlation_id").map_err(query)?,
        in_reply_to: text("in_reply_to").map_err(query)?,
        service_id: text("service_id").map_err(query)?,
        sender: text("sender").map_err(query)?,
        receiver: text("receiver").map_err(query)?,
        message_type: text("message_type").map_err(query)?,
        channel: text("channel").map_err(query)?,
        direction,
        status_code: text("status_code").map_err(query)?,
        status_message: text("status_message").map_err(query)?,
        header: bytes("header").map_err(query)?.into(),
        body: row
            .try_get::<Option<Vec<u8>>, _>("body")
            .map_err(query)?
            .map(Bytes::from),
        body_sha256: bytes("body_sha256").map_err(query)?.into(),
        signatures: Vec::new(),
        signers,
        received_at,
        duration_us: row.try_get::<i64, _>("duration_us").map_err(query)?,
        message_id,
    };
    Ok((record, signatures))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn record(message_id: &str, correlation_id: &str, direction: Direction) -> LogRecord {
        LogRecord {
            message_id: message_id.into(),
            correlation_id: correlation_id.into(),
            in_reply_to: String::new(),
            service_id: "citizens.person.get".into(),
            sender: "portal".into(),
            receiver: "citizens".into(),
            message_type: "REQUEST".into(),
            channel: "SYNC".into(),
            direction,
            status_code: "SCSS001".into(),
            status_message: String::new(),
            header: vec![0x0a, 0x02, b'm', b'1'].into(),
            body: Some(Bytes::from_static(b"{\"iin\":\"900101300123\"}")),
            body_sha256: vec![0xab; 32].into(),
            signatures: vec![
                signed_with_chain(&[b"portal-leaf", b"issuing-ca"]),
                vec![1, 2, 3],
                Vec::new(),
                vec![0xff; 300],
            ],
            signers: vec!["CN=PORTAL, SERIALNUMBER=BIN000000000001".into()],
            // Whole microseconds: the store keeps no finer precision.
            received_at: datetime!(2026-03-02 10:00:00.123456 UTC),
            duration_us: 1_250,
        }
    }

    /// An encoded `egov.v1.Signature` carrying these certificates.
    fn signed_with_chain(chain: &[&[u8]]) -> Vec<u8> {
        egov_proto::v1::Signature {
            algorithm: egov_proto::v1::SignatureAlgorithm::Ed25519 as i32,
            certificate_chain: chain.iter().map(|der| der.repeat(40).into()).collect(),
            header_sha256: vec![1; 32].into(),
            payload_sha256: vec![2; 32].into(),
            value: vec![3; 64].into(),
        }
        .encode_to_vec()
    }

    async fn open(dir: &tempfile::TempDir) -> MessageLog {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("gateway.db").display()
        );
        MessageLog::connect(&url).await.unwrap()
    }

    fn sqlite(log: &MessageLog) -> &SqlitePool {
        match &log.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(_) => panic!("expected the SQLite backend"),
        }
    }

    #[tokio::test]
    async fn appended_records_are_found_by_message_and_correlation_id_after_flush() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let inbound = record("m1", "c1", Direction::Inbound);
        let outbound = record("m1", "c1", Direction::Outbound);
        let mut response = record("m2", "c1", Direction::Inbound);
        response.in_reply_to = "m1".into();
        response.message_type = "RESPONSE".into();
        response.received_at = datetime!(2026-03-02 10:00:00.200000 UTC);
        log.append(inbound.clone()).await.unwrap();
        log.append(outbound.clone()).await.unwrap();
        log.append(response.clone()).await.unwrap();
        log.append(record("m9", "c9", Direction::Inbound))
            .await
            .unwrap();
        log.flush().await.unwrap();

        assert_eq!(
            log.by_message_id("m1").await.unwrap(),
            [inbound.clone(), outbound.clone()]
        );
        assert_eq!(
            log.by_correlation_id("c1").await.unwrap(),
            [inbound, outbound, response]
        );
    }

    #[tokio::test]
    async fn correlation_rows_come_by_received_time_then_insertion_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let mut late = record("late", "c", Direction::Inbound);
        late.received_at = datetime!(2026-03-02 10:00:05 UTC);
        let mut early_first = record("early-1", "c", Direction::Inbound);
        early_first.received_at = datetime!(2026-03-02 10:00:01 UTC);
        let mut early_second = record("early-2", "c", Direction::Inbound);
        early_second.received_at = datetime!(2026-03-02 10:00:01 UTC);
        for r in [late, early_first, early_second] {
            log.append(r).await.unwrap();
        }
        log.flush().await.unwrap();

        let ids: Vec<String> = log
            .by_correlation_id("c")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.message_id)
            .collect();
        assert_eq!(ids, ["early-1", "early-2", "late"]);
    }

    #[tokio::test]
    async fn a_record_without_body_keeps_only_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let mut private = record("m1", "c1", Direction::Inbound);
        private.body = None;
        log.append(private.clone()).await.unwrap();
        log.flush().await.unwrap();

        let found = log.by_message_id("m1").await.unwrap();
        assert_eq!(found, [private]);
        assert_eq!(found[0].body, None);
        assert_eq!(found[0].body_sha256, vec![0xab; 32]);
        let (body_is_null,): (bool,) =
            sqlx::query_as("SELECT body IS NULL FROM message_log WHERE message_id = 'm1'")
                .fetch_one(sqlite(&log))
                .await
                .unwrap();
        assert!(body_is_null);
    }

    #[tokio::test]
    async fn ten_thousand_appends_all_land_after_one_flush() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        for i in 0..10_000 {
            log.append(record(&format!("m{i}"), "bulk", Direction::Inbound))
                .await
                .unwrap();
        }
        log.flush().await.unwrap();

        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM message_log")
            .fetch_one(sqlite(&log))
            .await
            .unwrap();
        assert_eq!(count, 10_000);
        let bulk = log.by_correlation_id("bulk").await.unwrap();
        assert_eq!(bulk.len(), 10_000);
        // Same received_at everywhere: insertion order must decide.
        assert_eq!(bulk[0].message_id, "m0");
        assert_eq!(bulk[9_999].message_id, "m9999");
    }

    #[tokio::test]
    async fn rows_survive_reopening_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let kept = record("m1", "c1", Direction::Inbound);
        {
            let log = open(&dir).await;
            log.append(kept.clone()).await.unwrap();
            log.flush().await.unwrap();
            sqlite(&log).close().await;
        }
        let reopened = open(&dir).await;
        assert_eq!(reopened.by_message_id("m1").await.unwrap(), [kept]);
    }

    #[tokio::test]
    async fn an_unknown_or_malformed_id_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        log.append(record("m1", "c1", Direction::Inbound))
            .await
            .unwrap();
        log.flush().await.unwrap();

        for id in ["", "m2", "' OR 1=1 --", "m1\0", "%", "ид-сообщения"] {
            assert!(log.by_message_id(id).await.unwrap().is_empty(), "{id:?}");
            assert!(
                log.by_correlation_id(id).await.unwrap().is_empty(),
                "{id:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_nul_in_a_header_field_is_stored_as_a_replacement_character() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        log.append(record("m\0-1", "c1", Direction::Inbound))
            .await
            .unwrap();
        log.flush().await.unwrap();

        let found = log.by_message_id("m\0-1").await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message_id, "m\u{FFFD}-1");
    }

    #[tokio::test]
    async fn the_sqlite_file_runs_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(sqlite(&log))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_missing_data_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/data/gateway.db");
        let log = MessageLog::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        log.flush().await.unwrap();
        assert!(path.exists());
    }

    #[tokio::test]
    async fn an_in_memory_database_works_through_its_single_connection() {
        let log = MessageLog::connect("sqlite::memory:").await.unwrap();
        let kept = record("m1", "c1", Direction::Outbound);
        log.append(kept.clone()).await.unwrap();
        log.flush().await.unwrap();
        assert_eq!(log.by_correlation_id("c1").await.unwrap(), [kept]);
    }

    #[tokio::test]
    async fn an_in_memory_log_claims_ids_and_stores_rows_through_its_single_connection() {
        // The claimer keeps no connection of a pool of one: the writer and
        // the readers need it between claims.
        let log = MessageLog::connect("sqlite::memory:").await.unwrap();
        let at = datetime!(2026-03-02 10:00:00 UTC);
        assert!(log.claim_message_id("m1", at).await.unwrap());
        let kept = record("m1", "c1", Direction::Inbound);
        log.append(kept.clone()).await.unwrap();
        log.flush().await.unwrap();
        assert_eq!(log.by_message_id("m1").await.unwrap(), [kept]);
        assert!(!log.claim_message_id("m1", at).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_echoing_the_url() {
        let error = MessageLog::connect("mysql://user:secret@db/log")
            .await
            .unwrap_err();
        assert!(matches!(&error, MessageLogError::UnsupportedUrl { scheme } if scheme == "mysql"));
        assert!(!error.to_string().contains("secret"));
    }

    #[test]
    fn a_postgres_target_is_named_without_its_password() {
        let options =
            PgConnectOptions::from_str("postgres://user:secret@db.internal:6543/log").unwrap();
        assert_eq!(postgres_target(&options), "db.internal:6543/log");
    }

    #[tokio::test]
    async fn a_flush_after_the_writer_stopped_says_so() {
        let log = MessageLog::connect("sqlite::memory:").await.unwrap();
        let (commands, receiver) = mpsc::channel(1);
        drop(receiver);
        let orphan = MessageLog {
            backend: log.backend.clone(),
            replay: log.replay.clone(),
            commands,
            claims: log.claims.clone(),
        };
        assert!(matches!(
            orphan.flush().await,
            Err(MessageLogError::WriterStopped)
        ));
        assert!(matches!(
            orphan.append(record("m1", "c1", Direction::Inbound)).await,
            Err(MessageLogError::WriterStopped)
        ));
    }

    /// Claims many ids at once, each twice, so claims share transactions and
    /// an id meets its duplicate in one batch; asserts each is new exactly once.
    async fn each_id_is_claimed_once(log: &MessageLog) {
        let at = datetime!(2026-03-02 10:00:00 UTC);
        let ids: Vec<String> = (0..300).map(|i| format!("claim-{i}")).collect();
        let claims = ids
            .iter()
            .chain(ids.iter())
            .map(|id| log.claim_message_id(id, at));
        let answers = futures::future::join_all(claims).await;
        for (index, id) in ids.iter().enumerate() {
            let first = answers[index].as_ref().unwrap();
            let second = answers[index + ids.len()].as_ref().unwrap();
            assert!(
                first ^ second,
                "{id} claimed as new {} times",
                u8::from(*first) + u8::from(*second)
            );
        }
        assert!(!log.claim_message_id("claim-7", at).await.unwrap());
        assert!(log.claim_message_id("claim-new", at).await.unwrap());
    }

    #[tokio::test]
    async fn a_message_id_is_new_once_when_claims_share_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        each_id_is_claimed_once(&log).await;
    }

    #[test]
    fn a_sqlite_logs_replay_table_is_the_file_beside_it() {
        assert_eq!(
            replay_file(std::path::Path::new("/data/gateway.db")),
            std::path::Path::new("/data/gateway.replay.db")
        );
        assert_eq!(
            replay_file(std::path::Path::new("log")),
            std::path::Path::new("log.replay.db")
        );
    }

    #[tokio::test]
    async fn ids_a_log_claimed_before_its_replay_file_existed_stay_claimed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.db");
        let at = datetime!(2026-03-02 10:00:00 UTC);
        // A log file as an older gateway left it: the ids in its own table.
        {
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let pool = SqlitePool::connect(&url).await.unwrap();
            migrate_sqlite(&pool).await.unwrap();
            sqlx::query("INSERT INTO seen_message_id (message_id, seen_at_us) VALUES ('old-1', 1), ('old-2', 2)")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let log = open(&dir).await;
        assert!(replay_file(&path).exists());
        assert!(!log.claim_message_id("old-1", at).await.unwrap());
        assert!(!log.claim_message_id("old-2", at).await.unwrap());
        assert!(log.claim_message_id("new-1", at).await.unwrap());
        let Backend::Sqlite(pool) = &log.backend else {
            panic!("a sqlite log");
        };
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seen_message_id")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "the log's own replay table is emptied once moved");
        drop(log);
        let reopened = open(&dir).await;
        assert!(!reopened.claim_message_id("new-1", at).await.unwrap());
    }

    #[tokio::test]
    async fn claims_reach_the_replay_file_through_the_background_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let at = datetime!(2026-03-02 10:00:00 UTC);
        for n in 0..20 {
            let id = format!("checkpointed-{n}");
            assert!(log.claim_message_id(&id, at).await.unwrap());
        }
        // The claims' commits leave them in the write-ahead log only (no
        // automatic checkpoint); the checkpointer copies them into the file.
        let replay = replay_file(&dir.path().join("gateway.db"));
        let copied = |bytes: &[u8]| {
            (0..20).all(|n| {
                let id = format!("checkpointed-{n}");
                bytes
                    .windows(id.len())
                    .any(|window| window == id.as_bytes())
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !copied(&std::fs::read(&replay).unwrap()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the claims never reached {}",
                replay.display()
            );
            tokio::time::sleep(REPLAY_CHECKPOINT_EVERY).await;
        }
        assert!(!log.claim_message_id("checkpointed-0", at).await.unwrap());
    }

    /// Runs against a private PostgreSQL cluster the test starts (egov-testkit).
    #[tokio::test]
    async fn a_message_id_is_new_once_on_postgres_when_claims_share_a_transaction() {
        let postgres = egov_testkit::PostgresServer::start().unwrap();
        let url = postgres.create_database("claims").unwrap();
        let log = MessageLog::connect(&url).await.unwrap();
        each_id_is_claimed_once(&log).await;
    }

    #[test]
    fn stored_signatures_read_back_as_a_protobuf_list_without_their_chains() {
        let stored = StoredRow::from(record("m1", "c1", Direction::Inbound));
        let decoded = StoredSignatures::decode(stored.signatures.as_slice()).unwrap();
        let chainless =
            egov_proto::v1::Signature::decode(decoded.signatures[0].as_slice()).unwrap();
        assert!(chainless.certificate_chain.is_empty());
        assert_eq!(decoded.chains[0].sha256.len(), 2);
        assert_eq!(
            decoded.signatures[1..],
            [vec![1, 2, 3], Vec::new(), vec![0xff; 300]]
        );
        assert_eq!(stored.certificates.len(), 2);
        assert_eq!(
            stored.signers,
            r#"["CN=PORTAL, SERIALNUMBER=BIN000000000001"]"#
        );
        assert_eq!(stored.received_at_us, 1_772_445_600_123_456);
    }

    #[tokio::test]
    async fn a_certificate_many_rows_carried_is_stored_once_and_every_row_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        let rows: Vec<LogRecord> = (0..300)
            .map(|i| record(&format!("m{i}"), "shared", Direction::Inbound))
            .collect();
        for row in &rows[..150] {
            log.append(row.clone()).await.unwrap();
        }
        log.flush().await.unwrap();
        for row in &rows[150..] {
            log.append(row.clone()).await.unwrap();
        }
        log.flush().await.unwrap();
        let (certificates,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM certificate")
            .fetch_one(sqlite(&log))
            .await
            .unwrap();
        assert_eq!(certificates, 2, "the leaf and its CA, once each");
        assert_eq!(log.by_correlation_id("shared").await.unwrap(), rows);
        let recent = log.recent(&RecentFilter::default(), 1).await.unwrap();
        assert_eq!(recent, [rows[299].clone()]);
    }

    #[tokio::test]
    async fn a_row_whose_certificate_is_missing_is_reported_corrupt_naming_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(&dir).await;
        log.append(record("m1", "c1", Direction::Inbound))
            .await
            .unwrap();
        log.flush().await.unwrap();
        sqlx::query("DELETE FROM certificate")
            .execute(sqlite(&log))
            .await
            .unwrap();
        let err = log.by_message_id("m1").await.unwrap_err();
        assert!(
            matches!(&err, MessageLogError::Corrupt { message_id, column: "signatures", .. } if message_id == "m1"),
            "{err}"
        );
    }

    /// Runs against a private PostgreSQL cluster the test starts (egov-testkit).
    #[tokio::test]
    async fn the_postgres_store_round_trips_records_when_a_server_is_given() {
        let postgres = egov_testkit::PostgresServer::start().unwrap();
        let url = postgres.create_database("message_log").unwrap();
        let log = MessageLog::connect(&url).await.unwrap();
        let Backend::Postgres(pool) = &log.backend else {
            panic!("expected the PostgreSQL backend");
        };
        sqlx::query("DELETE FROM message_log")
            .execute(pool)
            .await
            .unwrap();
        let inbound = record("m1", "c1", Direction::Inbound);
        let mut private = record("m1", "c1", Direction::Outbound);
        private.body = None;
        log.append(inbound.clone()).await.unwrap();
        log.append(private.clone()).await.unwrap();
        log.append(record("m\0-1", "c2", Direction::Inbound))
            .await
            .unwrap();
        for i in 0..2_000 {
            log.append(record(&format!("bulk{i}"), "bulk", Direction::Inbound))
                .await
                .unwrap();
        }
        log.flush().await.unwrap();

        assert_eq!(
            log.by_message_id("m1").await.unwrap(),
            [inbound.clone(), private.clone()]
        );
        assert_eq!(
            log.by_correlation_id("c1").await.unwrap(),
            [inbound, private]
        );
        assert_eq!(log.by_message_id("m\0-1").await.unwrap().len(), 1);
        assert!(log.by_message_id("nope").await.unwrap().is_empty());
        let bulk = log.by_correlation_id("bulk").await.unwrap();
        assert_eq!(bulk.len(), 2_000);
        assert_eq!(bulk[1_999].message_id, "bulk1999");
    }
}
