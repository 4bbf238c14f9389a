//! `accounts add|password|list|token|revoke`: the subcommands a service binary mounts
//! (`#[command(subcommand)]`) to manage its sign-in on its own database. Passwords are read
//! from standard input (one line), never from the command line, where `ps` would show them.

use std::io::{BufRead, Write};

use clap::Subcommand;

use crate::{Signin, SigninError};

/// Manages the accounts and API tokens of the service's sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AccountsCommand {
    /// Adds a person; the password is read from standard input.
    Add {
        /// The login: lowercase letters, digits, '.', '_' or '-'.
        login: String,
        /// The name recorded on what the person does.
        #[arg(long)]
        name: String,
        /// A role (repeat for more), e.g. `--role clerk --role head`.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Sets a new password (read from standard input) and ends the person's sessions.
    Password {
        /// The login.
        login: String,
    },
    /// Lists the accounts and the API tokens.
    List,
    /// Issues an API token for an account; the token is printed once.
    Token {
        /// The account the token acts as.
        login: String,
        /// What the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revokes an API token by its id.
    Revoke {
        /// The token's id, as `list` shows it.
        id: String,
    },
}

/// Reads one line (a password) from `input`, without its line end.
pub fn read_line(input: &mut impl BufRead) -> Result<String, SigninError> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

impl AccountsCommand {
    /// Runs the command on `signin`, reading a password from `input` and writing to `out`.
    pub async fn run(
        &self,
        signin: &Signin,
        input: &mut impl BufRead,
        out: &mut impl Write,
    ) -> Result<(), SigninError> {
        match self {
            AccountsCommand::Add { login, name, roles } => {
                let password = read_line(input)?;
                let person = signin.add_account(login, name, roles, &password).await?;
                writeln!(
                    out,
                    "added {} ({}): {}",
                    person.login,
                    person.name,
                    person.roles.join(", ")
                )?;
            }
            AccountsCommand::Password { login } => {
                let password = read_line(input)?;
                signin.set_password(login, &password).await?;
                writeln!(out, "password of {login} changed; its sessions ended")?;
            }
            AccountsCommand::List => {
                for person in signin.accounts().await? {
                    writeln!(
                        out,
                        "{}\t{}\t{}",
                        person.login,
                        person.name,
                        person.roles.join(",")
                    )?;
                }
                for token in signin.tokens().await? {
                    let state = match token.revoked_at {
                        Some(_) => "revoked",
                        None => "active",
                    };
                    writeln!(
                        out,
                        "token {}\t{}\t{}\t{state}",
                        token.id, token.login, token.label
                    )?;
                }
            }
            AccountsCommand::Token { login, label } => {
                let (id, token) = signin.issue_token(login, label).await?;
                writeln!(
                    out,
                    "token {id} for {login}; it is shown only now:\n{token}"
                )?;
            }
            AccountsCommand::Revoke { id } => {
                signin.revoke_token(id).await?;
                writeln!(out, "token {id} revoked")?;
            }
        }
        Ok(())
    }
}
