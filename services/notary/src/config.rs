//! The notary registry's configuration (БНАЖ / ЕНИС): what it listens on, where it keeps
//! its powers of attorney, which certification centre it enrolls with and how it takes
//! part in the gateway's async channel.
//!
//! The keys, their loading and checks are [`egov_system::SystemConfig`]'s; this module names
//! the system and its defaults. Loaded through `egov_core::config`: defaults, then the TOML
//! file, then `EGOV_NOTARY__<KEY>` env vars, then CLI flags, then `Validate::validate`.

egov_system::system_config! {
    /// The notary registry's name and defaults.
    service: "notary",
    grpc: 7130,
    http: 7131,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_the_data_dir() {
        let env = [("EGOV_NOTARY__ASYNC_PULL".to_owned(), "true".to_owned())];
        let config = Config::load(None, env, &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
        assert_eq!(config.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(config.pki_endpoint, DEFAULT_PKI_ENDPOINT);
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(config.async_pull, "the env prefix is EGOV_NOTARY__");
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/notary/notary.db?mode=rwc"
        );
    }
}
