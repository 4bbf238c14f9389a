//! The one layered configuration loader every binary uses.
//!
//! Layers, each overriding the one before: the config struct's `Default` → the service's TOML
//! file → `EGOV_<SERVICE>__KEY` env vars (`__` nests) → explicit `(dotted.key, value)`
//! overrides from CLI flags → [`Validate::validate`]. Unknown keys stop the start, and every
//! error names the key and the layer (file path, env var or flag) that brought it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Prefix of every env var the loader reads.
pub const ENV_PREFIX: &str = "EGOV_";

/// Separator of nesting levels in env var names (`EGOV_GATEWAY__ROUTES__NOTARY`).
pub const ENV_NESTING: &str = "__";

/// A config's own consistency checks, run after every layer is applied.
///
/// The method has a default, so a config without checks needs only `impl Validate for Config {}`.
pub trait Validate {
    /// Returns an error message naming the offending key when the config is unusable.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The layer a value came from, named in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The config struct's `Default`.
    Defaults,
    /// The service's TOML file.
    File(PathBuf),
    /// One `EGOV_` environment variable, by name.
    Env(String),
    /// One explicit override (a CLI flag), by dotted key.
    Override(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Defaults => f.write_str("built-in defaults"),
            Self::File(path) => write!(f, "file `{}`", path.display()),
            Self::Env(name) => write!(f, "env var `{name}`"),
            Self::Override(key) => write!(f, "override `{key}`"),
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file `{}`: {source}", path.display())]
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("{origin} is not valid TOML: {message}")]
    Parse {
        /// Where the text came from.
        origin: Origin,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// A layer sets a key the config does not have (a typo stops the start).
    #[error("{origin} sets unknown key `{key}`: {message}")]
    UnknownKey {
        /// The layer that set the key.
        origin: Origin,
        /// The dotted key.
        key: String,
        /// The deserializer's message, listing the expected keys.
        message: String,
    },
    /// A layer sets a key to a value of the wrong type or range, or a key is malformed.
    #[error("{origin} sets `{key}` to a bad value: {message}")]
    BadValue {
        /// The layer that set the value.
        origin: Origin,
        /// The dotted key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The merged config failed its own validation.
    #[error("config of service `{service}` is invalid{}: {message}", file_note(file.as_deref()))]
    Invalid {
        /// The service whose config it is.
        service: String,
        /// The file that was loaded, if any.
        file: Option<PathBuf>,
        /// The validation message, naming the key.
        message: String,
    },
    /// The config could not be turned into TOML (a config type that is not a table).
    #[error("config cannot be written as TOML: {message}")]
    Serialize {
        /// The serializer's message.
        message: String,
    },
}

/// Formats the optional file of an [`ConfigError::Invalid`] for its message.
fn file_note(file: Option<&Path>) -> String {
    file.map(|path| format!(" (file `{}`)", path.display()))
        .unwrap_or_default()
}

/// Returns the env var name that sets `dotted_key` for `service`, e.g.
/// `("pki", "database.url")` → `EGOV_PKI__DATABASE__URL`.
pub fn env_var_name(service: &str, dotted_key: &str) -> String {
    let key = dotted_key
        .split('.')
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join(ENV_NESTING);
    format!("{}{key}", env_prefix(service))
}

/// Returns `EGOV_<SERVICE>__`, with the service name upper-cased and `-` turned into `_`.
fn env_prefix(service: &str) -> String {
    let service = service.to_ascii_uppercase().replace('-', "_");
    format!("{ENV_PREFIX}{service}{ENV_NESTING}")
}

/// Returns a secret given inline (`value`, trimmed), else the trimmed contents of `file`,
/// else none; an empty secret counts as none. Tokens and passwords handed to a service as
/// either an env var or a file are read this way.
pub fn secret_or_file(value: Option<&str>, file: Option<&Path>) -> std::io::Result<Option<String>> {
    if let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) {
        return Ok(Some(value.to_owned()));
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file)?;
    Ok(Some(text.trim().to_owned()).filter(|value| !value.is_empty()))
}

/// Turns borrowed key/value pairs into the owned pairs [`load`] reads, for tests and
/// embedders that spell their environment and overrides inline.
pub fn owned_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// Loads the config of `service` through every layer and validates it.
///
/// `env` is the environment to read (pass `std::env::vars()` in a binary; tests pass a map),
/// so the loader never touches the process environment itself. Only variables starting with
/// `EGOV_<SERVICE>__` are read; their key segments are lower-cased. Env and override values
/// are read as TOML values (`8`, `true`, `["a", "b"]`) when they parse and the key does not
/// already hold a string, and as plain strings otherwise.
pub fn load<C>(
    service: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[(String, String)],
) -> Result<C, ConfigError>
where
    C: DeserializeOwned + Serialize + Default + Validate,
{
    let mut table = Table::try_from(C::default()).map_err(|e| ConfigError::Serialize {
        message: e.to_string(),
    })?;
    check::<C>(&table, &Origin::Defaults)?;

    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let origin = Origin::File(path.to_owned());
        let layer: Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        merge(&mut table, layer);
        check::<C>(&table, &origin)?;
    }

    let prefix = env_prefix(service);
    let mut env: Vec<(String, Vec<String>, String)> = env
        .into_iter()
        .filter_map(|(name, value)| {
            let rest = name.strip_prefix(&prefix)?;
            let path = rest
                .split(ENV_NESTING)
                .map(str::to_ascii_lowercase)
                .collect();
            Some((name, path, value))
        })
        .collect();
    // A HashMap's order is random; sorting keeps the outcome and the first error stable.
    env.sort();
    for (name, path, value) in env {
        apply::<C>(&mut table, &path, &value, &Origin::Env(name))?;
    }

    for (key, value) in overrides {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        apply::<C>(&mut table, &path, value, &Origin::Override(key.clone()))?;
    }

    let config: C = table
        .try_into()
        .map_err(|e| classify(&e, &Origin::Defaults))?;
    config.validate().map_err(|message| ConfigError::Invalid {
        service: service.to_owned(),
        file: file.map(Path::to_owned),
        message,
    })?;
    Ok(config)
}

/// Writes a config as TOML, for `--dump-config`.
pub fn dump<C: Serialize>(config: &C) -> Result<String, ConfigError> {
    toml::to_string_pretty(config).map_err(|e| ConfigError::Serialize {
        message: e.to_string(),
    })
}

/// Merges `overlay` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(inner)), Value::Table(overlay_inner)) => merge(inner, overlay_inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Deserializes a copy of `table` to find out whether the layer just applied broke it.
fn check<C: DeserializeOwned>(table: &Table, origin: &Origin) -> Result<(), ConfigError> {
    table
        .clone()
        .try_into::<C>()
        .map(drop)
        .map_err(|e| classify(&e, origin))
}

/// Reads a raw env or flag value as a TOML value, falling back to a string.
fn parse_value(raw: &str) -> Option<Value> {
    // A line break could smuggle in a second key; such a value is only ever a string.
    if raw.contains(['\n', '\r']) {
        return None;
    }
    let mut doc: Table = toml::from_str(&format!("v = {raw}")).ok()?;
    if doc.len() != 1 {
        return None;
    }
    match doc.remove("v")? {
        // Date-times stay strings: config types parse their own formats from strings.
        Value::Datetime(_) => None,
        value => Some(value),
    }
}

/// Sets one dotted key from an env var or override, and checks the result still deserializes.
fn apply<C: DeserializeOwned>(
    table: &mut Table,
    path: &[String],
    raw: &str,
    origin: &Origin,
) -> Result<(), ConfigError> {
    let key = path.join(".");
    let bad = |message: String| ConfigError::BadValue {
        origin: origin.clone(),
        key: key.clone(),
        message,
    };
    let Some((last, parents)) = path.split_last() else {
        return Err(bad("the key is empty".to_owned()));
    };
    if path.iter().any(String::is_empty) {
        return Err(bad("the key has an empty segment".to_owned()));
    }

    let mut parent = &mut *table;
    for (depth, segment) in parents.iter().enumerate() {
        let entry = parent
            .entry(segment.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        match entry {
            Value::Table(inner) => parent = inner,
            other => {
                return Err(bad(format!(
                    "`{}` holds a value of type {}, not a table",
                    path[..=depth].join("."),
                    other.type_str()
                )));
            }
        }
    }

    let holds_string = matches!(parent.get(last), Some(Value::String(_)));
    let typed = if holds_string { None } else { parse_value(raw) };
    let was_typed = typed.is_some();
    parent.insert(
        last.clone(),
        typed.unwrap_or_else(|| Value::String(raw.to_owned())),
    );

    let Err(first) = check::<C>(table, origin) else {
        return Ok(());
    };
    if was_typed {
        // The value looked like a number or a list but the key may want text ("8080" for a
        // string field that was unset by default): try it as a string before refusing.
        set(table, path, Value::String(raw.to_owned()));
        if check::<C>(table, origin).is_ok() {
            return Ok(());
        }
    }
    Err(first)
}

/// Sets a value at a path whose parent tables exist.
fn set(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut parent = table;
    for segment in parents {
        match parent.get_mut(segment) {
            Some(Value::Table(inner)) => parent = inner,
            _ => return,
        }
    }
    parent.insert(last.clone(), value);
}

/// Turns a deserialization error into an error naming the key and the layer.
fn classify(error: &toml::de::Error, origin: &Origin) -> ConfigError {
    let message = error.message().trim_end().to_owned();
    // The deserializer names the table path only in its Display, as a last line "in `a.b`".
    let rendered = error.to_string();
    let parent = rendered
        .lines()
        .last()
        .and_then(|line| line.strip_prefix("in `"))
        .and_then(|line| line.strip_suffix('`'))
        .map(str::to_owned);
    let join = |field: &str| match &parent {
        Some(parent) => format!("{parent}.{field}"),
        None => field.to_owned(),
    };
    let quoted_after = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(field) = quoted_after("unknown field `") {
        return ConfigError::UnknownKey {
            origin: origin.clone(),
            key: join(&field),
            message,
        };
    }
    let key = match quoted_after("missing field `") {
        Some(field) => join(&field),
        None => parent.unwrap_or_default(),
    };
    ConfigError::BadValue {
        origin: origin.clone(),
        key,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::{BTreeMap, HashMap};

    const SERVICE: &str = "test";

    /// A config shaped like a service's: nested table, map, optional field.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TestConfig {
        listen: String,
        workers: u16,
        verbose: bool,
        database: Database,
        routes: BTreeMap<String, String>,
        note: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Database {
        url: String,
        max_connections: u32,
    }

    impl Default for TestConfig {
        fn default() -> Self {
            Self {
                listen: "127.0.0.1:0".into(),
                workers: 2,
                verbose: false,
                database: Database {
                    url: "sqlite://data/test.db".into(),
                    max_connections: 4,
                },
                routes: BTreeMap::new(),
                note: None,
            }
        }
    }

    impl Validate for TestConfig {
        fn validate(&self) -> Result<(), String> {
            if self.workers == 0 {
                return Err("`workers` must be at least 1, found 0".into());
            }
            Ok(())
        }
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/config")
            .join(name)
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn overrides(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn load_test(
        file: Option<&Path>,
        env: HashMap<String, String>,
        overrides: &[(String, String)],
    ) -> Result<TestConfig, ConfigError> {
        load(SERVICE, file, env, overrides)
    }

    #[test]
    fn defaults_alone_give_the_default_config() {
        let config = load_test(None, HashMap::new(), &[]).unwrap();
        assert_eq!(config, TestConfig::default());
    }

    #[test]
    fn file_overrides_defaults_and_keeps_the_rest() {
        let config = load_test(Some(&fixture("valid.toml")), HashMap::new(), &[]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:7001");
        assert_eq!(config.workers, 8);
        assert_eq!(config.database.url, "sqlite://from-file.db");
        assert_eq!(
            config.database.max_connections, 4,
            "untouched nested key keeps its default"
        );
        assert_eq!(config.routes["citizens"], "http://127.0.0.1:7101");
    }

    #[test]
    fn env_overrides_file() {
        let config = load_test(
            Some(&fixture("valid.toml")),
            env(&[
                ("EGOV_TEST__DATABASE__URL", "postgres://db/test"),
                ("EGOV_TEST__WORKERS", "16"),
                ("EGOV_TEST__VERBOSE", "true"),
                ("EGOV_TEST__ROUTES__NOTARY", "http://127.0.0.1:7102"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(config.database.url, "postgres://db/test");
        assert_eq!(config.workers, 16);
        assert!(config.verbose);
        assert_eq!(config.routes["citizens"], "http://127.0.0.1:7101");
        assert_eq!(config.routes["notary"], "http://127.0.0.1:7102");
    }

    #[test]
    fn env_vars_of_other_services_and_programs_are_ignored() {
        let config = load_test(
            None,
            env(&[
                ("EGOV_TESTING__WORKERS", "9"),
                ("EGOV_PKI__WORKERS", "9"),
                ("PATH", "/usr/bin"),
                ("EGOV_TEST_WORKERS", "9"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(config, TestConfig::default());
    }

    #[test]
    fn service_name_with_a_dash_reads_underscored_env_vars() {
        let config: TestConfig = load(
            "back-office",
            None,
            env(&[("EGOV_BACK_OFFICE__WORKERS", "5")]),
            &[],
        )
        .unwrap();
        assert_eq!(config.workers, 5);
        assert_eq!(
            env_var_name("back-office", "database.url"),
            "EGOV_BACK_OFFICE__DATABASE__URL"
        );
    }

    #[test]
    fn override_beats_env() {
        let config = load_test(
            Some(&fixture("valid.toml")),
            env(&[("EGOV_TEST__WORKERS", "16")]),
            &overrides(&[("workers", "32"), ("database.url", "sqlite://flag.db")]),
        )
        .unwrap();
        assert_eq!(config.workers, 32);
        assert_eq!(config.database.url, "sqlite://flag.db");
    }

    #[test]
    fn numeric_looking_value_for_a_string_key_stays_a_string() {
        let config = load_test(
            None,
            env(&[("EGOV_TEST__LISTEN", "8080"), ("EGOV_TEST__NOTE", "42")]),
            &overrides(&[("routes.queue", "true")]),
        )
        .unwrap();
        assert_eq!(config.listen, "8080");
        assert_eq!(
            config.note.as_deref(),
            Some("42"),
            "unset optional string falls back to text"
        );
        assert_eq!(config.routes["queue"], "true");
    }

    #[test]
    fn unknown_key_in_file_names_the_key_and_the_file() {
        let path = fixture("unknown_key.toml");
        let err = load_test(Some(&path), HashMap::new(), &[]).unwrap_err();
        let text = err.to_string();
        match err {
            ConfigError::UnknownKey { origin, key, .. } => {
                assert_eq!(origin, Origin::File(path));
                assert_eq!(key, "database.ulr");
            }
            other => panic!("expected an unknown key, got {other:?}"),
        }
        assert!(
            text.contains("database.ulr") && text.contains("unknown_key.toml"),
            "{text}"
        );
    }

    #[test]
    fn bad_value_type_in_file_names_the_key() {
        let path = fixture("bad_value.toml");
        let err = load_test(Some(&path), HashMap::new(), &[]).unwrap_err();
        let text = err.to_string();
        match err {
            ConfigError::BadValue { origin, key, .. } => {
                assert_eq!(origin, Origin::File(path));
                assert_eq!(key, "workers");
            }
            other => panic!("expected a bad value, got {other:?}"),
        }
        assert!(
            text.contains("`workers`") && text.contains("bad_value.toml"),
            "{text}"
        );
    }

    #[test]
    fn unknown_key_in_env_names_the_variable() {
        let err = load_test(None, env(&[("EGOV_TEST__WROKERS", "3")]), &[]).unwrap_err();
        match err {
            ConfigError::UnknownKey { origin, key, .. } => {
                assert_eq!(origin, Origin::Env("EGOV_TEST__WROKERS".into()));
                assert_eq!(key, "wrokers");
            }
            other => panic!("expected an unknown key, got {other:?}"),
        }
    }

    #[test]
    fn out_of_range_env_value_names_the_variable_and_the_key() {
        let err = load_test(None, env(&[("EGOV_TEST__WORKERS", "70000")]), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, ConfigError::BadValue { origin: Origin::Env(name), key, .. }
                if name == "EGOV_TEST__WORKERS" && key == "workers"),
            "{err:?}"
        );
        assert!(text.contains("70000"), "{text}");
    }

    #[test]
    fn override_into_a_value_that_is_not_a_table_is_refused() {
        let err =
            load_test(None, HashMap::new(), &overrides(&[("workers.count", "3")])).unwrap_err();
        assert!(
            matches!(&err, ConfigError::BadValue { origin: Origin::Override(k), .. } if k == "workers.count"),
            "{err:?}"
        );
        let err =
            load_test(None, HashMap::new(), &overrides(&[("database..url", "x")])).unwrap_err();
        assert!(err.to_string().contains("empty segment"), "{err}");
    }

    #[test]
    fn failed_validation_names_the_service_and_the_file() {
        let path = fixture("valid.toml");
        let err =
            load_test(Some(&path), HashMap::new(), &overrides(&[("workers", "0")])).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("`workers` must be at least 1") && text.contains("valid.toml"),
            "{text}"
        );
    }

    #[test]
    fn missing_file_is_a_read_error_naming_the_path() {
        let path = fixture("does_not_exist.toml");
        let err = load_test(Some(&path), HashMap::new(), &[]).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(err.to_string().contains("does_not_exist.toml"));
    }

    #[test]
    fn file_that_is_not_toml_is_a_parse_error_naming_the_file() {
        let path = fixture("not_toml.toml");
        let err = load_test(Some(&path), HashMap::new(), &[]).unwrap_err();
        assert!(matches!(&err, ConfigError::Parse { origin: Origin::File(p), .. } if *p == path));
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn value_with_a_line_break_is_taken_as_text_not_as_toml() {
        let config =
            load_test(None, env(&[("EGOV_TEST__LISTEN", "1\nworkers = 99")]), &[]).unwrap();
        assert_eq!(config.listen, "1\nworkers = 99");
        assert_eq!(config.workers, 2);
    }

    #[test]
    fn dumped_config_loads_back_as_the_same_config() {
        let config = load_test(Some(&fixture("valid.toml")), HashMap::new(), &[]).unwrap();
        let text = dump(&config).unwrap();
        assert_eq!(toml::from_str::<TestConfig>(&text).unwrap(), config);
    }
}
