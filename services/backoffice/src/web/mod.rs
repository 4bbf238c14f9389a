//! The worklist: server-rendered pages for the clerk (кеңсе / канцелярия), the head (басшы /
//! руководитель) and the responsible executor (жауапты орындаушы / ответственный исполнитель),
//! and the JSON API that mirrors them, both on the back office's HTTP port. Handlers call the
//! [`Workflow`] and render; every rule stays in the workflow.
//!
//! Every route needs a signed-in caller ([`egov_signin`]): a person with a session (pages,
//! forms with their CSRF token) or an API token. Roles come from the person's account: a page
//! shows one of the person's roles, an action is taken in the role of the case's open step if
//! the person holds it (else 403), and the step records the person.
//!
//! Pages (`lang=kk|ru|en` on each; forms POST and redirect, no JavaScript):
//! - `GET /worklist?role=clerk|head|executor`: the role's open tasks, overdue first; without a
//!   role, the person's only role or a pick among the person's roles.
//! - `GET /cases/{id}?role=…`: the case, its item-9 documents, its steps, its result, and the
//!   current step's form when the role owns it; `POST /cases/{id}/actions` takes the action.
//!
//! API: `GET /api/tasks?role=…`, `GET /api/cases/{id}`, `POST /api/cases/{id}/actions`
//! (`{action, refusal_ground?, comment?}`); refusals are `{code, message}` with
//! 400/401/403/404/409.

pub mod api;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use egov_core::clock::Clock;
use egov_signin::cli::AccountsCommand;
use egov_signin::{Forbidden, Person, Settings, Signin};

use crate::BackOfficeError;
use crate::catalogue::OfficeRole;
use crate::config::Config;
use crate::workflow::Workflow;

pub use error::AppError;
pub use i18n::{Lang, Tr};

/// The path of the worklist page.
pub const WORKLIST_PATH: &str = "/worklist";

/// The demo's people, one per role: who the role picker signs in as. EDS sign-in comes with
/// the portal; until then the picker is honest about being a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct People {
    /// The office clerk's name.
    pub clerk: String,
    /// The head's name, as the head's signing certificate carries it.
    pub head: String,
    /// The responsible executor's name.
    pub executor: String,
}

impl People {
    /// Returns the people a config names.
    pub fn from_config(config: &Config) -> People {
        People {
            clerk: config.clerk_name.clone(),
            head: format!("{} {}", config.head_given_name, config.head_surname),
            executor: config.executor_name.clone(),
        }
    }

    /// Returns the name of the person in a role.
    pub fn of(&self, role: OfficeRole) -> &str {
        match role {
            OfficeRole::Clerk => &self.clerk,
            OfficeRole::Head => &self.head,
            OfficeRole::Executor => &self.executor,
        }
    }
}

/// What every worklist handler shares; cheap to clone.
#[derive(Debug, Clone)]
pub struct WebState {
    /// The cases.
    pub workflow: Workflow,
    /// Who each role is.
    pub people: Arc<People>,
}

/// The app name of the worklist's session cookie, `egov-backoffice-session`.
pub const SIGNIN_APP: &str = "backoffice";

/// Returns the worklist's sign-in settings from the back office's config.
pub fn signin_settings(config: &Config) -> Settings {
    let mut settings = Settings::new(SIGNIN_APP, "Back office worklist");
    settings.secure_cookie = config.signin_secure_cookie;
    settings.origins = config.signin_origins.clone();
    settings.idle = Duration::from_secs(config.signin_idle_minutes.saturating_mul(60));
    settings.absolute = Duration::from_secs(config.signin_absolute_hours.saturating_mul(3600));
    settings.bootstrap = config.signin_bootstrap.clone();
    settings.home = WORKLIST_PATH.to_owned();
    settings
}

/// Opens the worklist's sign-in in the back office's database (its own tables and
/// migrations), adding the bootstrap file's accounts.
pub async fn open_signin(
    config: &Config,
    store: &crate::store::Store,
    clock: Arc<dyn Clock>,
) -> Result<Signin, BackOfficeError> {
    let signin = Signin::open(store.pool().clone(), signin_settings(config), clock)
        .await
        .map_err(|error| BackOfficeError::config(format!("sign-in: {error}")))?;
    let accounts = signin
        .accounts()
        .await
        .map_err(|error| BackOfficeError::config(format!("sign-in: {error}")))?;
    if accounts.is_empty() {
        tracing::warn!(
            "no worklist accounts: add one with `egov-backoffice accounts add` or `signin_bootstrap`"
        );
    }
    Ok(signin)
}

/// Runs an `accounts` subcommand of the binary on the back office's database.
pub async fn accounts(config: &Config, command: &AccountsCommand) -> Result<(), BackOfficeError> {
    let store = crate::store::Store::open(&config.database_url()).await?;
    let signin = open_signin(config, &store, egov_core::clock::SystemClock::shared()).await?;
    let result = command
        .run(
            &signin,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout(),
        )
        .await;
    store.close().await;
    result.map_err(|error| BackOfficeError::invalid("accounts", error.to_string()))
}

/// Returns the worklist's routes, the pages and the JSON API, behind `signin`.
pub fn router(workflow: Workflow, people: People, signin: &Signin) -> Router {
    let state = WebState {
        workflow,
        people: Arc::new(people),
    };
    let routes = Router::new()
        .route("/", get(pages::home))
        .route(WORKLIST_PATH, get(pages::worklist))
        .route("/cases/{id}", get(pages::case))
        .route("/cases/{id}/actions", post(pages::act))
        .route("/api/tasks", get(api::tasks))
        .route("/api/cases/{id}", get(api::case))
        .route("/api/cases/{id}/actions", post(api::act))
        .with_state(state);
    signin.protect(routes)
}

/// Returns the office roles a person holds, in the order of a case's steps.
pub fn office_roles(person: &Person) -> Vec<OfficeRole> {
    ROLES
        .into_iter()
        .filter(|role| person.has_role(role.as_str()))
        .collect()
}

/// Returns the role a person views a page in: the one asked for, which the person must hold
/// (else 403); else the person's only office role, or none (the person picks). A person with
/// no office role is refused.
pub fn viewing_role(person: &Person, asked: Option<&str>) -> Result<Option<OfficeRole>, AppError> {
    if let Some(name) = asked.filter(|name| !name.is_empty()) {
        let role = parse_role(name)?;
        person.require_role(role.as_str())?;
        return Ok(Some(role));
    }
    match office_roles(person).as_slice() {
        [] => Err(AppError::Forbidden(Forbidden {
            login: person.login.clone(),
            role: "clerk, head or executor".to_owned(),
        })),
        [only] => Ok(Some(*only)),
        _ => Ok(None),
    }
}

/// Returns what a step records as the person who took it: name and login.
pub fn actor(person: &Person) -> String {
    format!("{} ({})", person.name, person.login)
}

/// Reads a `role` parameter, naming the bad value.
pub fn parse_role(name: &str) -> Result<OfficeRole, AppError> {
    OfficeRole::parse(name).ok_or_else(|| {
        AppError::invalid("role", format!("{name:?} is not clerk, head or executor"))
    })
}

/// Every role, in the picker's order (the order of a case's steps).
pub const ROLES: [OfficeRole; 3] = [OfficeRole::Clerk, OfficeRole::Head, OfficeRole::Executor];
