//! Who may enrol (регистратор / одноразовый токен): a registrar account, or a one-time
//! enrolment token bound to one role and one BIN (organisations) or IIN (individuals).
//! Tokens are handed to each system by `egov up` or the compose generator; the centre keeps
//! only their SHA-256 ([`Grant`]), reads them from `enrolment_grants` / `enrolment_grants_file`
//! and marks each used once it has issued a certificate for it.
//!
//! Every token expires, judged on the centre's clock. A grant either carries the time it stops
//! enrolling (issued time plus a lifetime, [`DEFAULT_TOKEN_LIFETIME`] unless configured: what
//! the centre's own generator and `egov-pki tokens` write, issued on the centre's clock), or
//! names no expiry (three fields) and expires the centre's `enrolment_token_lifetime_hours`
//! after the centre first read it. `egov up` hands out grants of the second form
//! ([`stack_tokens`]): it cannot know the stack's time (under `--clock virtual` the clock
//! authority keeps it in NATS, and a reused data dir may be days ahead of the wall clock), so
//! the lifetime starts on the clock that judges it. Entries written before expiries existed
//! read the same way, so an old compose volume's grants keep the centre starting, and yet no
//! token enrols forever.
//!
//! The credential travels in gRPC metadata: `authorization: Bearer <token>`, or
//! `egov-registrar-login` + `egov-registrar-password`.

use egov_core::clock::{Clock as _, SystemClock};
use egov_core::pki::Role;
use egov_core::providers::{self, Organisation};
use egov_core::systems::{self, SystemInfo};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tonic::metadata::MetadataMap;

use crate::PkiError;

/// The metadata key of a registrar's login.
pub const REGISTRAR_LOGIN: &str = egov_core::pki::request::REGISTRAR_LOGIN_METADATA;
/// The metadata key of a registrar's password.
pub const REGISTRAR_PASSWORD: &str = egov_core::pki::request::REGISTRAR_PASSWORD_METADATA;

/// How long a token enrols after it is made, unless configured otherwise: a day is enough for
/// a system started with it to enrol, and short enough that a leaked, unused token soon dies.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::hours(24);

/// The header of a grants file, naming its entries' form.
const GRANTS_HEADER: &str = "# egov-pki enrolment grants: <role>:<BIN or IIN>:<sha256 of the token>:<expires at, RFC 3339>\n";

/// What a caller presented to enrol or revoke.
#[derive(Clone, PartialEq, Eq)]
pub enum CallerCredential {
    /// Nothing.
    None,
    /// A one-time enrolment token.
    Token(String),
    /// A registrar account.
    Registrar {
        /// The login.
        login: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for CallerCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        match self {
            CallerCredential::None => f.write_str("None"),
            CallerCredential::Token(_) => f.write_str("Token(..)"),
            CallerCredential::Registrar { login, .. } => write!(f, "Registrar({login})"),
        }
    }
}

impl CallerCredential {
    /// Reads the credential from a call's metadata; unreadable values count as absent.
    pub fn from_metadata(metadata: &MetadataMap) -> CallerCredential {
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        if let (Some(login), Some(password)) = (text(REGISTRAR_LOGIN), text(REGISTRAR_PASSWORD)) {
            return CallerCredential::Registrar { login, password };
        }
        match text("authorization")
            .as_deref()
            .and_then(|value| value.strip_prefix("Bearer "))
        {
            Some(token) if !token.trim().is_empty() => {
                CallerCredential::Token(token.trim().to_owned())
            }
            _ => CallerCredential::None,
        }
    }
}

/// A one-time enrolment grant as the centre stores it: the token's digest, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// SHA-256 of the token, lowercase hex.
    pub token_sha256: String,
    /// The role the token may enrol.
    pub role: Role,
    /// The BIN (organisation roles) or IIN (individuals) it may enrol.
    pub subject: String,
    /// When the token stops enrolling; `None` for an entry written before expiries existed,
    /// which the centre ends its configured lifetime after it first read the entry.
    pub expires_at: Option<OffsetDateTime>,
}

impl Grant {
    /// Returns the grant's line in a grants file:
    /// `<role>:<BIN or IIN>:<sha256 hex>:<expires at, RFC 3339>`.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}:{}:{}",
            role_key(self.role),
            self.subject,
            self.token_sha256
        );
        if let Some(expires_at) = self.expires_at {
            line.push(':');
            line.push_str(&rfc3339(expires_at));
        }
        line
    }

    /// Parses a grants text: entries separated by newlines or commas, `#` starts a comment.
    /// The fourth field, the expiry, may be missing in entries written before it existed.
    pub fn parse_all(text: &str) -> Result<Vec<Grant>, PkiError> {
        let mut grants = Vec::new();
        for entry in text
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default())
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let bad = |reason: &str| {
                PkiError::Config(format!(
                    "enrolment grant {entry:?}: {reason}; expected <role>:<BIN or IIN>:<sha256 hex>:<expires at, RFC 3339>"
                ))
            };
            // The expiry's own colons stay in the fourth field.
            let mut parts = entry.splitn(4, ':');
            let (Some(role), Some(subject), Some(digest), expiry) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("fewer than three fields"));
            };
            let role = role_from_key(role).ok_or_else(|| bad("unknown role"))?;
            if subject.len() != 12 || !subject.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("the subject is not a 12-digit BIN or IIN"));
            }
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("the digest is not 64 hex digits"));
            }
            let expires_at = expiry
                .map(|expiry| {
                    OffsetDateTime::parse(expiry, &Rfc3339)
                        .map_err(|_| bad("the expiry is not an RFC 3339 time"))
                })
                .transpose()?;
            grants.push(Grant {
                token_sha256: digest.to_ascii_lowercase(),
                role,
                subject: subject.to_owned(),
                expires_at,
            });
        }
        Ok(grants)
    }
}

/// A token and the grant that lets it enrol, made together: the token goes to the holder,
/// the grant to the centre.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The environment variable the holder reads it from, e.g. `EGOV_LABOR__ENROLMENT_TOKEN`.
    pub env: String,
    /// The token (32 random bytes, hex).
    pub token: String,
    /// Its grant.
    pub grant: Grant,
}

impl IssuedToken {
    /// Makes a fresh token for `role` and `subject`, handed through `env`, that enrols for
    /// [`DEFAULT_TOKEN_LIFETIME`] from now on the wall clock.
    pub fn new(env: &str, role: Role, subject: &str) -> Result<IssuedToken, PkiError> {
        IssuedToken::issued_at(
            env,
            role,
            subject,
            SystemClock.now(),
            DEFAULT_TOKEN_LIFETIME,
        )
    }

    /// Makes a fresh token issued at `issued_at` that enrols for `lifetime`: the centre's own
    /// generator issues on its clock, which may be the stack's virtual one.
    pub fn issued_at(
        env: &str,
        role: Role,
        subject: &str,
        issued_at: OffsetDateTime,
        lifetime: Duration,
    ) -> Result<IssuedToken, PkiError> {
        let token = egov_signin::secret::random_hex(32)
            .map_err(|error| PkiError::Config(format!("enrolment token: {error}")))?;
        let expires_at = issued_at.checked_add(lifetime).ok_or_else(|| {
            PkiError::Config(format!(
                "enrolment token: a lifetime of {lifetime} from {} is past the last representable time",
                rfc3339(issued_at)
            ))
        })?;
        Ok(IssuedToken {
            env: env.to_owned(),
            grant: Grant {
                token_sha256: egov_signin::secret::digest(&token),
                role,
                subject: subject.to_owned(),
                expires_at: Some(expires_at),
            },
            token,
        })
    }
}

/// Returns the environment variable of a system's enrolment token: `EGOV_<SERVICE>__ENROLMENT_TOKEN`,
/// where the national gateway's service is `gateway`.
pub fn token_env(system: &SystemInfo) -> String {
    let service = if system.id == systems::GATEWAY.id {
        "gateway"
    } else {
        system.id
    };
    format!("EGOV_{}__ENROLMENT_TOKEN", service.to_ascii_uppercase())
}

/// The environment variable of the back office head's token (HEAD role, the back office's BIN).
pub const HEAD_TOKEN_ENV: &str = "EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKEN";

/// Returns the environment variable of a provider organisation's head's token (HEAD role, the
/// organisation's BIN): `EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__<KEY>`.
pub fn head_token_env(organisation: &Organisation) -> String {
    format!(
        "EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__{}",
        organisation.key.to_ascii_uppercase()
    )
}

/// Makes one token per system of the stack (its seal: legal entity, its BIN), one for the
/// back office's own head and one for each provider organisation's head, whose grants name no
/// expiry: each enrols for the centre's configured lifetime from when the centre first reads
/// its grant, on the centre's clock. What `egov up` hands out, since the stack's time
/// (possibly virtual, and far from the wall clock on a reused data dir) is the centre's to
/// judge, not the launcher's.
pub fn stack_tokens() -> Result<Vec<IssuedToken>, PkiError> {
    let mut tokens = stack_tokens_at(SystemClock.now(), DEFAULT_TOKEN_LIFETIME)?;
    for token in &mut tokens {
        token.grant.expires_at = None;
    }
    Ok(tokens)
}

/// Makes the stack's tokens as [`stack_tokens`] does, issued at `issued_at` for `lifetime`:
/// what the compose generator step and `egov-pki tokens` hand out.
pub fn stack_tokens_at(
    issued_at: OffsetDateTime,
    lifetime: Duration,
) -> Result<Vec<IssuedToken>, PkiError> {
    let issue = |env: &str, role, bin| IssuedToken::issued_at(env, role, bin, issued_at, lifetime);
    let mut tokens = systems::ALL
        .iter()
        .map(|system| issue(&token_env(system), Role::LegalEntity, system.bin))
        .collect::<Result<Vec<_>, _>>()?;
    tokens.push(issue(HEAD_TOKEN_ENV, Role::Head, systems::BACKOFFICE.bin)?);
    for organisation in providers::SIGNING {
        tokens.push(issue(
            &head_token_env(&organisation),
            Role::Head,
            organisation.bin,
        )?);
    }
    Ok(tokens)
}

/// Formats a time as RFC 3339, as grants files and refusals write it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    // Every OffsetDateTime within years 0..=9999 formats; the fallback is never reached in use.
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Renders the grants of `tokens` as a grants file.
pub fn grants_text(tokens: &[IssuedToken]) -> String {
    let mut text = String::from(GRANTS_HEADER);
    for token in tokens {
        text.push_str(&token.grant.line());
        text.push('\n');
    }
    text
}

/// Returns the stored and metric name of a role.
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Individual => "individual",
        Role::LegalEntity => "legal_entity",
        Role::Head => "head",
        Role::RightToSign => "right_to_sign",
        Role::Employee => "employee",
    }
}

/// Returns the role a stored name stands for.
pub fn role_from_key(key: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|role| role_key(*role) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grants_text_reads_back_and_bad_lines_are_refused() {
        let token = IssuedToken::new("X", Role::LegalEntity, systems::LABOR.bin).expect("token");
        let text = grants_text(std::slice::from_ref(&token));
        assert_eq!(Grant::parse_all(&text).expect("parses"), [token.grant]);
        assert!(
            !text.contains(&token.token),
            "the token itself is never written"
        );
        assert!(Grant::parse_all("legal_entity:123:abc").is_err());
        assert!(Grant::parse_all(&format!("mayor:040340001075:{}", "a".repeat(64))).is_err());
    }

    #[test]
    fn a_grant_carries_its_expiry_and_an_entry_from_before_expiries_reads_without_one() {
        let issued_at = time::macros::datetime!(2026-12-07 09:30:00 UTC);
        let token = IssuedToken::issued_at(
            "X",
            Role::Head,
            systems::BACKOFFICE.bin,
            issued_at,
            Duration::hours(2),
        )
        .expect("token");
        assert!(
            token.grant.line().ends_with(":2026-12-07T11:30:00Z"),
            "{}",
            token.grant.line()
        );
        let old = format!("head:{}:{}", systems::BACKOFFICE.bin, "a".repeat(64));
        let [grant] = Grant::parse_all(&old)
            .expect("still read")
            .try_into()
            .expect("one");
        assert_eq!(grant.expires_at, None);
        let error = Grant::parse_all(&format!("{old}:tomorrow")).expect_err("refused");
        assert!(error.to_string().contains("RFC 3339"), "{error}");
    }

    #[test]
    fn every_system_of_the_stack_the_back_offices_head_and_each_providers_head_get_a_token() {
        let tokens = stack_tokens().expect("tokens");
        assert_eq!(
            tokens.len(),
            systems::ALL.len() + 1 + providers::SIGNING.len()
        );
        for organisation in providers::SIGNING {
            let token = tokens
                .iter()
                .find(|token| token.env == head_token_env(&organisation))
                .unwrap_or_else(|| panic!("{}'s head has a token", organisation.key));
            assert_eq!(token.grant.role, Role::Head);
            assert_eq!(token.grant.subject, organisation.bin);
        }
        assert!(
            tokens.iter().all(|token| token.grant.expires_at.is_none()),
            "the stack's grants start their lifetime on the centre's clock"
        );
        assert!(
            tokens
                .iter()
                .any(|t| t.env == "EGOV_GATEWAY__ENROLMENT_TOKEN")
        );
    }
}
