//! The kindergarten queue register's durable state in SQL (SQLite or PostgreSQL): the intake of service D
//! ([`SqlIntakeStore`]: numbers, applications, results with their signed envelopes), the
//! kindergartens with their free places, and the queue.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database) and
//! written in the SQL SQLite and PostgreSQL share, on an [`egov_store::Pool`] of either. Every
//! change of the queue runs in one transaction under the store's writer lock, so a position,
//! a free place and a referral number are never given twice.

use egov_core::Iin;
use egov_proto::v1::AgeGroup;
use egov_store::{Connection, Pool};
use egov_system::intake_sql::{self, SqlIntakeStore};
use std::sync::Arc;
use time::OffsetDateTime;

use crate::QueueError;
use crate::entry::{Entry, EntryStatus, Kindergarten, KindergartenFixture, NewEntry, Referral};

/// The schema, per database (BLOB or BYTEA, AUTOINCREMENT or an identity column).
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// The prefix of referral numbers (жолдама): `REF-2026-000001`.
pub const REFERRAL_PREFIX: &str = "REF";

/// The columns every read of `entries` selects; a macro so that `concat!` keeps each query a
/// `&'static str`.
macro_rules! select_entries {
    () => {
        "SELECT seq, child_iin, registration_number, recipient_iin, representative_iin, \
         district, age_group, kindergarten_bin, status, queued_at, referral_number, \
         referral_kindergarten_bin, referred_at FROM entries"
    };
}

/// One row of `entries`.
#[derive(Debug, sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    child_iin: String,
    registration_number: String,
    recipient_iin: String,
    representative_iin: String,
    district: String,
    age_group: i64,
    kindergarten_bin: String,
    status: String,
    queued_at: String,
    referral_number: Option<String>,
    referral_kindergarten_bin: Option<String>,
    referred_at: Option<String>,
}

/// One row of the places listing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlacesRow {
    /// The kindergarten's BIN.
    pub bin: String,
    /// Its district.
    pub district: String,
    /// Its name.
    pub name: String,
    /// The age group (an `egov.v1.AgeGroup` number).
    pub age_group: i64,
    /// Free places in the group.
    pub free: i64,
}

/// What freeing places came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freed {
    /// Places still free in the group after the waiting children were given referrals.
    pub free: u64,
    /// The entries given a referral to one of the freed places, in queue order.
    pub referred: Vec<Entry>,
}

/// The queue register's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Serialises the queue's changes: SQLite allows one writer, and a read-then-write
    /// placement must not interleave with another (a tokio Mutex: held across awaits). On
    /// PostgreSQL shared by several processes, `places.free >= 0` and the one-active-entry
    /// index still refuse a double placement; the losing transaction fails and rolls back.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, QueueError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store {
            pool,
            writes: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns the kindergarten with this BIN, if registered.
    pub async fn kindergarten(&self, bin: &str) -> Result<Option<Kindergarten>, QueueError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT bin, district, name FROM kindergartens WHERE bin = $1")
                .bind(bin)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(bin, district, name)| Kindergarten {
            bin,
            district,
            name,
        }))
    }

    /// Returns whether any kindergarten is registered in `district`.
    pub async fn has_district(&self, district: &str) -> Result<bool, QueueError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM kindergartens WHERE district = $1")
                .bind(district)
                .fetch_one(&self.pool)
                .await?;
        Ok(count > 0)
    }

    /// Returns the child's entry that is waiting or referred, if any.
    pub async fn active_entry(&self, child: &Iin) -> Result<Option<Entry>, QueueError> {
        let row: Option<EntryRow> = sqlx::query_as(concat!(
            select_entries!(),
            " WHERE child_iin = $1 AND status <> 'withdrawn'"
        ))
        .bind(child.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(entry_from_row).transpose()
    }

    /// Returns the entry an application made.
    pub async fn entry(&self, registration_number: &str) -> Result<Option<Entry>, QueueError> {
        let mut connection = self.pool.acquire().await?;
        entry_in(&mut connection, registration_number).await
    }

    /// Returns a waiting entry's position: 1 plus the entries waiting before it in the same
    /// queue (district, age group, kindergarten asked).
    pub async fn position(&self, entry: &Entry) -> Result<u32, QueueError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM entries WHERE status = 'waiting' AND district = $1 \
             AND age_group = $2 AND kindergarten_bin = $3 AND seq <= $4",
        )
        .bind(&entry.district)
        .bind(entry.age_group as i64)
        .bind(&entry.kindergarten_bin)
        .bind(entry.seq)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Places a child: a referral to a free place in the kindergarten asked (or, when none is
    /// asked, in any of the district), otherwise a waiting entry. A child already waiting or
    /// referred is [`QueueError::AlreadyQueued`] and changes nothing.
    pub async fn place(&self, new: &NewEntry, now: OffsetDateTime) -> Result<Entry, QueueError> {
        let _writer = self.writes.lock().await;
        let mut tx = self.pool.begin().await?;
        let active: Option<(String, String)> = sqlx::query_as(
            "SELECT registration_number, status FROM entries \
             WHERE child_iin = $1 AND status <> 'withdrawn'",
        )
        .bind(&new.child_iin)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((registration_number, status)) = active {
            return Err(QueueError::AlreadyQueued {
                child_iin: new.child_iin.clone(),
                registration_number,
                status,
            });
        }
        let free_kindergarten: Option<String> = if new.kindergarten_bin.is_empty() {
            sqlx::query_scalar(
                "SELECT p.kindergarten_bin FROM places p \
                 JOIN kindergartens k ON k.bin = p.kindergarten_bin \
                 WHERE k.district = $1 AND p.age_group = $2 AND p.free > 0 \
                 ORDER BY p.free DESC, p.kindergarten_bin LIMIT 1",
            )
            .bind(&new.district)
            .bind(new.age_group as i64)
            .fetch_optional(&mut *tx)
            .await?
        } else {
            sqlx::query_scalar(
                "SELECT kindergarten_bin FROM places \
                 WHERE kindergarten_bin = $1 AND age_group = $2 AND free > 0",
            )
            .bind(&new.kindergarten_bin)
            .bind(new.age_group as i64)
            .fetch_optional(&mut *tx)
            .await?
        };
        let at = rfc3339(now)?;
        sqlx::query(
            "INSERT INTO entries (child_iin, registration_number, recipient_iin, \
             representative_iin, district, age_group, kindergarten_bin, status, queued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8)",
        )
        .bind(&new.child_iin)
        .bind(&new.registration_number)
        .bind(&new.recipient_iin)
        .bind(&new.representative_iin)
        .bind(&new.district)
        .bind(new.age_group as i64)
        .bind(&new.kindergarten_bin)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        if let Some(bin) = free_kindergarten {
            refer(&mut tx, &new.registration_number, &bin, now).await?;
        }
        let entry = entry_in(&mut tx, &new.registration_number)
            .await?
            .ok_or_else(|| {
                QueueError::corrupt(
                    format!("entry {}", new.registration_number),
                    "not found right after its insert",
                )
            })?;
        tx.commit().await?;
        Ok(entry)
    }

    /// Takes back a placement whose application could not be registered: the entry goes and a
    /// place it took is free again.
    pub async fn undo(&self, registration_number: &str) -> Result<(), QueueError> {
        let _writer = self.writes.lock().await;
        let mut tx = self.pool.begin().await?;
        if let Some(entry) = entry_in(&mut tx, registration_number).await? {
            if let Some(referral) = &entry.referral {
                add_free(&mut tx, &referral.kindergarten_bin, entry.age_group, 1).await?;
            }
            sqlx::query("DELETE FROM cabinet_notices WHERE registration_number = $1")
                .bind(registration_number)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM entries WHERE registration_number = $1")
                .bind(registration_number)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws an entry from the queue (the provider refused its application): a place it
    /// was referred to goes to the next waiting child. Returns the entries newly referred.
    pub async fn withdraw(
        &self,
        registration_number: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<Entry>, QueueError> {
        let _writer = self.writes.lock().await;
        let mut tx = self.pool.begin().await?;
        let Some(entry) = entry_in(&mut tx, registration_number).await? else {
            return Ok(Vec::new());
        };
        if entry.status == EntryStatus::Withdrawn {
            return Ok(Vec::new());
        }
        sqlx::query(
            "UPDATE entries SET status = 'withdrawn', withdrawn_reason = $2 \
             WHERE registration_number = $1",
        )
        .bind(registration_number)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        let mut referred = Vec::new();
        if let Some(referral) = &entry.referral {
            add_free(&mut tx, &referral.kindergarten_bin, entry.age_group, 1).await?;
            referred = assign(&mut tx, &referral.kindergarten_bin, entry.age_group, now).await?;
        }
        tx.commit().await?;
        Ok(referred)
    }

    /// Frees `count` places of an age group in a kindergarten and gives them, in queue order,
    /// to the children waiting for it (or for any kindergarten of its district).
    pub async fn free_places(
        &self,
        bin: &str,
        group: AgeGroup,
        count: u32,
        now: OffsetDateTime,
    ) -> Result<Freed, QueueError> {
        let _writer = self.writes.lock().await;
        let mut tx = self.pool.begin().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT bin FROM kindergartens WHERE bin = $1")
                .bind(bin)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(QueueError::UnknownKindergarten {
                bin: bin.to_owned(),
            });
        }
        add_free(&mut tx, bin, group, i64::from(count)).await?;
        let referred = assign(&mut tx, bin, group, now).await?;
        let free = free_in(&mut tx, bin, group).await?;
        tx.commit().await?;
        Ok(Freed { free, referred })
    }

    /// Returns the referrals waiting for the citizen's cabinet, oldest first, with the
    /// attempts made so far.
    pub async fn pending_cabinet_notices(
        &self,
        limit: u32,
    ) -> Result<Vec<(Entry, u32)>, QueueError> {
        let numbers: Vec<(String, i64)> = sqlx::query_as(
            "SELECT registration_number, attempts FROM cabinet_notices \
             WHERE delivered_at IS NULL ORDER BY created_at, registration_number LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut pending = Vec::with_capacity(numbers.len());
        let mut connection = self.pool.acquire().await?;
        for (number, attempts) in numbers {
            let entry = entry_in(&mut connection, &number).await?.ok_or_else(|| {
                QueueError::corrupt(
                    format!("cabinet notice {number}"),
                    "its queue entry is missing",
                )
            })?;
            pending.push((entry, u32::try_from(attempts).unwrap_or(u32::MAX)));
        }
        Ok(pending)
    }

    /// Records that the cabinet accepted the referral of `registration_number`.
    pub async fn cabinet_notice_delivered(
        &self,
        registration_number: &str,
        at: OffsetDateTime,
    ) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE cabinet_notices SET delivered_at = $2, attempts = attempts + 1, \
             last_error = NULL WHERE registration_number = $1",
        )
        .bind(registration_number)
        .bind(rfc3339(at)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt to hand the referral of `registration_number` to the cabinet.
    pub async fn cabinet_notice_failed(
        &self,
        registration_number: &str,
        error: &str,
    ) -> Result<(), QueueError> {
        sqlx::query(
            "UPDATE cabinet_notices SET attempts = attempts + 1, last_error = $2 \
             WHERE registration_number = $1",
        )
        .bind(registration_number)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns every kindergarten's free places by age group.
    pub async fn places(&self) -> Result<Vec<PlacesRow>, QueueError> {
        Ok(sqlx::query_as(
            "SELECT k.bin, k.district, k.name, p.age_group, p.free FROM kindergartens k \
             JOIN places p ON p.kindergarten_bin = k.bin ORDER BY k.district, k.bin, p.age_group",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Loads a fixture set once: the first call for `name` registers the kindergartens with
    /// their free places and returns true; later calls, in any process, change nothing.
    pub async fn load_once(
        &self,
        name: &str,
        kindergartens: &[KindergartenFixture],
        now: OffsetDateTime,
    ) -> Result<bool, QueueError> {
        let now = rfc3339(now)?;
        let _writer = self.writes.lock().await;
        let mut tx = self.pool.begin().await?;
        if !egov_store::mark_seed(&mut tx, name, &now).await? {
            return Ok(false);
        }
        for kindergarten in kindergartens {
            sqlx::query(
                "INSERT INTO kindergartens (bin, district, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (bin) DO NOTHING",
            )
            .bind(kindergarten.bin)
            .bind(kindergarten.district)
            .bind(kindergarten.name)
            .execute(&mut *tx)
            .await?;
            for (group, free) in crate::entry::AGE_GROUPS.iter().zip(kindergarten.free) {
                sqlx::query(
                    "INSERT INTO places (kindergarten_bin, age_group, free) VALUES ($1, $2, $3) \
                     ON CONFLICT (kindergarten_bin, age_group) DO NOTHING",
                )
                .bind(kindergarten.bin)
                .bind(*group as i64)
                .bind(i64::from(free))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Returns how many applications are registered (operators' listings, tests).
    pub async fn count_applications(&self) -> Result<u64, QueueError> {
        Ok(intake_sql::count_applications(&self.pool).await?)
    }
}

impl SqlIntakeStore for Store {
    type Error = QueueError;

    fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Formats a timestamp for the TEXT `*_at` columns.
fn rfc3339(time: OffsetDateTime) -> Result<String, QueueError> {
    Ok(intake_sql::rfc3339(time)?)
}

/// Reads a TEXT `*_at` column.
fn parse_time(what: &str, text: &str) -> Result<OffsetDateTime, QueueError> {
    Ok(intake_sql::parse_time(what, text)?)
}

/// Returns the next number of a sequence on a connection (inside a transaction, if any).
async fn next_in(connection: &mut Connection, prefix: &str, year: i32) -> Result<u64, QueueError> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO sequences (prefix, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, year) DO UPDATE SET last = sequences.last + 1 RETURNING last",
    )
    .bind(prefix)
    .bind(year)
    .fetch_one(&mut *connection)
    .await?;
    u64::try_from(last).map_err(|_| {
        QueueError::corrupt(
            format!("sequence {prefix}-{year}"),
            format!("{last} is negative"),
        )
    })
}

/// Reads an entry by registration number on a connection.
async fn entry_in(
    connection: &mut Connection,
    registration_number: &str,
) -> Result<Option<Entry>, QueueError> {
    let row: Option<EntryRow> = sqlx::query_as(concat!(
        select_entries!(),
        " WHERE registration_number = $1"
    ))
    .bind(registration_number)
    .fetch_optional(&mut *connection)
    .await?;
    row.map(entry_from_row).transpose()
}

/// Returns the free places of a group.
async fn free_in(
    connection: &mut Connection,
    bin: &str,
    group: AgeGroup,
) -> Result<u64, QueueError> {
    let free: Option<i64> = sqlx::query_scalar(
        "SELECT free FROM places WHERE kindergarten_bin = $1 AND age_group = $2",
    )
    .bind(bin)
    .bind(group as i64)
    .fetch_optional(&mut *connection)
    .await?;
    Ok(free.and_then(|free| u64::try_from(free).ok()).unwrap_or(0))
}

/// Adds (or, negative, takes) free places of a group, creating the group's row if missing.
async fn add_free(
    connection: &mut Connection,
    bin: &str,
    group: AgeGroup,
    count: i64,
) -> Result<(), QueueError> {
    sqlx::query(
        // CASE rather than MAX(a, b), which is SQLite's alone (PostgreSQL has GREATEST).
        "INSERT INTO places (kindergarten_bin, age_group, free) \
         VALUES ($1, $2, CASE WHEN $3 > 0 THEN $3 ELSE 0 END) \
         ON CONFLICT (kindergarten_bin, age_group) DO UPDATE SET free = \
         CASE WHEN places.free + $3 > 0 THEN places.free + $3 ELSE 0 END",
    )
    .bind(bin)
    .bind(group as i64)
    .bind(count)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Issues a referral to a free place of `bin` for the entry `registration_number`, taking the
/// place and a referral number.
async fn refer(
    connection: &mut Connection,
    registration_number: &str,
    bin: &str,
    now: OffsetDateTime,
) -> Result<(), QueueError> {
    let year = egov_system::intake::local_date(now).year();
    let sequence = next_in(connection, REFERRAL_PREFIX, year).await?;
    let number = egov_system::intake::registration_number(REFERRAL_PREFIX, year, sequence);
    let group: i64 = sqlx::query_scalar(
        "UPDATE entries SET status = 'referred', referral_number = $2, \
         referral_kindergarten_bin = $3, referred_at = $4 \
         WHERE registration_number = $1 RETURNING age_group",
    )
    .bind(registration_number)
    .bind(&number)
    .bind(bin)
    .bind(rfc3339(now)?)
    .fetch_one(&mut *connection)
    .await?;
    sqlx::query("UPDATE places SET free = free - 1 WHERE kindergarten_bin = $1 AND age_group = $2")
        .bind(bin)
        .bind(group)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Gives the free places of a group, in queue order, to the children waiting for this
/// kindergarten or for any of its district; returns the entries referred.
async fn assign(
    connection: &mut Connection,
    bin: &str,
    group: AgeGroup,
    now: OffsetDateTime,
) -> Result<Vec<Entry>, QueueError> {
    let mut referred = Vec::new();
    while free_in(connection, bin, group).await? > 0 {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT e.registration_number FROM entries e \
             JOIN kindergartens k ON k.bin = $1 \
             WHERE e.status = 'waiting' AND e.age_group = $2 AND e.district = k.district \
             AND e.kindergarten_bin IN ($1, '') ORDER BY e.seq LIMIT 1",
        )
        .bind(bin)
        .bind(group as i64)
        .fetch_optional(&mut *connection)
        .await?;
        let Some(registration_number) = next else {
            break;
        };
        refer(connection, &registration_number, bin, now).await?;
        // A referral given later than the placement reaches the citizen only through the
        // cabinet: noted in the same transaction, so it cannot be lost.
        sqlx::query(
            "INSERT INTO cabinet_notices (registration_number, created_at) VALUES ($1, $2) \
             ON CONFLICT (registration_number) DO NOTHING",
        )
        .bind(&registration_number)
        .bind(rfc3339(now)?)
        .execute(&mut *connection)
        .await?;
        if let Some(entry) = entry_in(connection, &registration_number).await? {
            referred.push(entry);
        }
    }
    Ok(referred)
}

fn entry_from_row(row: EntryRow) -> Result<Entry, QueueError> {
    let what = format!("entry {}", row.registration_number);
    let corrupt = |reason: String| QueueError::corrupt(what.clone(), reason);
    let age_group = i32::try_from(row.age_group)
        .ok()
        .and_then(|value| AgeGroup::try_from(value).ok())
        .ok_or_else(|| {
            corrupt(format!(
                "age group {} is not an egov.v1.AgeGroup",
                row.age_group
            ))
        })?;
    let status = EntryStatus::parse(&row.status)
        .ok_or_else(|| corrupt(format!("status {:?} is unknown", row.status)))?;
    let referral = match (
        row.referral_number,
        row.referral_kindergarten_bin,
        row.referred_at,
    ) {
        (Some(number), Some(kindergarten_bin), Some(issued_at)) => Some(Referral {
            number,
            kindergarten_bin,
            issued_at: parse_time(&what, &issued_at)?,
        }),
        _ => None,
    };
    Ok(Entry {
        queued_at: parse_time(&what, &row.queued_at)?,
        seq: row.seq,
        child_iin: row.child_iin,
        registration_number: row.registration_number,
        recipient_iin: row.recipient_iin,
        representative_iin: row.representative_iin,
        district: row.district,
        age_group,
        kindergarten_bin: row.kindergarten_bin,
        status,
        referral,
    })
}
