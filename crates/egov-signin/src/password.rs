//! Passwords: argon2id (RFC 9106) at the argon2 crate's defaults (19 MiB, 2 passes, 1 lane,
//! OWASP's recommendation), stored as a PHC string that carries its own salt and parameters.

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use ring::rand::{SecureRandom, SystemRandom};

use crate::SigninError;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// The longest password accepted: hashing is costly, so a megabyte "password" is refused.
pub const MAX_LENGTH: usize = 256;

/// Checks a new password's length, naming what is wrong.
pub fn check(password: &str) -> Result<(), SigninError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(SigninError::WeakPassword(format!(
            "it has {length} characters; at least {MIN_LENGTH} are needed"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(SigninError::WeakPassword(format!(
            "it is longer than {MAX_LENGTH} bytes"
        )));
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh random salt.
pub fn hash(password: &str) -> Result<String, SigninError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| SigninError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| SigninError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| SigninError::Hash(error.to_string()))
}

/// Checks that a stored hash is a PHC string argon2 can verify against.
pub fn check_hash(phc: &str) -> Result<(), SigninError> {
    PasswordHash::new(phc)
        .map(|_| ())
        .map_err(|error| SigninError::Hash(format!("not an argon2 PHC string: {error}")))
}

/// Returns whether `password` matches the stored hash; an unreadable hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LENGTH {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_argon2id_hash_and_nothing_else_does() {
        let stored = hash("correct horse battery").expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(
            stored,
            hash("correct horse battery").expect("hash"),
            "salted"
        );
    }

    #[test]
    fn a_short_password_is_refused_naming_the_length() {
        let error = check("short").expect_err("too short");
        assert!(error.to_string().contains("at least 10"), "{error}");
        check("long enough pass").expect("accepted");
    }
}
