//! The operator's commands: `egov-pki accounts add|list` keeps registrar accounts (the people
//! who may enrol anyone and revoke) as argon2id digests in the centre's database, and
//! `egov-pki tokens --out <dir>` makes one enrolment token per system of the stack for a
//! deployment without `egov up` (the compose stack's generator step).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use egov_core::clock::{Clock as _, SystemClock};

use crate::PkiError;
use crate::config::Config;
use crate::enrolment::{IssuedToken, grants_text, rfc3339, stack_tokens_at};
use crate::store::Store;

/// The file the `tokens` command writes the centre's grants to.
pub const GRANTS_FILE: &str = "grants";

/// What `egov-pki <command>` does instead of serving.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Manages registrar accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Writes one enrolment token per system of the stack into `--out`: `grants` for the
    /// centre (`enrolment_grants_file`) and `<service>.token` (mode 0600) for each holder.
    /// Each enrols for `enrolment_token_lifetime_hours` from now (24 unless configured).
    Tokens {
        /// The directory to write into; created if missing.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Registrar accounts.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AccountsCommand {
    /// Adds a registrar or changes its password; the password is read from standard input.
    Add {
        /// The login.
        login: String,
    },
    /// Lists the registrars' logins.
    List,
}

/// Adds the registrar account `login` with `password` to the centre `config` names, as
/// `egov-pki accounts add <login>` does with the password typed on standard input.
pub async fn add_registrar(config: &Config, login: &str, password: &str) -> Result<(), PkiError> {
    Command::Accounts(AccountsCommand::Add {
        login: login.to_owned(),
    })
    .run(
        config,
        &mut format!("{password}\n").as_bytes(),
        &mut Vec::new(),
    )
    .await
}

impl Command {
    /// Runs the command against the centre `config` names, reading a password from `input`.
    pub async fn run(
        &self,
        config: &Config,
        input: &mut impl BufRead,
        out: &mut impl Write,
    ) -> Result<(), PkiError> {
        let written = |source| PkiError::Io {
            action: "write the answer".into(),
            source,
        };
        match self {
            Command::Tokens { out: dir } => {
                let now = SystemClock.now();
                let lifetime = config.enrolment_token_lifetime();
                let tokens = stack_tokens_at(now, lifetime)?;
                write_tokens(dir, &tokens)?;
                writeln!(
                    out,
                    "wrote {} enrolment tokens to {}, valid until {}",
                    tokens.len(),
                    dir.display(),
                    rfc3339(now + lifetime)
                )
                .map_err(written)?;
            }
            Command::Accounts(command) => {
                crate::secret::create_private_dir(&config.data_dir)?;
                if let Some(file) = config.default_database_file() {
                    crate::secret::create_private_file(&file)?;
                }
                let store = Store::open(&config.database_url()).await?;
                let result = match command {
                    AccountsCommand::Add { login } => {
                        add(&store, login, input).await?;
                        writeln!(out, "registrar {login} added").map_err(written)
                    }
                    AccountsCommand::List => store
                        .registrars()
                        .await?
                        .iter()
                        .try_for_each(|login| writeln!(out, "{login}"))
                        .map_err(written),
                };
                store.close().await;
                result?;
            }
        }
        Ok(())
    }
}

/// Adds a registrar with the password read from `input` (one line).
async fn add(store: &Store, login: &str, input: &mut impl BufRead) -> Result<(), PkiError> {
    egov_signin::check_login(login)
        .map_err(|error| PkiError::invalid("login", error.to_string()))?;
    let password = egov_signin::cli::read_line(input)
        .map_err(|error| PkiError::invalid("password", error.to_string()))?;
    egov_signin::password::check(&password)
        .map_err(|error| PkiError::invalid("password", error.to_string()))?;
    let phc = egov_signin::password::hash(&password)
        .map_err(|error| PkiError::Config(format!("password hash: {error}")))?;
    store.put_registrar(login, &phc, SystemClock.now()).await
}

/// Returns the file a token is written to: `labor.token`, `gateway.token`,
/// `backoffice-head.token`, `backoffice-head-employment_centre.token`.
pub fn token_file_name(env: &str) -> String {
    if let Some((service, key)) = env
        .trim_start_matches("EGOV_")
        .split_once("__HEAD_ENROLMENT_TOKENS__")
    {
        return format!(
            "{}-head-{}.token",
            service.to_ascii_lowercase(),
            key.to_ascii_lowercase()
        );
    }
    let name = env
        .trim_start_matches("EGOV_")
        .trim_end_matches("_ENROLMENT_TOKEN")
        .trim_end_matches("__HEAD")
        .to_ascii_lowercase();
    let name = name.trim_end_matches('_');
    if env.ends_with("__HEAD_ENROLMENT_TOKEN") {
        format!("{name}-head.token")
    } else {
        format!("{name}.token")
    }
}

/// Writes the grants file and one owner-only file per token into `dir`.
pub fn write_tokens(dir: &Path, tokens: &[IssuedToken]) -> Result<(), PkiError> {
    let io = |path: &Path, source| PkiError::Io {
        action: format!("write {}", path.display()),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    let grants = dir.join(GRANTS_FILE);
    std::fs::write(&grants, grants_text(tokens)).map_err(|source| io(&grants, source))?;
    for token in tokens {
        let path = dir.join(token_file_name(&token.env));
        crate::secret::create_private_file(&path)?;
        std::fs::write(&path, &token.token).map_err(|source| io(&path, source))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_are_named_after_their_service() {
        assert_eq!(
            token_file_name("EGOV_LABOR__ENROLMENT_TOKEN"),
            "labor.token"
        );
        assert_eq!(
            token_file_name("EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKEN"),
            "backoffice-head.token"
        );
        assert_eq!(
            token_file_name("EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__EMPLOYMENT_CENTRE"),
            "backoffice-head-employment_centre.token"
        );
    }
}
