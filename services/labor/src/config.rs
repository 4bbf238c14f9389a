//! The Labour Market AIS's («Еңбек нарығы» ААЖ) configuration: what it listens on, where it
//! keeps its applications, which certification centre it enrolls with and which gateway it
//! calls the citizens-DB, the notary registry and the back office through.
//!
//! The keys, their loading and checks are [`egov_system::SystemConfig`]'s; this module names
//! the system and its defaults. Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_LABOR__<KEY>` env vars, then CLI flags, then `Validate::validate`.

egov_system::system_config! {
    /// The Labour Market AIS's name and defaults.
    service: "labor",
    grpc: 7140,
    http: 7141,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_the_data_dir() {
        let env = [("EGOV_LABOR__ASYNC_PULL".to_owned(), "true".to_owned())];
        let config = Config::load(None, env, &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
        assert_eq!(config.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(config.async_pull, "the env prefix is EGOV_LABOR__");
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/labor/labor.db?mode=rwc"
        );
    }
}
