//! Writing the citizens-DB: the bulk generation and load of the synthetic population, the
//! fixtures that are loaded on every start, and [`prepare`], which does what a start needs.
//!
//! The load is built for a million persons in well under a minute on two cores: the
//! generator runs on a blocking thread while the database inserts, batches go in inside
//! large transactions, and the secondary indexes are dropped first and built once at the
//! end. On SQLite, batches are multi-row INSERTs on a connection with `journal_mode=WAL,
//! synchronous=OFF` and a large page cache; on PostgreSQL they stream in through `COPY`.
//! Both need their driver's own connection ([`LoadConnection`]), which is why the load does
//! not go through the `Any` pool the look-ups use.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::{Duration, Instant};

use egov_store::{Backend, DATABASE_URL_KEY, StoreError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Sqlite, SqliteConnection};
use tokio::sync::mpsc;

use egov_system::SystemError;

use crate::config::Config;
use crate::population::{Batch, CENSUS_DATE, Population};
use crate::records::{
    LEGAL_ENTITY_COLUMNS, NewDocument, NewLegalEntity, NewLink, NewPerson, PERSON_COLUMNS, bin_key,
    date_key, iin_key,
};
use crate::{CitizensError, fixtures};

/// Persons per generated batch: big enough to amortise a channel hop, small enough to keep
/// the generator only a few batches ahead of SQLite.
const BATCH_PERSONS: usize = 10_000;

/// Batches the generator may run ahead of the inserts.
const BATCHES_IN_FLIGHT: usize = 4;

/// Persons per transaction: large, so commits are rare, yet the WAL stays bounded.
const PERSONS_PER_TRANSACTION: usize = 250_000;

/// SQLite's limit of bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
const MAX_PARAMETERS: usize = 32_766;

/// The page cache of the loading connection, in KiB (a negative `cache_size`): enough to
/// keep a million persons' pages in memory while IINs arrive in random order, so inserting
/// never re-reads a page it wrote. SQLite allocates it only as pages are used.
const LOAD_CACHE_KIB: i64 = 1_048_576;

/// The tables whose secondary indexes are dropped before a load and rebuilt after.
const TABLES: [&str; 4] = ["persons", "documents", "family_links", "legal_entities"];

/// The schema, per database: an INTEGER PRIMARY KEY is SQLite's rowid, a BIGINT PostgreSQL's.
pub static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// A connection for writing the citizens-DB, native to its database: SQLite's pragmas and
/// PostgreSQL's `COPY` have no form in sqlx's `Any` driver.
#[derive(Debug)]
pub enum LoadConnection {
    /// A SQLite file.
    Sqlite(SqliteConnection),
    /// A PostgreSQL database.
    Postgres(PgConnection),
}

/// Runs the same statement on whichever connection: the SQL is shared, the driver types not.
macro_rules! on_connection {
    ($connection:expr, |$c:ident| $body:expr) => {
        match $connection {
            LoadConnection::Sqlite($c) => $body,
            LoadConnection::Postgres($c) => $body,
        }
    };
}

impl LoadConnection {
    /// Runs one statement without parameters.
    async fn execute(&mut self, sql: String) -> Result<(), CitizensError> {
        on_connection!(self, |c| {
            sqlx::query(AssertSqlSafe(sql)).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Closes the connection.
    pub async fn close(self) -> Result<(), CitizensError> {
        on_connection!(self, |c| c.close().await?);
        Ok(())
    }

    /// Inserts rows: multi-row INSERTs on SQLite, `COPY` on PostgreSQL.
    async fn insert_all<R: Insert>(&mut self, rows: &[R]) -> Result<(), CitizensError> {
        match self {
            LoadConnection::Sqlite(c) => insert_all(c, "", rows).await,
            LoadConnection::Postgres(c) => copy_all(c, rows).await,
        }
    }
}

/// What a load wrote and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadReport {
    /// Persons written (generated, without fixtures).
    pub persons: usize,
    /// Identity documents written.
    pub documents: usize,
    /// Family links written (both directions count).
    pub links: usize,
    /// Legal entities written.
    pub legal_entities: usize,
    /// Time generating and inserting the rows.
    pub insert: Duration,
    /// Time building the secondary indexes afterwards.
    pub index: Duration,
    /// Wall time of the whole load, wiping and checkpointing included.
    pub total: Duration,
}

impl LoadReport {
    /// Returns every row written.
    pub fn rows(&self) -> usize {
        self.persons + self.documents + self.links + self.legal_entities
    }

    /// Returns persons loaded per second of the whole load.
    pub fn persons_per_second(&self) -> f64 {
        self.persons as f64 / self.total.as_secs_f64().max(f64::EPSILON)
    }

    /// Returns rows of every table loaded per second of the whole load.
    pub fn rows_per_second(&self) -> f64 {
        self.rows() as f64 / self.total.as_secs_f64().max(f64::EPSILON)
    }
}

/// What [`prepare`] found or did.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The load, when this start generated the population.
    pub generated: Option<LoadReport>,
    /// The seed of the stored population.
    pub seed: String,
    /// The size of the stored population (fixtures not counted).
    pub size: usize,
}

/// Opens the database for writing and applies migrations. A SQLite file is created if
/// missing and opened with the bulk-load settings: WAL (readers keep reading), no fsync, a
/// large page cache.
pub async fn open_for_load(url: &str) -> Result<LoadConnection, CitizensError> {
    let connect_error = |backend: Backend| {
        move |source| StoreError::Connect {
            key: DATABASE_URL_KEY.to_owned(),
            backend: backend.name(),
            url: egov_store::redact(url),
            source,
        }
    };
    let migrate_error = |source| StoreError::Migrate {
        key: DATABASE_URL_KEY.to_owned(),
        url: egov_store::redact(url),
        source,
    };
    if Backend::of(DATABASE_URL_KEY, url)? == Backend::Postgres {
        let mut connection = PgConnectOptions::from_str(url)
            .map_err(connect_error(Backend::Postgres))?
            // COPY statements are short, but the fixtures' are not worth a log line each.
            .disable_statement_logging()
            .connect()
            .await
            .map_err(connect_error(Backend::Postgres))?;
        MIGRATIONS
            .postgres
            .run_direct(None, &mut connection, false)
            .await
            .map_err(migrate_error)?;
        return Ok(LoadConnection::Postgres(connection));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(connect_error(Backend::Sqlite))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", (-LOAD_CACHE_KIB).to_string())
        .pragma("temp_store", "MEMORY")
        .busy_timeout(Duration::from_secs(5))
        // Multi-row INSERTs are tens of kilobytes of SQL: never log them.
        .disable_statement_logging();
    let mut connection = options
        .connect()
        .await
        .map_err(connect_error(Backend::Sqlite))?;
    // `run_direct` on the connection itself: `run(&mut connection)` goes through `Acquire`,
    // whose higher-ranked bound leaves rustc unable to prove the caller's future `Send`.
    MIGRATIONS
        .sqlite
        .run_direct(None, &mut connection, false)
        .await
        .map_err(migrate_error)?;
    Ok(LoadConnection::Sqlite(connection))
}

/// Prepares the database for a start: migrates it, generates the population when none is
/// stored (or when `regenerate` is set), and loads the fixtures.
///
/// A stored population of another seed or size is kept (with a warning): regenerating a
/// million persons is a decision for `--regenerate` or `egov-citizens generate`, not a side
/// effect of a config edit.
pub async fn prepare(config: &Config, regenerate: bool) -> Result<Prepared, CitizensError> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| {
            CitizensError::from(SystemError::Io {
                action: format!("create data dir {}", config.data_dir.display()),
                source,
            })
        })?;
    }
    let mut connection = open_for_load(&config.database_url()).await?;
    let stored = stored_population(&mut connection).await?;
    let generated = match stored {
        Some((seed, size)) if !regenerate => {
            if seed != config.seed || size != config.population {
                tracing::warn!(
                    stored_seed = %seed,
                    stored_size = size,
                    config_seed = %config.seed,
                    config_size = config.population,
                    "keeping the stored population; pass --regenerate to replace it"
                );
            }
            None
        }
        _ => {
            tracing::info!(seed = %config.seed, population = config.population, "generating the population");
            let report = generate_on(&mut connection, &config.seed, config.population).await?;
            tracing::info!(
                persons = report.persons,
                rows = report.rows(),
                elapsed_ms = report.total.as_millis() as u64,
                "population loaded"
            );
            Some(report)
        }
    };
    load_fixtures(&mut connection).await?;
    let (seed, size) = stored_population(&mut connection)
        .await?
        .unwrap_or_else(|| (config.seed.clone(), config.population));
    connection.close().await?;
    Ok(Prepared {
        generated,
        seed,
        size,
    })
}

/// Replaces whatever the database at `url` holds with a generated population of `size`
/// persons from `seed`, plus the fixtures.
///
/// The report's total covers everything from opening the database to closing it.
pub async fn generate(url: &str, seed: &str, size: usize) -> Result<LoadReport, CitizensError> {
    let started = Instant::now();
    let mut connection = open_for_load(url).await?;
    let mut report = generate_on(&mut connection, seed, size).await?;
    load_fixtures(&mut connection).await?;
    connection.close().await?;
    report.total = started.elapsed();
    Ok(report)
}

/// Returns the stored population's seed and size, if one was generated.
async fn stored_population(
    connection: &mut LoadConnection,
) -> Result<Option<(String, usize)>, CitizensError> {
    let row: Option<(String, i64)> = on_connection!(connection, |c| {
        sqlx::query_as("SELECT seed, size FROM population WHERE id = 1")
            .fetch_optional(&mut *c)
            .await?
    });
    Ok(row.map(|(seed, size)| (seed, usize::try_from(size).unwrap_or_default())))
}

/// What the generator thread sends.
enum Produced {
    Batch(Batch),
    LegalEntities(Vec<NewLegalEntity>),
}

/// Wipes the tables and loads a generated population on an open connection.
async fn generate_on(
    connection: &mut LoadConnection,
    seed: &str,
    size: usize,
) -> Result<LoadReport, CitizensError> {
    let started = Instant::now();
    let indexes = drop_indexes(connection).await?;
    let wipe = match connection {
        // TRUNCATE: PostgreSQL frees the pages at once, where DELETE leaves dead rows.
        LoadConnection::Postgres(_) => format!("TRUNCATE {}, population", TABLES.join(", ")),
        LoadConnection::Sqlite(_) => TABLES
            .iter()
            .chain(&["population"])
            .map(|table| format!("DELETE FROM {table};"))
            .collect(),
    };
    connection.execute("BEGIN".into()).await?;
    connection.execute(wipe).await?;
    connection.execute("COMMIT".into()).await?;

    let (sender, mut receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    let seed_owned = seed.to_owned();
    let generator = tokio::task::spawn_blocking(move || {
        let mut population = Population::new(&seed_owned, size);
        loop {
            let produced = match population.next_batch(BATCH_PERSONS) {
                Ok(Some(batch)) => Ok(Produced::Batch(batch)),
                Ok(None) => break,
                Err(error) => Err(error),
            };
            let failed = produced.is_err();
            // A closed channel means the inserting side failed; it reports why.
            if sender.blocking_send(produced).is_err() || failed {
                return;
            }
        }
        let _ = sender.blocking_send(population.legal_entities().map(Produced::LegalEntities));
    });

    let mut report = LoadReport {
        persons: 0,
        documents: 0,
        links: 0,
        legal_entities: 0,
        insert: Duration::ZERO,
        index: Duration::ZERO,
        total: Duration::ZERO,
    };
    let mut in_transaction = 0usize;
    connection.execute("BEGIN".into()).await?;
    while let Some(produced) = receiver.recv().await {
        match produced? {
            Produced::Batch(batch) => {
                connection.insert_all(&batch.persons).await?;
                connection.insert_all(&batch.documents).await?;
                connection.insert_all(&batch.links).await?;
                report.persons += batch.persons.len();
                report.documents += batch.documents.len();
                report.links += batch.links.len();
                in_transaction += batch.persons.len();
                if in_transaction >= PERSONS_PER_TRANSACTION {
                    connection.execute("COMMIT".into()).await?;
                    connection.execute("BEGIN".into()).await?;
                    in_transaction = 0;
                }
            }
            Produced::LegalEntities(entities) => {
                connection.insert_all(&entities).await?;
                report.legal_entities += entities.len();
            }
        }
    }
    generator
        .await
        .map_err(|error| CitizensError::Generate(format!("generator thread: {error}")))?;
    if report.persons != size {
        return Err(CitizensError::Generate(format!(
            "generated {} persons, expected {size}",
            report.persons
        )));
    }
    report.insert = started.elapsed();

    let indexing = Instant::now();
    for (name, sql) in indexes {
        tracing::debug!(index = %name, "building index");
        connection.execute(sql).await?;
    }
    report.index = indexing.elapsed();
    let elapsed_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    on_connection!(&mut *connection, |c| {
        sqlx::query(
            "INSERT INTO population (id, seed, size, census_date, elapsed_ms) \
             VALUES (1, $1, $2, $3, $4)",
        )
        .bind(seed)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(date_key(CENSUS_DATE))
        .bind(elapsed_ms)
        .execute(&mut *c)
        .await?;
    });
    connection.execute("COMMIT".into()).await?;
    let settle = match connection {
        // Fold the WAL back into the database file, so the first readers do not walk it.
        LoadConnection::Sqlite(_) => "PRAGMA wal_checkpoint(TRUNCATE)",
        // Fresh statistics, so the first look-ups are planned on the loaded tables.
        LoadConnection::Postgres(_) => "ANALYZE",
    };
    connection.execute(settle.into()).await?;
    report.total = started.elapsed();
    Ok(report)
}

/// Drops the secondary indexes of the citizens tables and returns their SQL to rebuild them
/// (primary keys stay: they are constraints, and the load checks them).
async fn drop_indexes(
    connection: &mut LoadConnection,
) -> Result<Vec<(String, String)>, CitizensError> {
    let indexes: Vec<(String, String, String)> = match connection {
        LoadConnection::Sqlite(c) => {
            sqlx::query_as(
                "SELECT name, tbl_name, sql FROM sqlite_master \
                 WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            )
            .fetch_all(&mut *c)
            .await?
        }
        LoadConnection::Postgres(c) => {
            sqlx::query_as(
                "SELECT i.indexname::text, i.tablename::text, i.indexdef FROM pg_indexes i \
                 WHERE i.schemaname = current_schema() AND NOT EXISTS \
                 (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname) \
                 ORDER BY i.indexname",
            )
            .fetch_all(&mut *c)
            .await?
        }
    };
    let mut dropped = Vec::new();
    for (name, table, sql) in indexes {
        if !TABLES.contains(&table.as_str()) {
            continue;
        }
        connection
            .execute(format!("DROP INDEX IF EXISTS \"{name}\""))
            .await?;
        dropped.push((name, sql));
    }
    Ok(dropped)
}

/// Writes the fixtures, replacing earlier versions of them: they are loaded on every start,
/// so a fixture changed in the code is changed in every database.
pub async fn load_fixtures(connection: &mut LoadConnection) -> Result<(), CitizensError> {
    let batch = fixtures::batch()?;
    let entities = fixtures::legal_entities()?;
    let keys: Vec<i64> = batch
        .persons
        .iter()
        .map(|person| iin_key(&person.iin))
        .collect();
    let bins: Vec<i64> = entities.iter().map(|entity| bin_key(&entity.bin)).collect();
    connection.execute("BEGIN".into()).await?;
    // Links are stored in both directions and fixtures link only to fixtures, so deleting by
    // `iin` (indexed) removes every row that names a fixture. Persons and legal entities go
    // too, where SQLite could INSERT OR REPLACE: PostgreSQL has no such verb.
    for (table, column, key) in keys
        .iter()
        .flat_map(|key| {
            [
                ("documents", "iin", *key),
                ("family_links", "iin", *key),
                ("persons", "iin", *key),
            ]
        })
        .chain(bins.iter().map(|bin| ("legal_entities", "bin", *bin)))
    {
        let sql = format!("DELETE FROM {table} WHERE {column} = $1");
        on_connection!(&mut *connection, |c| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(key)
                .execute(&mut *c)
                .await?;
        });
    }
    connection.insert_all(&batch.persons).await?;
    connection.insert_all(&batch.documents).await?;
    connection.insert_all(&batch.links).await?;
    connection.insert_all(&entities).await?;
    connection.execute("COMMIT".into()).await?;
    Ok(())
}

/// A row the loader can insert with a multi-row INSERT (SQLite) or `COPY` (PostgreSQL).
trait Insert {
    /// The table.
    const TABLE: &'static str;
    /// Its columns, comma-separated, in bind order.
    const COLUMNS: &'static str;
    /// Number of columns.
    const COUNT: usize;
    /// Binds the row's values in column order.
    fn bind<'q>(&self, query: Query<'q>) -> Query<'q>;
    /// Appends the row as a line of `COPY … FROM STDIN` text: columns in order, tab-separated.
    fn copy(&self, out: &mut CopyLine<'_>);
}

/// A line of PostgreSQL's `COPY` text format being written.
struct CopyLine<'a> {
    out: &'a mut String,
    first: bool,
}

impl CopyLine<'_> {
    /// Appends a text value, escaping what the format gives a meaning.
    fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        for c in value.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
        self
    }

    /// Appends an integer value.
    fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        let _ = write!(self.out, "{value}");
        self
    }

    /// Appends an integer value or NULL.
    fn maybe_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => {
                self.separate();
                self.out.push_str("\\N");
                self
            }
        }
    }

    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push('\t');
        }
    }
}

/// Streams rows into their table with one `COPY … FROM STDIN`.
async fn copy_all<R: Insert>(
    connection: &mut PgConnection,
    rows: &[R],
) -> Result<(), CitizensError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut data = String::with_capacity(rows.len() * 32 * R::COUNT);
    for row in rows {
        row.copy(&mut CopyLine {
            out: &mut data,
            first: true,
        });
        data.push('\n');
    }
    let statement = format!("COPY {} ({}) FROM STDIN", R::TABLE, R::COLUMNS);
    let mut copy = connection.copy_in_raw(&statement).await?;
    copy.send(data.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

/// Inserts rows with as few statements as the parameter limit allows; `verb` is empty or
/// `OR REPLACE`. Full-size statements repeat the same SQL, so SQLite prepares it once.
async fn insert_all<R: Insert>(
    connection: &mut SqliteConnection,
    verb: &'static str,
    rows: &[R],
) -> Result<(), CitizensError> {
    let per_statement = (MAX_PARAMETERS / R::COUNT).min(1_000);
    let full = insert_sql::<R>(verb, per_statement);
    // Index arithmetic rather than `chunks()`: an iterator of borrowed rows held across
    // the await makes rustc unable to prove the future `Send` for every lifetime.
    let mut start = 0;
    while start < rows.len() {
        let end = (start + per_statement).min(rows.len());
        let query = statement(&full, per_statement, verb, &rows[start..end]);
        query.execute(&mut *connection).await?;
        start = end;
    }
    Ok(())
}

/// Builds one multi-row INSERT with its values bound; `full` is the SQL of a chunk of
/// `per_statement` rows.
fn statement<R: Insert>(
    full: &str,
    per_statement: usize,
    verb: &str,
    chunk: &[R],
) -> Query<'static> {
    let sql = if chunk.len() == per_statement {
        full.to_owned()
    } else {
        insert_sql::<R>(verb, chunk.len())
    };
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in chunk {
        query = row.bind(query);
    }
    query
}

/// Returns `INSERT <verb> INTO <table> (<columns>) VALUES (?, …), …` for `rows` rows.
fn insert_sql<R: Insert>(verb: &str, rows: usize) -> String {
    let row = format!("({})", vec!["?"; R::COUNT].join(","));
    let mut sql = format!("INSERT {verb} INTO {} ({}) VALUES ", R::TABLE, R::COLUMNS);
    sql.reserve(rows * (row.len() + 1));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    sql
}

impl Insert for NewPerson {
    const TABLE: &'static str = "persons";
    const COLUMNS: &'static str = PERSON_COLUMNS;
    const COUNT: usize = crate::records::PERSON_COLUMN_COUNT;

    fn bind<'q>(&self, query: Query<'q>) -> Query<'q> {
        let query = query
            .bind(iin_key(&self.iin))
            .bind(self.surname.as_str())
            .bind(self.name)
            .bind(self.patronymic.as_str())
            .bind(self.gender() as i32)
            .bind(date_key(self.iin.birth_date()))
            .bind(self.death_date.map(date_key))
            .bind(self.life_status as i32)
            .bind(self.nationality)
            .bind(self.citizenship)
            .bind(self.birth_country)
            .bind(self.birth_place.region)
            .bind(self.birth_place.district)
            .bind(self.birth_place.locality)
            .bind(self.address.place.region)
            .bind(self.address.place.district)
            .bind(self.address.place.locality)
            .bind(self.address.street)
            // An integer bound to a TEXT column is stored as its text by SQLite's column
            // affinity, which saves formatting a string per row here.
            .bind(i64::from(self.address.building));
        let query = match self.address.flat {
            Some(flat) => query.bind(i64::from(flat)),
            None => query.bind(""),
        };
        query
            .bind(self.birth_certificate.as_str())
            .bind(date_key(self.birth_certificate_date))
            .bind(self.disabled)
            .bind(self.without_parental_care)
    }

    fn copy(&self, line: &mut CopyLine<'_>) {
        line.int(iin_key(&self.iin))
            .text(&self.surname)
            .text(self.name)
            .text(&self.patronymic)
            .int(self.gender() as i64)
            .int(date_key(self.iin.birth_date()))
            .maybe_int(self.death_date.map(date_key))
            .int(self.life_status as i64)
            .text(self.nationality)
            .text(self.citizenship)
            .text(self.birth_country)
            .text(self.birth_place.region)
            .text(self.birth_place.district)
            .text(self.birth_place.locality)
            .text(self.address.place.region)
            .text(self.address.place.district)
            .text(self.address.place.locality)
            .text(self.address.street)
            .int(i64::from(self.address.building));
        match self.address.flat {
            Some(flat) => line.int(i64::from(flat)),
            None => line.text(""),
        };
        line.text(&self.birth_certificate)
            .int(date_key(self.birth_certificate_date))
            .int(i64::from(self.disabled))
            .int(i64::from(self.without_parental_care));
    }
}

impl Insert for NewDocument {
    const TABLE: &'static str = "documents";
    const COLUMNS: &'static str = "iin, kind, number, issue_date, expiry_date, issuer";
    const COUNT: usize = 6;

    fn bind<'q>(&self, query: Query<'q>) -> Query<'q> {
        query
            .bind(iin_key(&self.iin))
            .bind(self.kind)
            .bind(self.number.as_str())
            .bind(date_key(self.issue_date))
            .bind(date_key(self.expiry_date))
            .bind(self.issuer)
    }

    fn copy(&self, line: &mut CopyLine<'_>) {
        line.int(iin_key(&self.iin))
            .text(self.kind)
            .text(&self.number)
            .int(date_key(self.issue_date))
            .int(date_key(self.expiry_date))
            .text(self.issuer);
    }
}

impl Insert for NewLink {
    const TABLE: &'static str = "family_links";
    const COLUMNS: &'static str = "iin, relative_iin, kinship";
    const COUNT: usize = 3;

    fn bind<'q>(&self, query: Query<'q>) -> Query<'q> {
        query
            .bind(iin_key(&self.iin))
            .bind(iin_key(&self.relative))
            .bind(self.kinship as i32)
    }

    fn copy(&self, line: &mut CopyLine<'_>) {
        line.int(iin_key(&self.iin))
            .int(iin_key(&self.relative))
            .int(self.kinship as i64);
    }
}

impl Insert for NewLegalEntity {
    const TABLE: &'static str = "legal_entities";
    const COLUMNS: &'static str = LEGAL_ENTITY_COLUMNS;
    const COUNT: usize = 11;

    fn bind<'q>(&self, query: Query<'q>) -> Query<'q> {
        query
            .bind(bin_key(&self.bin))
            .bind(self.name_kk.as_str())
            .bind(self.name_ru.as_str())
            .bind(self.kind)
            .bind(self.address.place.region)
            .bind(self.address.place.district)
            .bind(self.address.place.locality)
            .bind(self.address.street)
            .bind(i64::from(self.address.building))
            .bind(iin_key(&self.head))
            .bind(date_key(self.registration_date))
    }

    fn copy(&self, line: &mut CopyLine<'_>) {
        line.int(bin_key(&self.bin))
            .text(&self.name_kk)
            .text(&self.name_ru)
            .text(self.kind)
            .text(self.address.place.region)
            .text(self.address.place.district)
            .text(self.address.place.locality)
            .text(self.address.street)
            .int(i64::from(self.address.building))
            .int(iin_key(&self.head))
            .int(date_key(self.registration_date));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_match_the_column_lists() {
        fn count<R: Insert>() {
            assert_eq!(R::COLUMNS.split(',').count(), R::COUNT, "{}", R::TABLE);
        }
        count::<NewPerson>();
        count::<NewDocument>();
        count::<NewLink>();
        count::<NewLegalEntity>();
    }

    #[test]
    fn insert_sql_has_one_placeholder_group_per_row() {
        let sql = insert_sql::<NewLink>("OR REPLACE", 3);
        assert_eq!(
            sql,
            "INSERT OR REPLACE INTO family_links (iin, relative_iin, kinship) VALUES \
             (?,?,?),(?,?,?),(?,?,?)"
        );
    }
}
