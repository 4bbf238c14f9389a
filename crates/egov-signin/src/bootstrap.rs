//! The first accounts, from a TOML file a deployment provides, so a fresh service has someone
//! who can sign in. Accounts whose logins exist are left alone (a changed password stays).
//!
//! ```toml
//! [[account]]
//! login = "aigul"
//! name = "Айгүл Серікова"
//! roles = ["clerk"]
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"   # or, for a local demo only:
//! # password = "at least ten characters"
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::{Signin, SigninError};

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<Account>,
}

/// One account of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    login: String,
    name: String,
    roles: Vec<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
}

/// Adds the file's accounts that are absent; returns how many were added.
pub async fn apply(signin: &Signin, path: &Path) -> Result<usize, SigninError> {
    let bad = |reason: String| SigninError::Bootstrap {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| bad(error.to_string()))?;
    let file: File = toml::from_str(&text).map_err(|error| bad(error.to_string()))?;
    let mut added = 0;
    for account in file.account {
        if signin.has_account(&account.login).await? {
            continue;
        }
        let result = match (&account.password, &account.password_hash) {
            (Some(password), None) => {
                signin
                    .add_account(&account.login, &account.name, &account.roles, password)
                    .await
            }
            (None, Some(hash)) => {
                signin
                    .add_account_hashed(&account.login, &account.name, &account.roles, hash)
                    .await
            }
            _ => {
                return Err(bad(format!(
                    "account {:?}: give exactly one of password and password_hash",
                    account.login
                )));
            }
        };
        result.map_err(|error| bad(format!("account {:?}: {error}", account.login)))?;
        added += 1;
    }
    Ok(added)
}
