//! Asking whether a certificate is revoked, and caching the answers for a
//! freshness limit as trusted exchange layers do (an OCSP answer is reused
//! until it is too old, so the certification centre is not asked per message).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::pki::CertificateInfo;

/// A certificate's status as the certification centre answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Issued and not revoked.
    Good,
    /// Revoked at a time, for a reason.
    Revoked {
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// Why, as the centre names it.
        reason: String,
    },
    /// The centre does not know the certificate.
    Unknown,
}

/// The revocation source could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("revocation status unavailable: {0}")]
pub struct RevocationError(pub String);

/// Answers a certificate's revocation status (the PKI service, a CRL, a test list).
pub trait RevocationSource: Send + Sync {
    /// Returns the status of a certificate.
    fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> impl Future<Output = Result<RevocationStatus, RevocationError>> + Send;
}

impl<T: RevocationSource> RevocationSource for Arc<T> {
    fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> impl Future<Output = Result<RevocationStatus, RevocationError>> + Send {
        (**self).status(certificate)
    }
}

/// An in-memory revocation list keyed by serial: every serial not listed is
/// good. Used in tests and where a revocation list was loaded.
#[derive(Debug, Default)]
pub struct StaticRevocation {
    revoked: RwLock<HashMap<String, (OffsetDateTime, String)>>,
}

impl StaticRevocation {
    /// Creates an empty list.
    pub fn new() -> StaticRevocation {
        StaticRevocation::default()
    }

    /// Marks a serial (lowercase hex) revoked.
    pub fn revoke(&self, serial: &str, revoked_at: OffsetDateTime, reason: &str) {
        if let Ok(mut revoked) = self.revoked.write() {
            revoked.insert(serial.to_owned(), (revoked_at, reason.to_owned()));
        }
    }
}

impl RevocationSource for StaticRevocation {
    async fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> Result<RevocationStatus, RevocationError> {
        let revoked = self
            .revoked
            .read()
            .map_err(|_| RevocationError("revocation list lock poisoned".into()))?;
        Ok(match revoked.get(&certificate.serial) {
            Some((revoked_at, reason)) => RevocationStatus::Revoked {
                revoked_at: *revoked_at,
                reason: reason.clone(),
            },
            None => RevocationStatus::Good,
        })
    }
}

/// Default freshness limit of a cached answer: five minutes, so a revocation
/// takes effect at the gateway within minutes, not hours.
pub const DEFAULT_FRESHNESS: Duration = Duration::from_secs(300);

/// Default limit on one question to the certification centre: two seconds.
pub const DEFAULT_PKI_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds another source's answers in time: a source that does not answer
/// within the limit is unavailable, so a stalled certification centre cannot
/// hold messages at the gateway's door.
#[derive(Debug)]
pub struct TimeLimited<R> {
    inner: R,
    limit: Duration,
}

impl<R: RevocationSource> TimeLimited<R> {
    /// Wraps a source with a time limit per question.
    pub fn new(inner: R, limit: Duration) -> TimeLimited<R> {
        TimeLimited { inner, limit }
    }
}

impl<R: RevocationSource> RevocationSource for TimeLimited<R> {
    async fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> Result<RevocationStatus, RevocationError> {
        match tokio::time::timeout(self.limit, self.inner.status(certificate)).await {
            Ok(answer) => answer,
            Err(_) => Err(RevocationError(format!(
                "the certification centre did not answer within {} ms",
                self.limit.as_millis()
            ))),
        }
    }
}

/// Caches another source's answers for a freshness limit.
#[derive(Debug)]
pub struct CachedRevocation<R> {
    inner: R,
    freshness: Duration,
    max_entries: usize,
    // A std Mutex: held only for a map look-up or insert, never across an await.
    answers: Mutex<HashMap<Arc<[u8]>, CachedAnswer>>,
}

/// An answer and when it was fetched.
type CachedAnswer = (RevocationStatus, Instant);

impl<R: RevocationSource> CachedRevocation<R> {
    /// Wraps a source with a freshness limit.
    pub fn new(inner: R, freshness: Duration) -> CachedRevocation<R> {
        CachedRevocation {
            inner,
            freshness,
            max_entries: 100_000,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the wrapped source.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Forgets every cached answer (e.g. after an operator revoked a certificate).
    pub fn clear(&self) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.clear();
        }
    }

    fn cached(&self, der: &[u8]) -> Option<RevocationStatus> {
        let answers = self.answers.lock().ok()?;
        let (status, fetched) = answers.get(der)?;
        (fetched.elapsed() < self.freshness).then(|| status.clone())
    }
}

impl<R: RevocationSource> RevocationSource for CachedRevocation<R> {
    async fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> Result<RevocationStatus, RevocationError> {
        if let Some(status) = self.cached(&certificate.der) {
            return Ok(status);
        }
        let status = self.inner.status(certificate).await?;
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= self.max_entries {
                // Bounded memory: dropping everything is simpler than LRU and
                // costs one round of fresh look-ups.
                answers.clear();
            }
            answers.insert(certificate.der.clone(), (status.clone(), Instant::now()));
        }
        Ok(status)
    }
}
