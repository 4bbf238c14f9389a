//! The certification centre's durable state in SQL: its CA, the certificates
//! it issued with their revocations, and its serial and CRL-number counters.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no
//! database) and written in the SQL SQLite and PostgreSQL share: `$n`
//! placeholders, `RETURNING`, `ON CONFLICT`. Times are RFC 3339 text
//! ([`Timestamp`]); the DDL differs only in BLOB / BYTEA (`migrations/{sqlite,postgres}`).

use egov_store::{OptionalTimestamp, Pool, Timestamp};
use time::OffsetDateTime;

use crate::PkiError;

/// The schema, per database.
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// The CA hierarchy as stored: certificates, DER. The key columns are empty: the keys derive
/// from the data dir's `ca.secret`; only a centre from before that kept them there.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCa {
    /// The self-signed root certificate.
    pub root_der: Vec<u8>,
    /// The root's private key as an older centre stored it; empty.
    pub root_key_pkcs8: Vec<u8>,
    /// The issuing intermediate certificate.
    pub intermediate_der: Vec<u8>,
    /// The intermediate's private key as an older centre stored it; empty.
    pub intermediate_key_pkcs8: Vec<u8>,
}

impl StoredCa {
    /// Returns whether the row still holds private keys (written by an older centre).
    pub fn holds_keys(&self) -> bool {
        !self.root_key_pkcs8.is_empty() || !self.intermediate_key_pkcs8.is_empty()
    }
}

impl std::fmt::Debug for StoredCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key bytes.
        f.debug_struct("StoredCa").finish_non_exhaustive()
    }
}

/// One issued certificate as stored, with its revocation if any.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CertificateRecord {
    /// Serial number, lowercase hex without leading zero bytes.
    pub serial: String,
    /// The holder's surname.
    pub surname: String,
    /// The holder's given name.
    pub given_name: String,
    /// The holder's IIN.
    pub iin: String,
    /// The organisation's BIN, for organisation roles.
    pub bin: Option<String>,
    /// The organisation's name, for organisation roles.
    pub organization: Option<String>,
    /// The holder's role, e.g. `individual` or `right_to_sign`.
    pub role: String,
    /// `SIGN` or `AUTH`.
    pub purpose: String,
    /// Start of validity.
    #[sqlx(try_from = "Timestamp")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[sqlx(try_from = "Timestamp")]
    pub not_after: OffsetDateTime,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// When the centre issued it.
    #[sqlx(try_from = "Timestamp")]
    pub issued_at: OffsetDateTime,
    /// When it was revoked, if it was.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked (RFC 5280 reason name), if it was.
    pub revocation_reason: Option<String>,
}

/// One revoked certificate, as a revocation list names it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Revocation {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// When it was revoked.
    #[sqlx(try_from = "Timestamp")]
    pub revoked_at: OffsetDateTime,
    /// Why (RFC 5280 reason name).
    pub revocation_reason: String,
}

/// An unused enrolment grant as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenGrant {
    /// The role it may enrol, e.g. `legal_entity`.
    pub role: String,
    /// The BIN or IIN it may enrol.
    pub subject: String,
    /// When the centre first read it, on its clock.
    #[sqlx(try_from = "Timestamp")]
    pub added_at: OffsetDateTime,
    /// When it stops enrolling; `None` for an entry written before expiries existed.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub expires_at: Option<OffsetDateTime>,
}

/// The monotonic counters the centre keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Numbers issued certificates.
    Serial,
    /// Numbers issued revocation lists (the cRLNumber extension).
    CrlNumber,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Counter::Serial => "serial",
            Counter::CrlNumber => "crl_number",
        }
    }
}

/// The certification centre's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, PkiError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Adds an enrolment grant unless its token digest is already known; a grant that was
    /// used stays used, and one that was read keeps its first reading (and so its expiry),
    /// so re-reading the grants on restart opens or extends nothing.
    pub async fn add_grant(
        &self,
        token_sha256: &str,
        role: &str,
        subject: &str,
        expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool, PkiError> {
        let result = sqlx::query(
            "INSERT INTO enrolment_grants (token_sha256, role, subject, added_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_sha256) DO NOTHING",
        )
        .bind(token_sha256)
        .bind(role)
        .bind(subject)
        .bind(Timestamp(now))
        .bind(expires_at.map(Timestamp))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Returns the unused grant with this token digest, if any.
    pub async fn open_grant(&self, token_sha256: &str) -> Result<Option<OpenGrant>, PkiError> {
        Ok(sqlx::query_as(
            "SELECT role, subject, added_at, expires_at FROM enrolment_grants \
             WHERE token_sha256 = $1 AND used_at IS NULL",
        )
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks a grant used for `serial`; returns false when another request used it first.
    pub async fn use_grant(
        &self,
        token_sha256: &str,
        serial: &str,
        now: OffsetDateTime,
    ) -> Result<bool, PkiError> {
        let result = sqlx::query(
            "UPDATE enrolment_grants SET used_at = $2, used_serial = $3 \
             WHERE token_sha256 = $1 AND used_at IS NULL",
        )
        .bind(token_sha256)
        .bind(Timestamp(now))
        .bind(serial)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Adds or replaces a registrar account's password digest.
    pub async fn put_registrar(
        &self,
        login: &str,
        password_phc: &str,
        now: OffsetDateTime,
    ) -> Result<(), PkiError> {
        sqlx::query(
            "INSERT INTO registrars (login, password_phc, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (login) DO UPDATE SET password_phc = excluded.password_phc",
        )
        .bind(login)
        .bind(password_phc)
        .bind(Timestamp(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns a registrar's password digest.
    pub async fn registrar(&self, login: &str) -> Result<Option<String>, PkiError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT password_phc FROM registrars WHERE login = $1")
                .bind(login)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(phc,)| phc))
    }

    /// Returns every registrar's login, sorted.
    pub async fn registrars(&self) -> Result<Vec<String>, PkiError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT login FROM registrars ORDER BY login")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(login,)| login).collect())
    }

    /// Returns how many certificates were issued, for tests that check nothing was.
    pub async fn certificate_count(&self) -> Result<i64, PkiError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM certificates")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns the stored CA hierarchy, if one was created.
    pub async fn ca(&self) -> Result<Option<StoredCa>, PkiError> {
        Ok(sqlx::query_as(
            "SELECT root_der, root_key_pkcs8, intermediate_der, intermediate_key_pkcs8 \
             FROM ca WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Stores the CA hierarchy unless one is already stored; returns whether it was.
    ///
    /// Two processes starting on one empty database both generate a hierarchy;
    /// only the first insert wins, and both then load the winner.
    pub async fn insert_ca(&self, ca: &StoredCa, now: OffsetDateTime) -> Result<bool, PkiError> {
        let result = sqlx::query(
            "INSERT INTO ca (id, root_der, root_key_pkcs8, intermediate_der, \
             intermediate_key_pkcs8, created_at) VALUES (1, $1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&ca.root_der)
        .bind(&ca.root_key_pkcs8)
        .bind(&ca.intermediate_der)
        .bind(&ca.intermediate_key_pkcs8)
        .bind(Timestamp(now))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Empties the CA row's key columns; returns whether it held any.
    pub async fn forget_ca_keys(&self) -> Result<bool, PkiError> {
        let result = sqlx::query(
            "UPDATE ca SET root_key_pkcs8 = $1, intermediate_key_pkcs8 = $1 \
             WHERE id = 1 AND (length(root_key_pkcs8) > 0 OR length(intermediate_key_pkcs8) > 0)",
        )
        .bind(Vec::<u8>::new())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Increments a counter and returns its new value (the first is 1).
    pub async fn next(&self, counter: Counter) -> Result<u64, PkiError> {
        let (value,): (i64,) =
            sqlx::query_as("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
                .bind(counter.name())
                .fetch_one(&self.pool)
                .await?;
        u64::try_from(value).map_err(|_| PkiError::Corrupt {
            what: "counter",
            reason: format!("{} is negative ({value})", counter.name()),
        })
    }

    /// Stores a newly issued certificate.
    pub async fn insert_certificate(&self, record: &CertificateRecord) -> Result<(), PkiError> {
        sqlx::query(
            "INSERT INTO certificates (serial, surname, given_name, iin, bin, organization, \
             role, purpose, not_before, not_after, der, issued_at, revoked_at, revocation_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&record.serial)
        .bind(&record.surname)
        .bind(&record.given_name)
        .bind(&record.iin)
        .bind(&record.bin)
        .bind(&record.organization)
        .bind(&record.role)
        .bind(&record.purpose)
        .bind(Timestamp(record.not_before))
        .bind(Timestamp(record.not_after))
        .bind(&record.der)
        .bind(Timestamp(record.issued_at))
        .bind(record.revoked_at.map(Timestamp))
        .bind(&record.revocation_reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns the certificate with this serial (lowercase hex), if it was issued here.
    pub async fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, PkiError> {
        Ok(sqlx::query_as(
            "SELECT serial, surname, given_name, iin, bin, organization, role, purpose, \
             not_before, not_after, der, issued_at, revoked_at, revocation_reason \
             FROM certificates WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks a certificate revoked unless it already is; returns whether this call revoked it.
    ///
    /// One conditional UPDATE, so two concurrent revocations cannot both win.
    pub async fn revoke(
        &self,
        serial: &str,
        revoked_at: OffsetDateTime,
        reason: &str,
    ) -> Result<bool, PkiError> {
        let result = sqlx::query(
            "UPDATE certificates SET revoked_at = $1, revocation_reason = $2 \
             WHERE serial = $3 AND revoked_at IS NULL",
        )
        .bind(Timestamp(revoked_at))
        .bind(reason)
        .bind(serial)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Returns every revoked certificate, oldest revocation first.
    pub async fn revoked(&self) -> Result<Vec<Revocation>, PkiError> {
        Ok(sqlx::query_as(
            "SELECT serial, revoked_at, revocation_reason FROM certificates \
             WHERE revoked_at IS NOT NULL AND revocation_reason IS NOT NULL \
             ORDER BY revoked_at, serial",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_testkit::PostgresServer;
    use time::macros::datetime;

    #[tokio::test]
    async fn pki_store_keeps_the_ca_certificates_and_counters_on_postgresql() {
        let postgres = PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("pki").expect("database");
        let store = Store::open(&url).await.expect("opens and migrates");
        let now = datetime!(2026-11-25 10:00:00.123456789 UTC);

        let ca = StoredCa {
            root_der: vec![0x30, 0, 1, 0xff],
            root_key_pkcs8: vec![1, 2],
            intermediate_der: vec![0x30, 3],
            intermediate_key_pkcs8: vec![4, 0],
        };
        assert!(store.insert_ca(&ca, now).await.expect("stores"));
        assert!(
            !store.insert_ca(&ca, now).await.expect("stores"),
            "a second CA won"
        );
        assert_eq!(store.ca().await.expect("reads"), Some(ca));

        assert_eq!(store.next(Counter::Serial).await.expect("counts"), 1);
        assert_eq!(store.next(Counter::Serial).await.expect("counts"), 2);
        assert_eq!(store.next(Counter::CrlNumber).await.expect("counts"), 1);

        let record = CertificateRecord {
            serial: "0a1b2c".into(),
            surname: "Сәрсенбаева".into(),
            given_name: "Айгерим".into(),
            iin: "751204400013".into(),
            bin: Some("160240901053".into()),
            organization: Some("ТОО «Сарыарқа Логистик»".into()),
            role: "right_to_sign".into(),
            purpose: "SIGN".into(),
            not_before: now,
            not_after: now + time::Duration::days(365),
            der: vec![0x30, 0x82, 0, 1],
            issued_at: now,
            revoked_at: None,
            revocation_reason: None,
        };
        store.insert_certificate(&record).await.expect("stores");
        assert_eq!(
            store.certificate("0a1b2c").await.expect("reads"),
            Some(record.clone())
        );
        let revoked_at = now + time::Duration::hours(1);
        assert!(
            store
                .revoke("0a1b2c", revoked_at, "keyCompromise")
                .await
                .expect("revokes")
        );
        assert!(
            !store
                .revoke("0a1b2c", revoked_at, "keyCompromise")
                .await
                .expect("revokes")
        );
        assert_eq!(
            store.revoked().await.expect("lists"),
            [Revocation {
                serial: "0a1b2c".into(),
                revoked_at,
                revocation_reason: "keyCompromise".into(),
            }]
        );
        assert_eq!(
            store
                .certificate("0a1b2c")
                .await
                .expect("reads")
                .and_then(|r| r.revoked_at),
            Some(revoked_at)
        );
        store.close().await;
    }
}
