//! egov-store: the SQL database a service's `database_url` names, SQLite (`sqlite://…`, the
//! default in each data dir) or PostgreSQL (`postgres://…`, `postgresql://…`), opened with the
//! service's migrations applied. Every system of record (ARCHITECTURE.md: "SQLite by default,
//! PostgreSQL by config") opens its store here, so the scheme check, the pool settings and the
//! error naming the config key are written once.
//!
//! # Why sqlx's `Any` driver
//! One pool type ([`Pool`], sqlx's `AnyPool`) serves both databases, so a store's queries are
//! written once and called as on a single-database pool: `sqlx::query(…).fetch_all(&pool)`,
//! transactions included. The alternative, an enum of the two pools and a macro running each
//! query on either (the notary's first store), doubled every call site and every helper that
//! takes a connection. `Any` carries text, integers, floats, blobs (BYTEA) and booleans, which
//! is every column type the stores use. Its limits, and how the stores live with them:
//! - timestamps are RFC 3339 text (as sqlx wrote them on SQLite): bind and read them through
//!   [`Timestamp`] / [`OptionalTimestamp`];
//! - SQLite has no boolean storage, and `Any` will not read an integer as a `bool` (nor a
//!   column declared `BOOLEAN` at all): read flags through [`Flag`], and select a
//!   `BOOLEAN`-declared column as `CAST(col AS INTEGER)`;
//! - SQL must be the dialect both share: `$n` placeholders, `ON CONFLICT`, `RETURNING`, no
//!   `INSERT OR REPLACE`, no two-argument `MAX`; aggregates that PostgreSQL widens to NUMERIC
//!   (`SUM` of a BIGINT) need a cast.
//!
//! Bulk paths that need a driver's own API (the citizens-DB's load: SQLite pragmas, PostgreSQL
//! `COPY`) connect natively after checking the URL with [`Backend::of`].
//!
//! # Layout
//! - [`Backend`]: which database a URL names, or [`StoreError::UnsupportedScheme`].
//! - [`StoreOptions`] / [`open`]: the pool, its settings, the migrations.
//! - [`Migrations`] and [`migrations!`]: a service's schema, per database or shared.
//! - [`types`]: [`Timestamp`], [`OptionalTimestamp`] and [`Flag`], the values `Any` lacks.
//! - [`redact`]: a URL fit for logs, its password hidden.
//! - [`location`]: the `data_dir` and `database_url` config keys, their default and checks.

pub mod location;
pub mod types;

use std::time::Duration;

use sqlx::Executor as _;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

pub use location::{check_location, database_url_or_default};
pub use types::{Flag, OptionalTimestamp, Timestamp};

/// The pool every store queries: one type for SQLite and PostgreSQL.
pub type Pool = sqlx::AnyPool;

/// A connection taken from a [`Pool`] (or a transaction's), for helpers that run inside one.
pub type Connection = sqlx::AnyConnection;

/// A transaction on a [`Pool`].
pub type Transaction<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// The config key every service names its database URL with.
pub const DATABASE_URL_KEY: &str = "database_url";

/// How many connections a pool keeps at most unless told otherwise: the services' handlers
/// are short queries, and SQLite serialises writers anyway.
const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a caller waits for a free connection (or a new one) before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:…`: a file (or `:memory:`), the default of every service.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// Returns the backend `url` names; any other scheme is refused naming `key`.
    pub fn of(key: &str, url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedScheme {
                key: key.to_owned(),
                scheme: scheme(url),
            })
        }
    }

    /// Returns the backend's name, as logs and errors print it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Describes why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("`{key}`: the scheme {scheme:?} is not supported; use sqlite://… or postgres://…")]
    UnsupportedScheme {
        /// The config key the URL came from.
        key: String,
        /// The URL's scheme (the text before the first `:`), never the rest of it.
        scheme: String,
    },
    /// The database could not be reached or opened.
    #[error("`{key}`: cannot open {backend} database {url}")]
    Connect {
        /// The config key the URL came from.
        key: String,
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The URL with its password hidden.
        url: String,
        /// Why.
        #[source]
        source: sqlx::Error,
    },
    /// The service's migrations could not be applied.
    #[error("`{key}`: cannot apply the migrations to {url}")]
    Migrate {
        /// The config key the URL came from.
        key: String,
        /// The URL with its password hidden.
        url: String,
        /// Why.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// A service's schema: one migration set per database, or the same set for both when its
/// DDL is portable (see [`migrations!`]).
#[derive(Debug)]
pub struct Migrations {
    /// Applied on SQLite.
    pub sqlite: Migrator,
    /// Applied on PostgreSQL.
    pub postgres: Migrator,
}

impl Migrations {
    /// Returns the set for `backend`.
    pub fn for_backend(&self, backend: Backend) -> &Migrator {
        match backend {
            Backend::Sqlite => &self.sqlite,
            Backend::Postgres => &self.postgres,
        }
    }
}

/// Embeds a service's [`Migrations`]: `migrations!()` takes `migrations/sqlite` and
/// `migrations/postgres` of the calling crate (DDL that differs: BLOB or BYTEA, rowid or
/// identity); `migrations!(shared)` takes `migrations/` for both. Usable in a `static`.
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::Migrations {
            sqlite: ::sqlx::migrate!("migrations/sqlite"),
            postgres: ::sqlx::migrate!("migrations/postgres"),
        }
    };
    (shared) => {
        $crate::Migrations {
            sqlite: ::sqlx::migrate!("./migrations"),
            postgres: ::sqlx::migrate!("./migrations"),
        }
    };
}

/// How to open a store's pool: the URL and the config key it came from, and the pool's shape.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    key: String,
    url: String,
    read_only: bool,
    max_connections: u32,
    min_connections: u32,
}

impl StoreOptions {
    /// Returns options for the URL the config key `key` holds.
    pub fn new(key: &str, url: &str) -> StoreOptions {
        StoreOptions {
            key: key.to_owned(),
            url: url.to_owned(),
            read_only: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
        }
    }

    /// Opens every connection read-only (SQLite `mode=ro`; PostgreSQL
    /// `default_transaction_read_only`), so no query can change what is stored.
    pub fn read_only(mut self) -> StoreOptions {
        self.read_only = true;
        self
    }

    /// Sets the most connections the pool opens.
    pub fn max_connections(mut self, max: u32) -> StoreOptions {
        self.max_connections = max.max(1);
        self
    }

    /// Sets how many connections the pool keeps open when idle.
    pub fn min_connections(mut self, min: u32) -> StoreOptions {
        self.min_connections = min;
        self
    }

    /// Opens the pool and, given `migrations`, applies the pending ones for its backend.
    pub async fn open(self, migrations: Option<&Migrations>) -> Result<Pool, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(&self.key, &self.url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(&self.url, self.read_only),
            Backend::Postgres => self.url.clone(),
        };
        let read_only = self.read_only;
        let pool = AnyPoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    match (backend, read_only) {
                        // WAL lets readers read while one writer writes; it is a property
                        // of the file, so only a writer sets it.
                        (Backend::Sqlite, false) => {
                            connection.execute("PRAGMA journal_mode = WAL").await?;
                        }
                        (Backend::Sqlite, true) => {}
                        (Backend::Postgres, true) => {
                            connection
                                .execute("SET default_transaction_read_only = on")
                                .await?;
                        }
                        (Backend::Postgres, false) => {}
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| StoreError::Connect {
                key: self.key.clone(),
                backend: backend.name(),
                url: redact(&self.url),
                source,
            })?;
        if let Some(migrations) = migrations {
            migrations
                .for_backend(backend)
                .run(&pool)
                .await
                .map_err(|source| StoreError::Migrate {
                    key: self.key.clone(),
                    url: redact(&self.url),
                    source,
                })?;
        }
        tracing::debug!(key = %self.key, url = %redact(&self.url), backend = backend.name(), "store opened");
        Ok(pool)
    }
}

/// Opens the read-write store the config key `key` names and applies its migrations.
pub async fn open(key: &str, url: &str, migrations: &Migrations) -> Result<Pool, StoreError> {
    StoreOptions::new(key, url).open(Some(migrations)).await
}

/// Marks the fixture set `name` as loaded at `loaded_at` in the `seeds` table, in `tx`;
/// returns false when it was already marked. The marker row goes first in a fixture load:
/// a second process starting on the same empty database conflicts here and loads nothing.
pub async fn mark_seed(
    tx: &mut Transaction<'_>,
    name: &str,
    loaded_at: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO seeds (name, loaded_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(loaded_at)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Returns the URL's scheme, the text before its first `:` (all of it when there is none,
/// cut short: a URL without a scheme may be a bare password-bearing string).
fn scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((scheme, _)) => scheme.to_owned(),
        None => url.chars().take(16).collect(),
    }
}

/// Returns a SQLite URL with its `mode`: `ro` when read-only, else the URL's own, else `rwc`
/// (create the file if missing, as every service's default URL asks).
fn sqlite_url(url: &str, read_only: bool) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let has_mode = params.iter().any(|p| p.starts_with("mode="));
    if read_only {
        params.retain(|p| !p.starts_with("mode="));
        params.push("mode=ro");
    } else if !has_mode {
        params.push("mode=rwc");
    }
    format!("{base}?{}", params.join("&"))
}

/// Returns `url` fit for a log line: the password of `user:password@host` and any
/// `password=` query parameter replaced by `***`.
pub fn redact(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => match user_info.split_once(':') {
                    Some((user, _)) => format!("{user}:***@{host}"),
                    None => format!("{user_info}@{host}"),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => before_query.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                    format!("{name}=***")
                }
                _ => param.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_both_postgres_schemes_are_accepted() {
        assert_eq!(
            Backend::of("database_url", "sqlite://x.db?mode=rwc").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::of("database_url", "postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of("database_url", "postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_key_and_the_scheme_only() {
        let error = Backend::of("database_url", "mysql://root:hunter2@db/x").expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("`database_url`"), "{message}");
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn redact_hides_passwords_in_user_info_and_query() {
        assert_eq!(
            redact("postgres://egov:s3cret@db:5432/labor?sslmode=require&password=x"),
            "postgres://egov:***@db:5432/labor?sslmode=require&password=***"
        );
        assert_eq!(
            redact("postgres://egov@db/labor"),
            "postgres://egov@db/labor"
        );
        assert_eq!(
            redact("sqlite://.egov/labor/labor.db?mode=rwc"),
            "sqlite://.egov/labor/labor.db?mode=rwc"
        );
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_read_only() {
        assert_eq!(sqlite_url("sqlite://a.db", false), "sqlite://a.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://a.db?mode=rw", false),
            "sqlite://a.db?mode=rw"
        );
        assert_eq!(
            sqlite_url("sqlite://a.db?mode=rwc&cache=private", true),
            "sqlite://a.db?cache=private&mode=ro"
        );
    }
}
