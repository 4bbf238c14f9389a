//! The sign-in tables in the service's own database (SQLite or PostgreSQL through
//! [`egov_store::Pool`]): accounts, sessions and API tokens. The SQL is the dialect both share;
//! times are Unix seconds. Migrations are tracked in `_signin_migrations`, apart from the
//! service's own `_sqlx_migrations`, so the two sets never see each other's versions.

use egov_store::Pool;
use sqlx::Row as _;

use crate::{Person, SigninError};

/// The table that tracks the sign-in migrations.
const MIGRATIONS_TABLE: &str = "_signin_migrations";

/// Applies the sign-in migrations to `pool`.
pub async fn migrate(pool: &Pool) -> Result<(), SigninError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator.run(pool).await.map_err(SigninError::Migrate)
}

/// An account as stored, with its password hash.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// The person.
    pub person: Person,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// A session as stored.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// The person signed in.
    pub person: Person,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it began (Unix seconds).
    pub created_at: i64,
    /// When it was last used (Unix seconds).
    pub seen_at: i64,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Its id, to revoke it by.
    pub id: String,
    /// Whose it is.
    pub login: String,
    /// What it is for.
    pub label: String,
    /// When it was issued (Unix seconds).
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

fn person(login: String, name: String, roles: &str) -> Person {
    Person {
        login,
        name,
        roles: roles
            .split(',')
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Inserts an account; an existing login is refused.
pub async fn insert_account(
    pool: &Pool,
    person: &Person,
    password_hash: &str,
    now: i64,
) -> Result<(), SigninError> {
    let inserted = sqlx::query(
        "INSERT INTO signin_accounts (login, name, roles, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING",
    )
    .bind(&person.login)
    .bind(&person.name)
    .bind(person.roles.join(","))
    .bind(password_hash)
    .bind(now)
    .execute(pool)
    .await?;
    match inserted.rows_affected() {
        0 => Err(SigninError::AccountExists(person.login.clone())),
        _ => Ok(()),
    }
}

/// Replaces an account's password hash and ends its sessions.
pub async fn set_password(
    pool: &Pool,
    login: &str,
    password_hash: &str,
) -> Result<(), SigninError> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query("UPDATE signin_accounts SET password_hash = $1 WHERE login = $2")
        .bind(password_hash)
        .bind(login)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(SigninError::UnknownAccount(login.to_owned()));
    }
    sqlx::query("DELETE FROM signin_sessions WHERE login = $1")
        .bind(login)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Returns an account by login.
pub async fn account(pool: &Pool, login: &str) -> Result<Option<AccountRow>, SigninError> {
    let row = sqlx::query(
        "SELECT login, name, roles, password_hash FROM signin_accounts WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| AccountRow {
        person: person(row.get(0), row.get(1), row.get::<String, _>(2).as_str()),
        password_hash: row.get(3),
    }))
}

/// Returns every account, by login.
pub async fn accounts(pool: &Pool) -> Result<Vec<Person>, SigninError> {
    let rows = sqlx::query("SELECT login, name, roles FROM signin_accounts ORDER BY login")
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| person(row.get(0), row.get(1), row.get::<String, _>(2).as_str()))
        .collect())
}

/// Stores a new session under its id's digest.
pub async fn insert_session(
    pool: &Pool,
    id_hash: &str,
    login: &str,
    csrf: &str,
    now: i64,
) -> Result<(), SigninError> {
    sqlx::query(
        "INSERT INTO signin_sessions (id_hash, login, csrf, created_at, seen_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(id_hash)
    .bind(login)
    .bind(csrf)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Returns a session and its person by the id's digest.
pub async fn session(pool: &Pool, id_hash: &str) -> Result<Option<SessionRow>, SigninError> {
    let row = sqlx::query(
        "SELECT a.login, a.name, a.roles, s.csrf, s.created_at, s.seen_at \
         FROM signin_sessions s JOIN signin_accounts a ON a.login = s.login \
         WHERE s.id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| SessionRow {
        person: person(row.get(0), row.get(1), row.get::<String, _>(2).as_str()),
        csrf: row.get(3),
        created_at: row.get(4),
        seen_at: row.get(5),
    }))
}

/// Records that a session was used now.
pub async fn touch_session(pool: &Pool, id_hash: &str, now: i64) -> Result<(), SigninError> {
    sqlx::query("UPDATE signin_sessions SET seen_at = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends a session.
pub async fn delete_session(pool: &Pool, id_hash: &str) -> Result<(), SigninError> {
    sqlx::query("DELETE FROM signin_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the sessions idle since `idle_before` or begun before `created_before`.
pub async fn delete_expired_sessions(
    pool: &Pool,
    idle_before: i64,
    created_before: i64,
) -> Result<u64, SigninError> {
    let deleted = sqlx::query("DELETE FROM signin_sessions WHERE seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}

/// Stores an API token under its digest.
pub async fn insert_token(
    pool: &Pool,
    id: &str,
    token_hash: &str,
    login: &str,
    label: &str,
    now: i64,
) -> Result<(), SigninError> {
    sqlx::query(
        "INSERT INTO signin_tokens (id, token_hash, login, label, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(token_hash)
    .bind(login)
    .bind(label)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Returns the person and id of an unrevoked token by its digest.
pub async fn token(pool: &Pool, token_hash: &str) -> Result<Option<(String, Person)>, SigninError> {
    let row = sqlx::query(
        "SELECT t.id, a.login, a.name, a.roles \
         FROM signin_tokens t JOIN signin_accounts a ON a.login = t.login \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| {
        (
            row.get(0),
            person(row.get(1), row.get(2), row.get::<String, _>(3).as_str()),
        )
    }))
}

/// Revokes a token by id; false when no unrevoked token has it.
pub async fn revoke_token(pool: &Pool, id: &str, now: i64) -> Result<bool, SigninError> {
    let updated = sqlx::query(
        "UPDATE signin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() > 0)
}

/// Returns every token, newest first.
pub async fn tokens(pool: &Pool) -> Result<Vec<TokenInfo>, SigninError> {
    let rows = sqlx::query(
        "SELECT id, login, label, created_at, revoked_at FROM signin_tokens \
         ORDER BY created_at DESC, id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| TokenInfo {
            id: row.get(0),
            login: row.get(1),
            label: row.get(2),
            created_at: row.get(3),
            revoked_at: row.get(4),
        })
        .collect())
}
