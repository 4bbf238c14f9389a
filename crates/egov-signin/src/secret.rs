//! Random secrets and their stored form: session ids, CSRF and API tokens are 32 random bytes
//! in hex, and the database keeps only their SHA-256, so a copy of it opens no session.

use ring::rand::{SecureRandom, SystemRandom};

use crate::SigninError;

/// Returns `bytes` random bytes from the operating system, in lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, SigninError> {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| SigninError::Random)?;
    Ok(hex::encode(buffer))
}

/// Returns the SHA-256 of a secret in lowercase hex: what the database stores.
pub fn digest(secret: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        secret.as_bytes(),
    ))
}

/// Compares two secrets in time that depends only on their lengths, so a guess learns
/// nothing from how long the refusal took.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_secrets_differ_and_their_digest_is_not_the_secret() {
        let a = random_hex(32).expect("random");
        let b = random_hex(32).expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(digest(&a), a);
        assert_eq!(digest(&a), digest(&a));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same(&a, &a[..63]));
    }
}
