//! The console's operator sign-in, kept apart from the console's pages so another sign-in
//! layer on the gateway merges beside it: accounts and sessions in a database of the
//! console's own (`console_database_url`, SQLite `console.db` in the data dir by default),
//! the cookie `egov-gateway-console-session`, and the role [`OPERATOR_ROLE`].

use std::sync::Arc;

use egov_core::clock::Clock;
use egov_signin::cli::AccountsCommand;
use egov_signin::{Settings, Signin};

use crate::GatewayError;
use crate::config::Config;

/// The app name of the console's session cookie, `egov-gateway-console-session`.
pub const CONSOLE_APP: &str = "gateway-console";

/// The role an account needs to read the console.
pub const OPERATOR_ROLE: &str = "operator";

/// Returns the console's sign-in settings from the gateway's config.
pub fn settings(config: &Config) -> Settings {
    let mut settings = Settings::new(CONSOLE_APP, "Gateway operator console");
    settings.secure_cookie = config.console_secure_cookie;
    settings.origins = config.console_origins.clone();
    settings.bootstrap = config.console_bootstrap.clone();
    settings.home = super::CONSOLE_PATH.to_owned();
    settings
}

/// Opens the console's sign-in on its own database, adding the bootstrap file's accounts.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Signin, GatewayError> {
    open_with(&config.console_database_url(), settings(config), clock).await
}

/// Opens the console's sign-in on the database at `url` with `settings` (tests pass their own).
pub async fn open_with(
    url: &str,
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<Signin, GatewayError> {
    let pool = egov_store::StoreOptions::new("console_database_url", url)
        .open(None)
        .await
        .map_err(|error| GatewayError::Console(error.to_string()))?;
    let signin = Signin::open(pool, settings, clock)
        .await
        .map_err(|error| GatewayError::Console(error.to_string()))?;
    let accounts = signin
        .accounts()
        .await
        .map_err(|error| GatewayError::Console(error.to_string()))?;
    if !accounts.iter().any(|person| person.has_role(OPERATOR_ROLE)) {
        tracing::warn!(
            "no console operator: add one with `egov-gateway accounts add <login> --role operator` or `console_bootstrap`"
        );
    }
    Ok(signin)
}

/// Runs an `accounts` subcommand of the binary on the console's database.
pub async fn accounts(config: &Config, command: &AccountsCommand) -> Result<(), GatewayError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| GatewayError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let signin = open(config, egov_core::clock::SystemClock::shared()).await?;
    command
        .run(
            &signin,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout(),
        )
        .await
        .map_err(|error| GatewayError::Console(error.to_string()))
}
