//! Who may enrol (регистратор / одноразовый токен): a registrar account, or a one-time
//! enrolment token bound to one role and one BIN (organisations) or IIN (individuals).
//! Tokens are handed to each system by `egov up` or the compose generator; the centre keeps
//! only their SHA-256 ([`Grant`]), reads them from `enrolment_grants` / `enrolment_grants_file`
//! and marks each used once it has issued a certificate for it.
//!
//! The credential travels in gRPC metadata: `authorization: Bearer <token>`, or
//! `egov-registrar-login` + `egov-registrar-password`.

use egov_core::pki::Role;
use egov_core::systems::{self, SystemInfo};
use tonic::metadata::MetadataMap;

use crate::PkiError;

/// The metadata key of a registrar's login.
pub const REGISTRAR_LOGIN: &str = egov_core::pki::request::REGISTRAR_LOGIN_METADATA;
/// The metadata key of a registrar's password.
pub const REGISTRAR_PASSWORD: &str = egov_core::pki::request::REGISTRAR_PASSWORD_METADATA;

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
}

impl Grant {
    /// Returns the grant's line in a grants file: `<role>:<BIN or IIN>:<sha256 hex>`.
    pub fn line(&self) -> String {
        format!(
            "{}:{}:{}",
            role_key(self.role),
            self.subject,
            self.token_sha256
        )
    }

    /// Parses a grants text: entries separated by newlines or commas, `#` starts a comment.
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
                    "enrolment grant {entry:?}: {reason}; expected <role>:<BIN or IIN>:<sha256 hex>"
                ))
            };
            let mut parts = entry.split(':');
            let (Some(role), Some(subject), Some(digest), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("not three fields"));
            };
            let role = role_from_key(role).ok_or_else(|| bad("unknown role"))?;
            if subject.len() != 12 || !subject.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("the subject is not a 12-digit BIN or IIN"));
            }
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("the digest is not 64 hex digits"));
            }
            grants.push(Grant {
                token_sha256: digest.to_ascii_lowercase(),
                role,
                subject: subject.to_owned(),
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
    /// Makes a fresh token for `role` and `subject`, handed through `env`.
    pub fn new(env: &str, role: Role, subject: &str) -> Result<IssuedToken, PkiError> {
        let token = egov_signin::secret::random_hex(32)
            .map_err(|error| PkiError::Config(format!("enrolment token: {error}")))?;
        Ok(IssuedToken {
            env: env.to_owned(),
            grant: Grant {
                token_sha256: egov_signin::secret::digest(&token),
                role,
                subject: subject.to_owned(),
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

/// Makes one token per system of the stack (its seal: legal entity, its BIN) and one for the
/// back office's head: what `egov up` and the compose generator hand out.
pub fn stack_tokens() -> Result<Vec<IssuedToken>, PkiError> {
    let mut tokens = systems::ALL
        .iter()
        .map(|system| IssuedToken::new(&token_env(system), Role::LegalEntity, system.bin))
        .collect::<Result<Vec<_>, _>>()?;
    tokens.push(IssuedToken::new(
        HEAD_TOKEN_ENV,
        Role::Head,
        systems::BACKOFFICE.bin,
    )?);
    Ok(tokens)
}

/// Renders the grants of `tokens` as a grants file.
pub fn grants_text(tokens: &[IssuedToken]) -> String {
    let mut text =
        String::from("# egov-pki enrolment grants: <role>:<BIN or IIN>:<sha256 of the token>\n");
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
    fn every_system_of_the_stack_and_the_head_get_a_token() {
        let tokens = stack_tokens().expect("tokens");
        assert_eq!(tokens.len(), systems::ALL.len() + 1);
        assert!(
            tokens
                .iter()
                .any(|t| t.env == "EGOV_GATEWAY__ENROLMENT_TOKEN")
        );
    }
}
