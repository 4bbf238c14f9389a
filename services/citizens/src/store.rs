//! [`Store`]: the read side of the citizens-DB, a pool of read-only connections (SQLite or
//! PostgreSQL) answering look-ups by primary key. Read-only at the connection level, so no
//! request can change what is stored, whatever a handler does.

use egov_store::{Pool, StoreOptions};

use crate::CitizensError;
use crate::records::{
    DocumentRow, LegalEntityRow, PersonRow, legal_entity_columns, person_columns,
};

/// Read connections: one per core is enough for primary-key look-ups that take
/// microseconds; a few more keep a slow reader from queueing the rest.
const READERS: u32 = 4;

/// The read side of the citizens-DB.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// The stored population's description.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PopulationInfo {
    /// The seed it was generated from.
    pub seed: String,
    /// The number of generated persons.
    pub size: i64,
    /// The census date ages are counted from, `YYYYMMDD`.
    pub census_date: i64,
    /// How long the load took, in milliseconds.
    pub elapsed_ms: i64,
}

impl Store {
    /// Opens a prepared database (see [`crate::load::prepare`]) read-only.
    pub async fn open(url: &str) -> Result<Store, CitizensError> {
        let pool = StoreOptions::new(egov_store::DATABASE_URL_KEY, url)
            .read_only()
            .max_connections(READERS)
            .min_connections(1)
            .open(None)
            .await?;
        Ok(Store { pool })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns the person with this IIN key.
    pub async fn person(&self, iin: i64) -> Result<Option<PersonRow>, CitizensError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            person_columns!(),
            " FROM persons WHERE iin = $1"
        ))
        .bind(iin)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns a person's identity documents, oldest issue first.
    pub async fn documents(&self, iin: i64) -> Result<Vec<DocumentRow>, CitizensError> {
        Ok(sqlx::query_as(
            "SELECT kind, number, issue_date, expiry_date, issuer FROM documents \
             WHERE iin = $1 ORDER BY issue_date, kind",
        )
        .bind(iin)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns a person's family links as (relative's IIN key, `egov.v1.Kinship` value).
    pub async fn links(&self, iin: i64) -> Result<Vec<(i64, i32)>, CitizensError> {
        Ok(sqlx::query_as(
            "SELECT relative_iin, kinship FROM family_links WHERE iin = $1 \
             ORDER BY kinship, relative_iin",
        )
        .bind(iin)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns the legal entity with this BIN key.
    pub async fn legal_entity(&self, bin: i64) -> Result<Option<LegalEntityRow>, CitizensError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            legal_entity_columns!(),
            " FROM legal_entities WHERE bin = $1"
        ))
        .bind(bin)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the stored population's description, if one was generated.
    pub async fn population(&self) -> Result<Option<PopulationInfo>, CitizensError> {
        Ok(sqlx::query_as(
            "SELECT seed, size, census_date, elapsed_ms FROM population WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the number of stored persons (generated and fixtures).
    pub async fn person_count(&self) -> Result<i64, CitizensError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM persons")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Returns the IIN keys of up to `limit` persons spread evenly over the table (every
    /// n-th in IIN order): a sample for latency measurements and tests.
    pub async fn sample_iins(&self, limit: u32) -> Result<Vec<i64>, CitizensError> {
        let count = self.person_count().await?.max(1);
        let step = (count / i64::from(limit.max(1))).max(1);
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT iin FROM (SELECT iin, ROW_NUMBER() OVER (ORDER BY iin) AS n FROM persons) \
             AS numbered WHERE n % $1 = 0 ORDER BY iin LIMIT $2",
        )
        .bind(step)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(iin,)| iin).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::fixtures;
    use crate::records::iin_key;

    #[tokio::test]
    async fn the_read_pool_refuses_every_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            population: 50,
            ..Config::with_data_dir(dir.path())
        };
        crate::load::prepare(&config, false)
            .await
            .expect("prepares");
        let store = Store::open(&config.database_url()).await.expect("opens");
        let written = sqlx::query("DELETE FROM persons")
            .execute(&store.pool)
            .await;
        assert!(written.is_err(), "a read-only connection wrote");
        let key = iin_key(&egov_core::Iin::parse(fixtures::UNEMPLOYED_ADULT).expect("valid"));
        assert!(store.person(key).await.expect("reads").is_some());
        assert_eq!(
            store.person_count().await.expect("counts"),
            i64::try_from(50 + fixtures::PERSONS).expect("fits")
        );
    }

    #[tokio::test]
    async fn citizens_store_keeps_persons_and_families_on_postgresql() {
        let postgres = egov_testkit::PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("citizens").expect("database");
        let dir = tempfile::tempdir().expect("temp dir");
        let on_postgres = Config {
            population: 300,
            database_url: Some(url.clone()),
            ..Config::with_data_dir(dir.path())
        };
        let on_sqlite = Config {
            population: 300,
            ..Config::with_data_dir(dir.path())
        };
        let loaded = crate::load::prepare(&on_postgres, false)
            .await
            .expect("generates through COPY");
        assert!(loaded.generated.is_some());
        let kept = crate::load::prepare(&on_postgres, false)
            .await
            .expect("prepares again");
        assert!(
            kept.generated.is_none(),
            "a stored population was regenerated"
        );
        crate::load::prepare(&on_sqlite, false)
            .await
            .expect("prepares SQLite");

        let postgres_store = Store::open(&url).await.expect("opens");
        let sqlite_store = Store::open(&on_sqlite.database_url()).await.expect("opens");
        assert_eq!(
            postgres_store.person_count().await.expect("counts"),
            i64::try_from(300 + fixtures::PERSONS).expect("fits")
        );
        assert_eq!(
            postgres_store
                .population()
                .await
                .expect("reads")
                .map(|p| p.size),
            Some(300)
        );
        // The same seed gives the same rows on both databases, fixtures included.
        let mut keys = postgres_store.sample_iins(40).await.expect("samples");
        assert_eq!(keys.len(), 40);
        keys.extend(
            fixtures::batch()
                .expect("fixtures")
                .persons
                .iter()
                .map(|person| iin_key(&person.iin)),
        );
        let mut links = 0;
        for key in keys {
            let person = postgres_store.person(key).await.expect("reads");
            assert!(person.is_some(), "person {key} missing");
            assert_eq!(person, sqlite_store.person(key).await.expect("reads"));
            assert_eq!(
                postgres_store.documents(key).await.expect("reads"),
                sqlite_store.documents(key).await.expect("reads")
            );
            let family = postgres_store.links(key).await.expect("reads");
            assert_eq!(family, sqlite_store.links(key).await.expect("reads"));
            links += family.len();
        }
        assert!(links > 0, "no family links read back");
        for entity in fixtures::legal_entities().expect("fixtures") {
            let key = crate::records::bin_key(&entity.bin);
            let stored = postgres_store.legal_entity(key).await.expect("reads");
            assert!(stored.is_some(), "legal entity {key} missing");
            assert_eq!(stored, sqlite_store.legal_entity(key).await.expect("reads"));
        }
        let written = sqlx::query("DELETE FROM persons")
            .execute(&postgres_store.pool)
            .await;
        assert!(written.is_err(), "a read-only connection wrote");
    }
}
