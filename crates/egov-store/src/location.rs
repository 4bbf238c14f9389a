//! Where a service keeps its state: the `data_dir` and `database_url` keys every service's
//! config has, their default (a SQLite file in the data dir) and their checks.

use std::path::Path;

use crate::{Backend, DATABASE_URL_KEY};

/// Returns the database URL a service opens: `database_url` when set, else the SQLite file
/// `file` inside `data_dir`, created on first open.
pub fn database_url_or_default(database_url: Option<&str>, data_dir: &Path, file: &str) -> String {
    match database_url {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}?mode=rwc", data_dir.join(file).display()),
    }
}

/// Checks the `data_dir` and `database_url` keys, returning the message a config's
/// `Validate::validate` reports: it names the key, never the URL (which may hold a password).
pub fn check_location(data_dir: &Path, database_url: Option<&str>) -> Result<(), String> {
    if data_dir.as_os_str().is_empty() {
        return Err("`data_dir` must not be empty".into());
    }
    if let Some(url) = database_url {
        Backend::of(DATABASE_URL_KEY, url).map_err(|error| error.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_url_is_the_sqlite_file_in_the_data_dir() {
        let url = database_url_or_default(None, Path::new(".egov/x"), "x.db");
        assert_eq!(url, "sqlite://.egov/x/x.db?mode=rwc");
        let url = database_url_or_default(Some("postgres://db/x"), Path::new("d"), "x.db");
        assert_eq!(url, "postgres://db/x");
    }

    #[test]
    fn a_bad_location_is_refused_naming_the_key() {
        let error = check_location(Path::new(""), None).expect_err("empty dir");
        assert!(error.contains("data_dir"), "{error}");
        let error =
            check_location(Path::new("d"), Some("mysql://u:s3cret@db/x")).expect_err("scheme");
        assert!(error.contains("database_url"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        check_location(Path::new("d"), Some("sqlite://d/x.db")).expect("accepted");
    }
}
