//! egov-signin: sign-in for the people and systems that use a service's web pages and HTTP
//! API (кіру / вход), one crate for every web app of the stack (back office worklist, portal,
//! State Corporation workstation).
//!
//! - Accounts with roles live in the service's own database ([`egov_store::Pool`], SQLite or
//!   PostgreSQL, migrations of their own); passwords are hashed with argon2id.
//! - A person signs in on `/login` and gets a session: a random id in the cookie
//!   `egov-<app>-session` (HttpOnly, SameSite=Strict, Secure by config), stored only as its
//!   SHA-256, ending after an idle time and an absolute time; `/logout` ends it.
//! - Every state-changing request on a session must carry the session's CSRF token (form
//!   field [`CSRF_FIELD`] or header [`CSRF_HEADER`]) and, when the browser names one, an
//!   allowed `Origin`; otherwise 403.
//! - Failed logins are limited per login and per client address: 429 past either limit.
//! - Systems and operators call the API with a bearer token (`Authorization: Bearer …`),
//!   issued by the CLI and stored hashed.
//!
//! Use: [`Signin::open`] on the service's pool, then [`Signin::protect`] around the routes
//! that need a signed-in caller; handlers take [`SignedIn`], [`ApiCaller`] or [`Caller`] and
//! call [`Person::require_role`] (403). [`cli`] gives a service binary `accounts add|password|
//! list|token|revoke`; [`bootstrap`] reads the first accounts from a file.

pub mod bootstrap;
pub mod cli;
pub mod limit;
pub mod operator;
pub mod pages;
pub mod password;
pub mod secret;
pub mod store;
mod web;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use egov_core::clock::Clock;
use egov_store::Pool;
use time::OffsetDateTime;

pub use limit::Limit;
pub use store::TokenInfo;

/// The path of the login page (GET shows it, POST signs in).
pub const LOGIN_PATH: &str = "/login";

/// The path that ends the session (POST, with the CSRF token).
pub const LOGOUT_PATH: &str = "/logout";

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The header that carries the CSRF token on API calls made with a session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The longest form body the CSRF check reads.
const MAX_FORM_BYTES: usize = 1 << 20;

/// Why sign-in could not be set up, or an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// The sign-in tables could not be created or updated.
    #[error("cannot apply the sign-in migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("sign-in database error")]
    Database(#[from] sqlx::Error),
    /// A login that is not lowercase letters, digits, `.`, `_` or `-` (1–64).
    #[error("login {0:?}: use 1 to 64 lowercase letters, digits, '.', '_' or '-'")]
    InvalidLogin(String),
    /// A role that is not lowercase letters or `_` (1–32).
    #[error("role {0:?}: use 1 to 32 lowercase letters or '_'")]
    InvalidRole(String),
    /// An account without a role.
    #[error("account {0:?}: give at least one role")]
    NoRole(String),
    /// A display name that is empty or too long.
    #[error("name of {0:?}: give 1 to 200 characters")]
    InvalidName(String),
    /// A new password that is too short or too long.
    #[error("password refused: {0}")]
    WeakPassword(String),
    /// The login is taken.
    #[error("account {0:?} exists already")]
    AccountExists(String),
    /// No account has the login.
    #[error("no account {0:?}")]
    UnknownAccount(String),
    /// No unrevoked API token has the id.
    #[error("no unrevoked API token {0:?}")]
    UnknownToken(String),
    /// The bootstrap file could not be read or is malformed.
    #[error("bootstrap file {path}: {reason}")]
    Bootstrap {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A password could not be hashed, or a stored hash is unreadable.
    #[error("password hash: {0}")]
    Hash(String),
    /// The operating system's random source failed.
    #[error("the system random source failed")]
    Random,
    /// Reading a password or writing a listing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How a service's sign-in behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app's short name: the cookie is `egov-<app>-session`.
    pub app: String,
    /// The app's title on the login page.
    pub title: String,
    /// Whether the cookie is `Secure` (sent over HTTPS only); on for any deployment behind TLS.
    pub secure_cookie: bool,
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
    /// Origins a state-changing request may come from (`http://host:port`); empty means the
    /// request's own `Host`, over http or https.
    pub origins: Vec<String>,
    /// Failed logins allowed per login.
    pub per_login: Limit,
    /// Failed logins allowed per client address.
    pub per_address: Limit,
    /// Paths under this prefix answer 401 instead of redirecting to the login page.
    pub api_prefix: String,
    /// Where a person lands after signing in when no page was asked for.
    pub home: String,
    /// A TOML file of first accounts, added when their logins are absent.
    pub bootstrap: Option<PathBuf>,
}

impl Settings {
    /// Returns the defaults for an app: 30 minutes idle, 12 hours absolute, 5 failed logins
    /// per login and 20 per address in 15 minutes, cookie not `Secure` (loopback HTTP).
    pub fn new(app: &str, title: &str) -> Settings {
        Settings {
            app: app.to_owned(),
            title: title.to_owned(),
            secure_cookie: false,
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            origins: Vec::new(),
            per_login: Limit {
                failures: 5,
                window: Duration::from_secs(15 * 60),
            },
            per_address: Limit {
                failures: 20,
                window: Duration::from_secs(15 * 60),
            },
            api_prefix: "/api/".to_owned(),
            home: "/".to_owned(),
            bootstrap: None,
        }
    }

    /// Returns the session cookie's name.
    pub fn cookie_name(&self) -> String {
        format!("egov-{}-session", self.app)
    }
}

/// A person (or system) with an account: who signed in or called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The login.
    pub login: String,
    /// The display name, recorded on what the person does.
    pub name: String,
    /// The roles, e.g. `clerk`, `head`.
    pub roles: Vec<String>,
}

impl Person {
    /// Returns whether the person has a role.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|own| own == role)
    }

    /// Returns `Ok` if the person has the role, else a 403 refusal naming it.
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        match self.has_role(role) {
            true => Ok(()),
            false => Err(Forbidden {
                login: self.login.clone(),
                role: role.to_owned(),
            }),
        }
    }
}

/// A person lacking the role an action needs: 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{login:?} does not have the role {role:?}")]
pub struct Forbidden {
    /// Who asked.
    pub login: String,
    /// The role needed.
    pub role: String,
}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, self.to_string()).into_response()
    }
}

/// A person signed in with a session cookie (pages, forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Who.
    pub person: Person,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

/// A system or operator calling with a bearer API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCaller {
    /// Whose token it is.
    pub person: Person,
    /// The token's id.
    pub token_id: String,
}

/// Whoever the request is from: a session or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A person with a session.
    Session(SignedIn),
    /// A bearer token.
    Api(ApiCaller),
}

impl Caller {
    /// Returns the person behind the request.
    pub fn person(&self) -> &Person {
        match self {
            Caller::Session(signed_in) => &signed_in.person,
            Caller::Api(caller) => &caller.person,
        }
    }
}

/// The refusal of a handler's extractor when the request is not signed in as it needs: 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthorized(&'static str);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, self.0).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Unauthorized> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(Unauthorized(
                "sign in first: the route is not behind Signin::protect",
            ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<SignedIn, Unauthorized> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Session(signed_in) => Ok(signed_in),
            Caller::Api(_) => Err(Unauthorized(
                "this page needs a signed-in person, not an API token",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiCaller, Unauthorized> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Api(caller) => Ok(caller),
            Caller::Session(_) => Err(Unauthorized("this call needs an API token")),
        }
    }
}

/// A service's sign-in: its accounts, sessions, tokens and login limits; cheap to clone.
#[derive(Debug, Clone)]
pub struct Signin {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    settings: Settings,
    clock: Arc<dyn Clock>,
    limiter: limit::Limiter,
    /// Verified against when the login is unknown, so an unknown login costs as much time
    /// as a wrong password and the timing tells no one which logins exist.
    decoy_hash: String,
}

/// Checks a login's form.
pub fn check_login(login: &str) -> Result<(), SigninError> {
    let ok = (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    ok.then_some(())
        .ok_or_else(|| SigninError::InvalidLogin(login.to_owned()))
}

/// Checks a role's form.
pub fn check_role(role: &str) -> Result<(), SigninError> {
    let ok =
        (1..=32).contains(&role.len()) && role.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    ok.then_some(())
        .ok_or_else(|| SigninError::InvalidRole(role.to_owned()))
}

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

impl Signin {
    /// Opens sign-in on the service's pool: applies its migrations, then adds the bootstrap
    /// file's accounts whose logins are absent.
    pub async fn open(
        pool: Pool,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Signin, SigninError> {
        store::migrate(&pool).await?;
        let decoy_hash = password::hash(&secret::random_hex(16)?)?;
        let signin = Signin {
            inner: Arc::new(Inner {
                limiter: limit::Limiter::new(settings.per_login, settings.per_address),
                pool,
                settings,
                clock,
                decoy_hash,
            }),
        };
        if let Some(path) = signin.inner.settings.bootstrap.clone() {
            let added = bootstrap::apply(&signin, &path).await?;
            tracing::info!(file = %path.display(), added, "sign-in accounts bootstrapped");
        }
        Ok(signin)
    }

    /// Returns the settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Adds an account with roles and a password (hashed with argon2id).
    pub async fn add_account(
        &self,
        login: &str,
        name: &str,
        roles: &[String],
        password: &str,
    ) -> Result<Person, SigninError> {
        password::check(password)?;
        let hash = password::hash(password)?;
        self.add_account_hashed(login, name, roles, &hash).await
    }

    /// Adds an account whose password hash was made elsewhere (a bootstrap file).
    pub async fn add_account_hashed(
        &self,
        login: &str,
        name: &str,
        roles: &[String],
        password_hash: &str,
    ) -> Result<Person, SigninError> {
        check_login(login)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(SigninError::InvalidName(login.to_owned()));
        }
        if roles.is_empty() {
            return Err(SigninError::NoRole(login.to_owned()));
        }
        roles.iter().try_for_each(|role| check_role(role))?;
        password::check_hash(password_hash)?;
        let person = Person {
            login: login.to_owned(),
            name: name.to_owned(),
            roles: roles.to_vec(),
        };
        store::insert_account(&self.inner.pool, &person, password_hash, unix(self.now())).await?;
        Ok(person)
    }

    /// Sets a new password and ends the account's sessions.
    pub async fn set_password(&self, login: &str, password: &str) -> Result<(), SigninError> {
        password::check(password)?;
        let hash = password::hash(password)?;
        store::set_password(&self.inner.pool, login, &hash).await
    }

    /// Returns every account.
    pub async fn accounts(&self) -> Result<Vec<Person>, SigninError> {
        store::accounts(&self.inner.pool).await
    }

    /// Returns whether an account exists.
    pub async fn has_account(&self, login: &str) -> Result<bool, SigninError> {
        Ok(store::account(&self.inner.pool, login).await?.is_some())
    }

    /// Issues an API token for an account: returns its id and the secret, shown only now.
    pub async fn issue_token(
        &self,
        login: &str,
        label: &str,
    ) -> Result<(String, String), SigninError> {
        if !self.has_account(login).await? {
            return Err(SigninError::UnknownAccount(login.to_owned()));
        }
        let id = secret::random_hex(6)?;
        let token = format!("egov_{}", secret::random_hex(32)?);
        store::insert_token(
            &self.inner.pool,
            &id,
            &secret::digest(&token),
            login,
            label,
            unix(self.now()),
        )
        .await?;
        Ok((id, token))
    }

    /// Revokes an API token by id.
    pub async fn revoke_token(&self, id: &str) -> Result<(), SigninError> {
        match store::revoke_token(&self.inner.pool, id, unix(self.now())).await? {
            true => Ok(()),
            false => Err(SigninError::UnknownToken(id.to_owned())),
        }
    }

    /// Returns every API token (never a secret).
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>, SigninError> {
        store::tokens(&self.inner.pool).await
    }

    /// Returns the caller of a bearer token, if it is known and unrevoked.
    pub async fn token_caller(&self, token: &str) -> Result<Option<ApiCaller>, SigninError> {
        Ok(store::token(&self.inner.pool, &secret::digest(token))
            .await?
            .map(|(token_id, person)| ApiCaller { person, token_id }))
    }

    /// Checks a login and password against the limits (per login, and per client address when
    /// it is known) and the account; on success starts a session and returns its id (for the
    /// cookie) and the person.
    pub async fn sign_in(
        &self,
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<(String, SignedIn), LoginRefusal> {
        let now = self.now();
        let limiter = &self.inner.limiter;
        if let Some(wait) = limiter.check(login, address, now) {
            tracing::warn!(login, ?address, "login refused: too many failed attempts");
            return Err(LoginRefusal::TooManyAttempts(wait));
        }
        let account = store::account(&self.inner.pool, login).await?;
        let (hash, person) = match &account {
            Some(row) => (row.password_hash.clone(), Some(row.person.clone())),
            None => (self.inner.decoy_hash.clone(), None),
        };
        let candidate = password.to_owned();
        // argon2 takes tens of milliseconds of CPU: off the async workers.
        let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &hash))
            .await
            .unwrap_or(false);
        let Some(person) = person.filter(|_| matches) else {
            limiter.failed(login, address, now);
            tracing::info!(login, ?address, "login refused: wrong login or password");
            return Err(LoginRefusal::WrongCredentials);
        };
        limiter.succeeded(login);
        let id = secret::random_hex(32)?;
        let csrf = secret::random_hex(32)?;
        store::insert_session(
            &self.inner.pool,
            &secret::digest(&id),
            login,
            &csrf,
            unix(now),
        )
        .await?;
        tracing::info!(login, "signed in");
        Ok((id, SignedIn { person, csrf }))
    }

    /// Returns the person of a session id if the session is alive, recording its use; an
    /// expired session is deleted.
    pub async fn session(&self, id: &str) -> Result<Option<SignedIn>, SigninError> {
        let id_hash = secret::digest(id);
        let Some(row) = store::session(&self.inner.pool, &id_hash).await? else {
            return Ok(None);
        };
        let now = unix(self.now());
        let settings = &self.inner.settings;
        let idle = i64::try_from(settings.idle.as_secs()).unwrap_or(i64::MAX);
        let absolute = i64::try_from(settings.absolute.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(row.seen_at) >= idle || now.saturating_sub(row.created_at) >= absolute
        {
            store::delete_session(&self.inner.pool, &id_hash).await?;
            return Ok(None);
        }
        store::touch_session(&self.inner.pool, &id_hash, now).await?;
        Ok(Some(SignedIn {
            person: row.person,
            csrf: row.csrf,
        }))
    }

    /// Ends a session.
    pub async fn sign_out(&self, id: &str) -> Result<(), SigninError> {
        store::delete_session(&self.inner.pool, &secret::digest(id)).await
    }

    /// Deletes every expired session; returns how many.
    pub async fn sweep(&self) -> Result<u64, SigninError> {
        let now = self.now();
        let settings = &self.inner.settings;
        store::delete_expired_sessions(
            &self.inner.pool,
            unix(now - settings.idle),
            unix(now - settings.absolute),
        )
        .await
    }
}

/// Why a login was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginRefusal {
    /// The login is unknown or the password wrong (never said which).
    #[error("wrong login or password")]
    WrongCredentials,
    /// Too many failed attempts for the login or the address: wait this long.
    #[error("too many failed attempts; try again in {} s", .0.as_secs())]
    TooManyAttempts(Duration),
    /// The store failed.
    #[error(transparent)]
    Failed(#[from] SigninError),
}
