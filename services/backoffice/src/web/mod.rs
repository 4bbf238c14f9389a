//! The worklist: server-rendered pages for the clerk (кеңсе / канцелярия), the head (басшы /
//! руководитель) and the responsible executor (жауапты орындаушы / ответственный исполнитель),
//! and the JSON API that mirrors them, both on the back office's HTTP port. Handlers call the
//! [`Workflow`] and render; every rule stays in the workflow.
//!
//! Pages (`lang=kk|ru|en` on each; forms POST and redirect, no JavaScript):
//! - `GET /worklist?role=clerk|head|executor`: the role's open tasks, overdue first.
//! - `GET /cases/{id}?role=…`: the case, its item-9 documents, its steps, its result, and the
//!   current step's form when the role owns it; `POST /cases/{id}/actions` takes the action.
//!
//! API: `GET /api/tasks?role=…`, `GET /api/cases/{id}`, `POST /api/cases/{id}/actions`
//! (`{role, action, refusal_ground?, comment?}`); refusals are `{code, message}` with 400/404/409.

pub mod api;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

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

/// Returns the worklist's routes: the pages and the JSON API.
pub fn router(workflow: Workflow, people: People) -> Router {
    let state = WebState {
        workflow,
        people: Arc::new(people),
    };
    Router::new()
        .route("/", get(pages::home))
        .route(WORKLIST_PATH, get(pages::worklist))
        .route("/cases/{id}", get(pages::case))
        .route("/cases/{id}/actions", post(pages::act))
        .route("/api/tasks", get(api::tasks))
        .route("/api/cases/{id}", get(api::case))
        .route("/api/cases/{id}/actions", post(api::act))
        .with_state(state)
}

/// Reads a `role` parameter, naming the bad value.
pub fn parse_role(name: &str) -> Result<OfficeRole, AppError> {
    OfficeRole::parse(name).ok_or_else(|| {
        AppError::invalid("role", format!("{name:?} is not clerk, head or executor"))
    })
}

/// Every role, in the picker's order (the order of a case's steps).
pub const ROLES: [OfficeRole; 3] = [OfficeRole::Clerk, OfficeRole::Head, OfficeRole::Executor];
