//! Operators and administrators (оператор / администратор): who may read a system's logs and
//! make its operator writes (record an employment, register a power of attorney, add
//! kindergarten places, open a back-office case, reload the gateway's registry).
//!
//! [`Operators::require`] puts a router's routes behind a [`Role`]: no credentials → 401, a
//! caller without the role → 403. A caller proves itself with a bearer token
//! (`Authorization: Bearer …`, or the gRPC metadata entry `authorization`), or — where the
//! service has [`Signin`] — with a session cookie (state-changing requests then need the CSRF
//! header and an allowed origin, as everywhere else).
//!
//! A service gets its first tokens from the file [`OPERATORS_FILE`] in its data directory,
//! which `egov up` and the test stack write: only the tokens' SHA-256 digests are in it.
//!
//! ```toml
//! [[token]]
//! login = "operator"
//! roles = ["operator"]
//! sha256 = "4f1c…"                 # secret::digest of the bearer token
//! expires = 2026-12-14T09:00:00Z   # RFC 3339, bare or quoted
//! ```
//!
//! Every token of the file expires, so a leaked one does not work forever: after `expires` it
//! is refused with 401 naming when it expired. An entry without `expires` (a file written
//! before expiries existed, or by hand) expires [`DEFAULT_TOKEN_LIFETIME`] after the file was
//! last written (its modification time): the services keep no state of their own to remember
//! when they first read an entry, and rewriting the file is already an administrator's act.
//!
//! Expiry is judged on the wall clock, never on the stack's virtual clock: an operator token is
//! a credential of a person in the real world, and moving the simulated time (days ahead, or
//! back) must neither lock the operator out nor revive a token that has run out.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::{CSRF_HEADER, Caller, Person, Signin, SigninError, secret};

/// The file, in a service's data directory, that holds its operators' token digests.
pub const OPERATORS_FILE: &str = "operators.toml";

/// How long a token of the operators file without `expires` is admitted after the file was
/// last written, and the lifetime `egov up` gives its administrator's token unless told
/// otherwise: a working week, short enough that a forgotten token soon stops working.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::days(7);

/// A role an operator action needs. An administrator may do whatever an operator may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads logs and makes the day-to-day writes (оператор).
    Operator,
    /// Also changes the system itself: registry reload (администратор).
    Admin,
}

impl Role {
    /// Returns the role's name as accounts and token files spell it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Returns whether a person with these roles may act in this role.
    pub fn granted_to(self, roles: &[String]) -> bool {
        roles
            .iter()
            .any(|role| role == Role::Admin.name() || role == self.name())
    }
}

/// Why an operator request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No credentials, or unknown ones: 401 / gRPC `UNAUTHENTICATED`.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A known token past its expiry: 401 / gRPC `UNAUTHENTICATED`, naming when it expired.
    #[error(
        "the operator token of {login:?} expired at {expired_at}; ask an administrator for a new one"
    )]
    Expired {
        /// Whose token it was.
        login: String,
        /// When it expired (RFC 3339).
        expired_at: String,
    },
    /// Known caller without the role: 403 / gRPC `PERMISSION_DENIED`.
    #[error("{login:?} does not have the role {role:?}")]
    Forbidden {
        /// Who asked.
        login: String,
        /// The role needed.
        role: &'static str,
    },
    /// The sign-in store failed: 500 / gRPC `INTERNAL`.
    #[error("sign-in is unavailable")]
    Unavailable,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match self {
            Refusal::Unauthenticated(_) | Refusal::Expired { .. } => StatusCode::UNAUTHORIZED,
            Refusal::Forbidden { .. } => StatusCode::FORBIDDEN,
            Refusal::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<Refusal> for tonic::Status {
    fn from(refusal: Refusal) -> tonic::Status {
        match refusal {
            Refusal::Unauthenticated(message) => tonic::Status::unauthenticated(message),
            Refusal::Expired { .. } => tonic::Status::unauthenticated(refusal.to_string()),
            Refusal::Forbidden { .. } => tonic::Status::permission_denied(refusal.to_string()),
            Refusal::Unavailable => tonic::Status::internal(refusal.to_string()),
        }
    }
}

/// One token of the operators file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    login: String,
    roles: Vec<String>,
    sha256: String,
    #[serde(default)]
    expires: Option<Expiry>,
}

/// An entry's `expires`: a TOML date-time or a string, either in RFC 3339.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Expiry {
    /// `expires = 2026-12-14T09:00:00Z`
    Datetime(toml::value::Datetime),
    /// `expires = "2026-12-14T09:00:00Z"`
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<FileEntry>,
}

/// One admitted token: its digest, its holder and when it stops being admitted.
#[derive(Debug, Clone)]
struct TokenEntry {
    login: String,
    roles: Vec<String>,
    sha256: String,
    /// `None` only for tokens added in code ([`Operators::with_token`]), never from a file.
    expires_at: Option<OffsetDateTime>,
}

/// A service's operators: the configured token digests and, optionally, its sign-in (accounts,
/// sessions, issued tokens). Cheap to clone. The default admits no one.
#[derive(Debug, Clone, Default)]
pub struct Operators {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tokens: Vec<TokenEntry>,
    signin: Option<Signin>,
}

impl Operators {
    /// Reads the operators file; its tokens must be SHA-256 digests (64 hex digits), and each
    /// expires at its `expires`, or [`DEFAULT_TOKEN_LIFETIME`] after the file was last written.
    pub fn from_file(path: &Path) -> Result<Operators, SigninError> {
        let bad = |reason: String| SigninError::Bootstrap {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|error| bad(error.to_string()))?;
        let written = std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .map_err(|error| bad(format!("cannot tell when it was written: {error}")))?;
        let file: TokenFile = toml::from_str(&text).map_err(|error| bad(error.to_string()))?;
        let mut tokens = Vec::with_capacity(file.token.len());
        for entry in file.token {
            crate::check_login(&entry.login)?;
            entry
                .roles
                .iter()
                .try_for_each(|role| crate::check_role(role))?;
            let hex =
                entry.sha256.len() == 64 && entry.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex {
                return Err(bad(format!(
                    "token of {:?}: `sha256` must be 64 hex digits (the token's digest, never the token)",
                    entry.login
                )));
            }
            let expires_at = match &entry.expires {
                Some(expiry) => parse_expiry(expiry).ok_or_else(|| {
                    bad(format!(
                        "token of {:?}: `expires` must be an RFC 3339 time with its offset, e.g. 2026-12-14T09:00:00Z",
                        entry.login
                    ))
                })?,
                None => OffsetDateTime::from(written).saturating_add(DEFAULT_TOKEN_LIFETIME),
            };
            tokens.push(TokenEntry {
                sha256: entry.sha256.to_ascii_lowercase(),
                login: entry.login,
                roles: entry.roles,
                expires_at: Some(expires_at),
            });
        }
        Ok(Operators {
            inner: Arc::new(Inner {
                tokens,
                signin: None,
            }),
        })
    }

    /// Reads [`OPERATORS_FILE`] in a data directory; without one, no one is admitted (and a
    /// warning says so).
    pub fn from_data_dir(dir: &Path) -> Result<Operators, SigninError> {
        let path = dir.join(OPERATORS_FILE);
        if !path.exists() {
            tracing::warn!(file = %path.display(), "no operators file: operator routes answer 401 to everyone");
            return Ok(Operators::default());
        }
        Operators::from_file(&path)
    }

    /// Reads [`OPERATORS_FILE`] like [`Operators::from_data_dir`]; a malformed file is logged
    /// and admits no one (closed, never open).
    pub fn from_data_dir_or_none(dir: &Path) -> Operators {
        Operators::from_data_dir(dir).unwrap_or_else(|error| {
            tracing::error!(error = %error, "operators file unreadable: operator routes answer 401 to everyone");
            Operators::default()
        })
    }

    /// Returns these operators plus one token (kept as its digest): for tests and embedders.
    pub fn with_token(self, login: &str, roles: &[Role], token: &str) -> Operators {
        let mut tokens = self.inner.tokens.clone();
        tokens.push(TokenEntry {
            login: login.to_owned(),
            roles: roles.iter().map(|role| role.name().to_owned()).collect(),
            sha256: secret::digest(token),
            expires_at: None,
        });
        Operators {
            inner: Arc::new(Inner {
                tokens,
                signin: self.inner.signin.clone(),
            }),
        }
    }

    /// Returns these operators also admitting the accounts, sessions and tokens of `signin`.
    pub fn with_signin(self, signin: Signin) -> Operators {
        Operators {
            inner: Arc::new(Inner {
                tokens: self.inner.tokens.clone(),
                signin: Some(signin),
            }),
        }
    }

    /// Returns the person a bearer token belongs to if they have `role`.
    pub async fn authorize_bearer(
        &self,
        token: Option<&str>,
        role: Role,
    ) -> Result<Person, Refusal> {
        let Some(token) = token.map(str::trim).filter(|token| !token.is_empty()) else {
            return Err(Refusal::Unauthenticated(
                "an operator token is needed: `Authorization: Bearer <token>`",
            ));
        };
        let digest = secret::digest(token);
        let configured = self
            .inner
            .tokens
            .iter()
            .find(|entry| secret::same(&entry.sha256, &digest));
        if let Some(entry) = configured
            && let Some(expires_at) = entry.expires_at
            // The wall clock, on purpose: see the module's note on operator tokens and time.
            && OffsetDateTime::from(SystemTime::now()) >= expires_at
        {
            return Err(Refusal::Expired {
                login: entry.login.clone(),
                expired_at: rfc3339(expires_at),
            });
        }
        let configured = configured.map(|entry| Person {
            login: entry.login.clone(),
            name: entry.login.clone(),
            roles: entry.roles.clone(),
        });
        let person = match (configured, &self.inner.signin) {
            (Some(person), _) => person,
            (None, Some(signin)) => match signin.token_caller(token).await {
                Ok(Some(caller)) => caller.person,
                Ok(None) => {
                    return Err(Refusal::Unauthenticated("the token is unknown or revoked"));
                }
                Err(error) => {
                    tracing::error!(error = %error, "operator token lookup failed");
                    return Err(Refusal::Unavailable);
                }
            },
            (None, None) => {
                return Err(Refusal::Unauthenticated("the token is unknown or revoked"));
            }
        };
        granted(person, role)
    }

    /// Returns who made an HTTP request if they have `role`: a bearer token, else a session
    /// (a state-changing request on a session needs its CSRF header and an allowed origin).
    pub async fn authorize(
        &self,
        method: &Method,
        headers: &HeaderMap,
        role: Role,
    ) -> Result<Person, Refusal> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "));
            let Some(token) = token else {
                return Err(Refusal::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`",
                ));
            };
            return self.authorize_bearer(Some(token), role).await;
        }
        let session = match (
            &self.inner.signin,
            self.inner
                .signin
                .as_ref()
                .and_then(|s| s.cookie_value(headers)),
        ) {
            (Some(signin), Some(id)) => signin.session(&id).await.map_err(|error| {
                tracing::error!(error = %error, "session lookup failed");
                Refusal::Unavailable
            })?,
            _ => None,
        };
        let Some(signed_in) = session else {
            return self.authorize_bearer(None, role).await;
        };
        if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let signin = self.inner.signin.as_ref().ok_or(Refusal::Unavailable)?;
            let csrf_ok = headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| secret::same(value, &signed_in.csrf));
            if !signin.origin_allowed(headers) || !csrf_ok {
                return Err(Refusal::Forbidden {
                    login: signed_in.person.login,
                    role: "a same-site request with its CSRF token",
                });
            }
        }
        granted(signed_in.person, role)
    }

    /// Returns who made a gRPC call (metadata `authorization: Bearer …`) if they have `role`.
    pub async fn authorize_grpc(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        role: Role,
    ) -> Result<Person, tonic::Status> {
        let token = match metadata.get("authorization") {
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .ok_or(Refusal::Unauthenticated(
                        "the authorization metadata must be `Bearer <token>`",
                    ))?,
            ),
            None => None,
        };
        Ok(self.authorize_bearer(token, role).await?)
    }

    /// Returns `router` with every route behind `role`; handlers may take [`Caller`].
    pub fn require(&self, role: Role, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state((self.clone(), role), guard))
    }
}

fn granted(person: Person, role: Role) -> Result<Person, Refusal> {
    match role.granted_to(&person.roles) {
        true => Ok(person),
        false => Err(Refusal::Forbidden {
            login: person.login,
            role: role.name(),
        }),
    }
}

async fn guard(
    State((operators, role)): State<(Operators, Role)>,
    mut request: Request,
    next: Next,
) -> Response {
    match operators
        .authorize(request.method(), request.headers(), role)
        .await
    {
        Ok(person) => {
            tracing::info!(login = %person.login, method = %request.method(), path = %request.uri().path(), "operator request");
            request
                .extensions_mut()
                .insert(Caller::Api(crate::ApiCaller {
                    person,
                    token_id: String::new(),
                }));
            next.run(request).await
        }
        Err(refusal) => {
            tracing::warn!(method = %request.method(), path = %request.uri().path(), reason = %refusal, "operator request refused");
            refusal.into_response()
        }
    }
}

/// Makes a new operator token (`egov_` and 64 hex digits) and the `[[token]]` entry of the
/// operators file that admits it (its digest only) until `expires_at`.
pub fn new_token(
    login: &str,
    roles: &[Role],
    expires_at: OffsetDateTime,
) -> Result<(String, String), SigninError> {
    crate::check_login(login)?;
    let token = format!("egov_{}", secret::random_hex(32)?);
    let entry = token_entry(login, roles, &secret::digest(&token), expires_at);
    Ok((token, entry))
}

/// Returns the `[[token]]` entry of the operators file admitting the token whose SHA-256 is
/// `sha256` for `login` with `roles` until `expires_at`.
pub fn token_entry(
    login: &str,
    roles: &[Role],
    sha256: &str,
    expires_at: OffsetDateTime,
) -> String {
    let roles = roles
        .iter()
        .map(|role| format!("{:?}", role.name()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[[token]]\nlogin = {login:?}\nroles = [{roles}]\nsha256 = {sha256:?}\nexpires = {}\n",
        rfc3339(expires_at)
    )
}

/// Reads an entry's `expires` as an RFC 3339 time with its offset.
fn parse_expiry(expiry: &Expiry) -> Option<OffsetDateTime> {
    let text = match expiry {
        Expiry::Datetime(datetime) => datetime.to_string(),
        Expiry::Text(text) => text.clone(),
    };
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// Formats a time as RFC 3339 (whole seconds, UTC), as the operators file and refusals write it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    // Every time within years 0..=9999 formats; the fallback is never reached in use.
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt as _;

    use super::*;

    const OPERATOR_TOKEN: &str = "egov_operator_token_for_tests";
    const ADMIN_TOKEN: &str = "egov_admin_token_for_tests";

    fn operators() -> Operators {
        Operators::default()
            .with_token("op", &[Role::Operator], OPERATOR_TOKEN)
            .with_token("root", &[Role::Admin], ADMIN_TOKEN)
    }

    fn app() -> Router {
        let ops = operators();
        let reads = ops.require(
            Role::Operator,
            Router::new().route("/log", get(|| async { "log" })),
        );
        let admin = ops.require(
            Role::Admin,
            Router::new().route("/reload", post(|| async { "reloaded" })),
        );
        reads.merge(admin)
    }

    async fn status(method: &str, path: &str, token: Option<&str>) -> StatusCode {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        app()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("answered")
            .status()
    }

    #[tokio::test]
    async fn a_request_without_credentials_is_refused_with_401() {
        assert_eq!(status("GET", "/log", None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            status("POST", "/reload", None).await,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn an_unknown_token_is_refused_with_401() {
        assert_eq!(
            status("GET", "/log", Some("egov_guessed")).await,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn an_operator_reads_but_may_not_act_as_admin() {
        assert_eq!(
            status("GET", "/log", Some(OPERATOR_TOKEN)).await,
            StatusCode::OK
        );
        assert_eq!(
            status("POST", "/reload", Some(OPERATOR_TOKEN)).await,
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn an_admin_may_do_what_an_operator_may() {
        assert_eq!(
            status("GET", "/log", Some(ADMIN_TOKEN)).await,
            StatusCode::OK
        );
        assert_eq!(
            status("POST", "/reload", Some(ADMIN_TOKEN)).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_token_from_the_operators_file_is_admitted_by_its_digest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (token, entry) = new_token("operator", &[Role::Operator], in_days(1)).expect("token");
        assert!(
            !entry.contains(&token),
            "the file holds the digest, never the token"
        );
        std::fs::write(dir.path().join(OPERATORS_FILE), entry).expect("write");
        let ops = Operators::from_data_dir(dir.path()).expect("read");
        let person = ops
            .authorize_bearer(Some(&token), Role::Operator)
            .await
            .expect("admitted");
        assert_eq!(person.login, "operator");
        assert!(matches!(
            ops.authorize_bearer(Some(&token), Role::Admin).await,
            Err(Refusal::Forbidden { .. })
        ));
    }

    #[tokio::test]
    async fn a_data_dir_without_an_operators_file_admits_no_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ops = Operators::from_data_dir(dir.path()).expect("read");
        assert!(matches!(
            ops.authorize_bearer(Some(OPERATOR_TOKEN), Role::Operator)
                .await,
            Err(Refusal::Unauthenticated(_))
        ));
    }

    #[test]
    fn an_operators_file_holding_a_plain_token_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(OPERATORS_FILE);
        std::fs::write(
            &path,
            "[[token]]\nlogin = \"op\"\nroles = [\"operator\"]\nsha256 = \"egov_plain\"\n",
        )
        .expect("write");
        assert!(Operators::from_file(&path).is_err());
    }

    fn in_days(days: i64) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::days(days)
    }

    /// Writes an operators file holding `text`, last modified `age` ago, and reads it.
    fn operators_file(text: &str, age: Duration) -> Operators {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(OPERATORS_FILE);
        std::fs::write(&path, text).expect("write");
        let written = SystemTime::now() - std::time::Duration::try_from(age).expect("positive");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(written))
            .expect("set the modification time");
        Operators::from_file(&path).expect("read")
    }

    fn old_entry(token: &str) -> String {
        format!(
            "[[token]]\nlogin = \"op\"\nroles = [\"operator\"]\nsha256 = {:?}\n",
            secret::digest(token)
        )
    }

    #[tokio::test]
    async fn a_token_past_its_expiry_is_refused_with_401_naming_when_it_expired() {
        let expired_at = time::macros::datetime!(2026-01-05 08:00:00 UTC);
        let entry = token_entry(
            "op",
            &[Role::Operator],
            &secret::digest(OPERATOR_TOKEN),
            expired_at,
        );
        let ops = operators_file(&entry, Duration::ZERO);
        let refusal = ops
            .authorize_bearer(Some(OPERATOR_TOKEN), Role::Operator)
            .await
            .expect_err("expired");
        assert_eq!(
            refusal.to_string(),
            "the operator token of \"op\" expired at 2026-01-05T08:00:00Z; ask an administrator for a new one"
        );
        assert_eq!(
            refusal.clone().into_response().status(),
            StatusCode::UNAUTHORIZED
        );
        let status = tonic::Status::from(refusal);
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("expired at"), "{status:?}");
    }

    #[tokio::test]
    async fn a_token_before_its_expiry_is_admitted_and_expires_may_be_quoted() {
        let quoted = format!(
            "[[token]]\nlogin = \"op\"\nroles = [\"operator\"]\nsha256 = {:?}\nexpires = \"{}\"\n",
            secret::digest(OPERATOR_TOKEN),
            rfc3339(in_days(1))
        );
        let ops = operators_file(&quoted, Duration::ZERO);
        ops.authorize_bearer(Some(OPERATOR_TOKEN), Role::Operator)
            .await
            .expect("admitted until tomorrow");
    }

    #[tokio::test]
    async fn an_entry_without_expires_expires_a_lifetime_after_the_file_was_last_written() {
        let fresh = operators_file(&old_entry(OPERATOR_TOKEN), Duration::days(6));
        fresh
            .authorize_bearer(Some(OPERATOR_TOKEN), Role::Operator)
            .await
            .expect("six days after the file was written");
        let stale = operators_file(&old_entry(OPERATOR_TOKEN), Duration::days(8));
        assert!(matches!(
            stale
                .authorize_bearer(Some(OPERATOR_TOKEN), Role::Operator)
                .await,
            Err(Refusal::Expired { .. })
        ));
    }

    #[test]
    fn an_expiry_that_is_not_an_rfc_3339_time_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(OPERATORS_FILE);
        for expires in ["\"next week\"", "2026-12-14T09:00:00", "2026-12-14"] {
            std::fs::write(
                &path,
                format!("{}expires = {expires}\n", old_entry(OPERATOR_TOKEN)),
            )
            .expect("write");
            let error = Operators::from_file(&path).expect_err(expires);
            assert!(error.to_string().contains("RFC 3339"), "{expires}: {error}");
        }
    }

    #[tokio::test]
    async fn grpc_metadata_without_a_token_is_unauthenticated() {
        let ops = operators();
        let mut metadata = tonic::metadata::MetadataMap::new();
        let status = ops
            .authorize_grpc(&metadata, Role::Operator)
            .await
            .expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        metadata.insert(
            "authorization",
            format!("Bearer {OPERATOR_TOKEN}").parse().expect("ascii"),
        );
        ops.authorize_grpc(&metadata, Role::Operator)
            .await
            .expect("admitted");
    }
}
