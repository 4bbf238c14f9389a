//! The worklist's HTML pages: askama templates (escaped by askama) rendered to `Html`; forms
//! POST and redirect (303) on success, and a refusal is shown on the page it came from, with
//! its code's translated title and the workflow's message, the case unchanged.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use egov_proto::v1::TakeActionRequest;
use egov_signin::SignedIn;
use serde::Deserialize;

use super::view::{CaseView, Chrome, TaskRow, case_path, case_view, href, role_label, task_rows};
use super::{AppError, Lang, Tr, WORKLIST_PATH, WebState, actor, office_roles, viewing_role};
use crate::catalogue::OfficeRole;
use crate::workflow::CaseFile;

/// The parameters every page takes.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// `clerk`, `head` or `executor`: which of the signed-in person's roles the page shows.
    pub role: Option<String>,
    /// `kk`, `ru` or `en`.
    pub lang: Option<String>,
    /// The action just taken, to confirm it after the redirect.
    pub done: Option<String>,
}

/// The form of a step's action; the acting role is the open step's, held by the person.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    /// The page's language, to come back in.
    #[serde(default)]
    pub lang: String,
    /// The action, as the step lists it, or `refuse`.
    pub action: String,
    /// For a refusal: the item-10 ground's code.
    #[serde(default)]
    pub refusal_ground: String,
    /// Free-text comment.
    #[serde(default)]
    pub comment: String,
}

/// A refusal as a page shows it.
#[derive(Debug, Clone)]
pub struct ErrorView {
    /// The code, e.g. `refusal_ground`.
    pub code: &'static str,
    /// The code's title in the page's language.
    pub title: String,
    /// The workflow's message, naming what was wrong.
    pub message: String,
}

impl ErrorView {
    fn new(tr: Tr, error: &AppError) -> ErrorView {
        let body = error.body();
        ErrorView {
            code: body.code,
            title: tr.get(&format!("error-{}", body.code)),
            message: body.message,
        }
    }
}

/// `/worklist`: a role's tasks, or the role picker.
#[derive(Template)]
#[template(path = "worklist.html")]
pub struct WorklistPage {
    tr: Tr,
    chrome: Chrome,
    heading: String,
    picked: bool,
    count: String,
    rows: Vec<TaskRow>,
}

/// `/cases/{id}`: a case.
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    tr: Tr,
    chrome: Chrome,
    case: CaseView,
    error: Option<ErrorView>,
    done: Option<String>,
}

/// A page that could not be shown: an unknown case, a bad parameter.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    tr: Tr,
    chrome: Chrome,
    error: ErrorView,
}

/// Renders a template with a status; a template that fails to render is logged.
fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "rendering a worklist page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error of the back office: the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// Renders a refusal as a page of its own, with the frame to go elsewhere.
fn error_page(
    state: &WebState,
    me: &SignedIn,
    tr: Tr,
    role: Option<OfficeRole>,
    error: &AppError,
) -> Response {
    let page = ErrorPage {
        tr,
        chrome: Chrome::new(tr, me, role, WORKLIST_PATH, state.workflow.now()),
        error: ErrorView::new(tr, error),
    };
    render(error.status(), &page)
}

/// Reads the page parameters: the language (a bad one falls back to Kazakh) and the role,
/// one of the person's (a bad one is refused, naming it; another's is 403).
fn viewer(me: &SignedIn, query: &PageQuery) -> (Tr, Result<Option<OfficeRole>, AppError>) {
    let tr = Tr::new(Lang::or_default(query.lang.as_deref()));
    (tr, viewing_role(&me.person, query.role.as_deref()))
}

/// Reads the query, naming what could not be read.
fn page_query(query: Result<Query<PageQuery>, QueryRejection>) -> Result<PageQuery, AppError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| AppError::invalid("query", rejection.body_text()))
}

/// `GET /`: sends the visitor to the worklist.
pub async fn home() -> Redirect {
    Redirect::to(WORKLIST_PATH)
}

/// `GET /worklist?role=…&lang=…`: the role's open tasks, overdue first; without a role, the
/// role picker.
pub async fn worklist(
    State(state): State<WebState>,
    me: SignedIn,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = page_query(query);
    let (tr, role) = viewer(&me, query.as_ref().unwrap_or(&PageQuery::default()));
    let role = match query.and(role) {
        Ok(role) => role,
        Err(error) => return error_page(&state, &me, tr, None, &error),
    };
    let chrome = Chrome::new(tr, &me, role, WORKLIST_PATH, state.workflow.now());
    let Some(role) = role else {
        return render(
            StatusCode::OK,
            &WorklistPage {
                tr,
                chrome,
                heading: tr.get("pick-role-heading"),
                picked: false,
                count: String::new(),
                rows: Vec::new(),
            },
        );
    };
    let cases = match state.workflow.tasks(role).await {
        Ok(cases) => cases,
        Err(error) => return error_page(&state, &me, tr, Some(role), &error.into()),
    };
    let rows = task_rows(tr, role, state.workflow.catalogue(), &cases);
    render(
        StatusCode::OK,
        &WorklistPage {
            tr,
            chrome,
            heading: tr.with("worklist-heading", "role", &role_label(tr, role)),
            picked: true,
            count: tr.count("tasks-count", rows.len()),
            rows,
        },
    )
}

/// Renders a case page, with a refusal of the action just tried if any.
fn case_page(
    state: &WebState,
    me: &SignedIn,
    tr: Tr,
    role: Option<OfficeRole>,
    file: &CaseFile,
    error: Option<&AppError>,
    done: Option<String>,
) -> Response {
    let page = CasePage {
        tr,
        chrome: Chrome::new(
            tr,
            me,
            role,
            &case_path(&file.case.id),
            state.workflow.now(),
        ),
        case: case_view(tr, &state.people, role, file),
        error: error.map(|error| ErrorView::new(tr, error)),
        done,
    };
    render(error.map_or(StatusCode::OK, AppError::status), &page)
}

/// `GET /cases/{id}?role=…&lang=…`: the case, and its current step's form for its role.
pub async fn case(
    State(state): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = page_query(query);
    let (tr, role) = viewer(&me, query.as_ref().unwrap_or(&PageQuery::default()));
    let done = query
        .as_ref()
        .ok()
        .and_then(|query| query.done.as_deref())
        // Only a known action is confirmed; anything else in the link is ignored.
        .and_then(|action| tr.try_get(&format!("taken-{action}")))
        .map(|taken| tr.with("done", "action", &taken));
    let role = match query.and(role) {
        Ok(role) => role,
        Err(error) => return error_page(&state, &me, tr, None, &error),
    };
    match state.workflow.case_file(&id).await {
        Ok(file) => case_page(&state, &me, tr, role, &file, None, done),
        Err(error) => error_page(&state, &me, tr, role, &error.into()),
    }
}

/// `POST /cases/{id}/actions`: takes the current step's action in the step's role, which the
/// signed-in person must hold (else 403), recording the person; then redirects to the case
/// (303). A refusal re-renders the case with the refusal and the refusal's status.
pub async fn act(
    State(state): State<WebState>,
    me: SignedIn,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let error = AppError::invalid("form", rejection.body_text());
            return error_page(&state, &me, Tr::new(Lang::default()), None, &error);
        }
    };
    let lang = Lang::or_default(Some(&form.lang));
    let tr = Tr::new(lang);
    let file = match state.workflow.case_file(&id).await {
        Ok(file) => file,
        Err(error) => return error_page(&state, &me, tr, None, &error.into()),
    };
    // The step's role, or (once closed) one of the person's, for the workflow to refuse.
    let role = file
        .open_step()
        .map(|step| step.role)
        .or_else(|| office_roles(&me.person).first().copied());
    let Some(role) = role else {
        let error = viewing_role(&me.person, None).err();
        let error = error.unwrap_or_else(|| AppError::invalid("role", "no role can act"));
        return error_page(&state, &me, tr, None, &error);
    };
    if let Err(forbidden) = me.person.require_role(role.as_str()) {
        let error = AppError::from(forbidden);
        return case_page(&state, &me, tr, None, &file, Some(&error), None);
    }
    let request = TakeActionRequest {
        case_id: id.clone(),
        role: role.to_proto() as i32,
        action: form.action.clone(),
        refusal_ground: form.refusal_ground,
        comment: form.comment,
    };
    match state
        .workflow
        .take_action_by(&request, Some(&actor(&me.person)))
        .await
    {
        // The action was one of the step's (lowercase letters), so it is safe in the link.
        Ok(case) => Redirect::to(&format!(
            "{}&done={}",
            href(&case_path(&case.id), Some(role), lang),
            form.action
        ))
        .into_response(),
        Err(error) => {
            let error = AppError::from(error);
            match state.workflow.case_file(&id).await {
                Ok(file) => case_page(&state, &me, tr, Some(role), &file, Some(&error), None),
                Err(_) => error_page(&state, &me, tr, Some(role), &error),
            }
        }
    }
}
