//! The State Corporation's desk (egov-con) as its operator uses it over HTTP, for `desk` steps
//! against a running stack: a ticket from the hall's kiosk, the operator signed in on `/login`
//! with their own login and password, the ticket called and its request form filed through the
//! desk's JSON API beside its pages (`/api/kiosk/tickets`, `/api/desk`, `/api/desk/call`,
//! `/api/desk/tickets/{id}`), each state-changing call with the session's CSRF token. The desk
//! itself asks the registers and sends the operator-signed request through the gateway.

use std::future::Future;
use std::pin::Pin;

use egov_http::{HttpClient, HttpError};
use tokio::sync::Mutex;

use crate::file::Desk as DeskForm;
use crate::portal::{HttpAnswer, form, host_and_port, page_error, session_cookie};
use crate::run::{StateCorporationDesk, toml_of};

/// The desk's session cookie (egov-signin's `egov-<app>-session`, app `con`).
const SESSION_COOKIE: &str = "egov-con-session";

/// The header a state-changing call on a session carries its CSRF token in (egov-signin's).
const CSRF_HEADER: &str = "x-csrf-token";

/// Why the desk could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The desk's URL is not `http://host:port`.
    #[error("State Corporation desk URL {0:?} is not http://host:port")]
    BadUrl(String),
    /// The desk could not be reached.
    #[error("the State Corporation desk at {url} cannot be reached: {reason}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// The I/O error.
        reason: String,
    },
    /// The operator's sign-in was refused.
    #[error(
        "the State Corporation desk at {url} refused the sign-in of operator {login:?} \
         (HTTP {status}): {reason}"
    )]
    SignIn {
        /// The desk's URL.
        url: String,
        /// The operator's login.
        login: String,
        /// The HTTP status of `/login`.
        status: u16,
        /// What the desk said.
        reason: String,
    },
    /// The desk refused a call.
    #[error("the State Corporation desk at {url} refused {what} (HTTP {status}): {reason}")]
    Refused {
        /// The desk's URL.
        url: String,
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// What the desk said.
        reason: String,
    },
    /// The desk's answer could not be read.
    #[error("the State Corporation desk's answer to {what} could not be read: {reason}")]
    BadAnswer {
        /// What was asked.
        what: String,
        /// Why.
        reason: String,
    },
}

/// A signed-in operator's session: its cookie and CSRF token.
#[derive(Debug, Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

/// The desk at a running stack, filed at as one operator with their own credentials.
#[derive(Debug)]
pub struct DeskClient {
    http: HttpClient,
    url: String,
    login: String,
    password: String,
    session: Mutex<Option<Session>>,
    /// A sign-in refused for the credentials (status and reason): not asked again, so one
    /// wrong password does not lock the operator's account by a refusal per scenario.
    refused: std::sync::Mutex<Option<(u16, String)>>,
}

impl DeskClient {
    /// Creates a client of the desk at `url` (`http://host:port`) signing in as the operator
    /// `login` with `password`; nothing is asked until the first filing.
    pub fn new(url: &str, login: &str, password: &str) -> Result<DeskClient, DeskError> {
        let addr = host_and_port(url).ok_or_else(|| DeskError::BadUrl(url.to_owned()))?;
        Ok(DeskClient {
            http: HttpClient::new(addr),
            url: format!("http://{addr}"),
            login: login.to_owned(),
            password: password.to_owned(),
            session: Mutex::new(None),
            refused: std::sync::Mutex::new(None),
        })
    }

    /// Signs the operator in now, so a wrong login or password shows before any scenario runs.
    pub async fn sign_in(&self) -> Result<(), DeskError> {
        self.session(true).await.map(|_| ())
    }

    /// Takes a ticket at the kiosk, calls the next ticket to the desk and files `form` for it;
    /// returns what the desk came to as JSON (`outcome`, and the filing's fields). The operator
    /// signs in first: a refused sign-in leaves no ticket waiting in the hall.
    pub async fn file_form(&self, form: &DeskForm) -> Result<serde_json::Value, DeskError> {
        self.session(false).await?;
        let taken = self.request("POST", "/api/kiosk/tickets", None, "").await?;
        self.expect_json(&taken, &[201], "a ticket at the kiosk")?;
        let called = self
            .as_operator("POST", "/api/desk/call", "{}", "to call the next ticket")
            .await?;
        let called = self.expect_json(&called, &[200], "to call the next ticket")?;
        let id = called
            .pointer("/ticket/id")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| DeskError::Refused {
                url: self.url.clone(),
                what: "to call the next ticket".to_owned(),
                status: 200,
                reason: "no ticket waits at the desk".to_owned(),
            })?
            .to_owned();
        let body = serde_json::to_string(form).map_err(|err| DeskError::BadAnswer {
            what: "the request form".to_owned(),
            reason: err.to_string(),
        })?;
        let what = format!("the request of ticket {id}");
        let path = format!("/api/desk/tickets/{}", form_path_segment(&id));
        let filed = self.as_operator("POST", &path, &body, &what).await?;
        // An invalid form or a missing consent is an outcome (400), as the page shows it.
        let outcome = self.expect_json(&filed, &[200, 400], &what)?;
        if outcome.get("outcome").is_none() {
            return Err(self.refused(&what, &filed));
        }
        Ok(outcome)
    }

    /// Asks the desk for the result of the filing `id`, as the filing's page does, and records
    /// its hand-over to the recipient when `hand_over` and the result is there; returns the
    /// filing as JSON (`ready`, `result_kind`, `result_text`, `result_signer`,
    /// `handed_over_by`, and the `correlation_id` of the request the read sent).
    pub async fn read_result(
        &self,
        id: &str,
        hand_over: bool,
    ) -> Result<serde_json::Value, DeskError> {
        let segment = form_path_segment(id);
        let what = format!("the result of filing {id}");
        let path = format!("/api/desk/filings/{segment}/result");
        let read = self.as_operator("POST", &path, "", &what).await?;
        let read = self.expect_json(&read, &[200], &what)?;
        let ready = read.get("ready").and_then(serde_json::Value::as_bool) == Some(true);
        let handed = read
            .get("handed_over_by")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|by| !by.is_empty());
        if !hand_over || !ready || handed {
            return Ok(read);
        }
        let what = format!("the hand-over of filing {id}'s result");
        let path = format!("/api/desk/filings/{segment}/hand-over");
        let handed = self.as_operator("POST", &path, "", &what).await?;
        let mut handed = self.expect_json(&handed, &[200], &what)?;
        // The hand-over sends nothing: the read's request is the step's exchange.
        if let (Some(handed), Some(id)) = (handed.as_object_mut(), read.get("correlation_id")) {
            handed.insert("correlation_id".to_owned(), id.clone());
        }
        Ok(handed)
    }

    /// Sends a state-changing call as the signed-in operator, signing in (again, once, when
    /// the session ended on the stack clock) as needed.
    async fn as_operator(
        &self,
        method: &str,
        path: &str,
        body: &str,
        what: &str,
    ) -> Result<HttpAnswer, DeskError> {
        let session = self.session(false).await?;
        let answer = self.request(method, path, Some(&session), body).await?;
        if answer.status != 401 {
            return Ok(answer);
        }
        let session = self.session(true).await?;
        let answer = self.request(method, path, Some(&session), body).await?;
        match answer.status {
            401 => Err(self.refused(what, &answer)),
            _ => Ok(answer),
        }
    }

    /// Returns the operator's session: kept, or a new one (`renew`, or none kept yet) from
    /// `/login` and the CSRF token `GET /api/desk` gives it.
    async fn session(&self, renew: bool) -> Result<Session, DeskError> {
        let mut kept = self.session.lock().await;
        if !renew && let Some(session) = kept.as_ref() {
            return Ok(session.clone());
        }
        *kept = None;
        let refusal = self.refused.lock().ok().and_then(|refused| refused.clone());
        if let Some((status, reason)) = refusal {
            return Err(DeskError::SignIn {
                url: self.url.clone(),
                login: self.login.clone(),
                status,
                reason,
            });
        }
        let body = form(&[
            ("login", &self.login),
            ("password", &self.password),
            ("next", "/desk"),
        ]);
        let signed_in = self
            .http
            .send(
                "POST",
                "/login",
                &[("content-type", "application/x-www-form-urlencoded")],
                &body,
            )
            .await
            .map_err(|err| self.unreachable(err))?;
        let refused = |reason: String| {
            if matches!(signed_in.status, 401 | 429)
                && let Ok(mut refused) = self.refused.lock()
            {
                *refused = Some((signed_in.status, reason.clone()));
            }
            DeskError::SignIn {
                url: self.url.clone(),
                login: self.login.clone(),
                status: signed_in.status,
                reason,
            }
        };
        let cookie = match signed_in.status {
            302 | 303 => session_cookie(&signed_in, SESSION_COOKIE)
                .ok_or_else(|| refused(format!("the answer set no {SESSION_COOKIE} cookie")))?,
            401 => {
                return Err(refused(
                    "wrong login or password (the operator's account is made with \
                     `egov-con accounts add <login> --role operator`)"
                        .to_owned(),
                ));
            }
            _ => return Err(refused(page_error(&signed_in.body))),
        };
        let mut session = Session {
            cookie,
            csrf: String::new(),
        };
        let desk = self.request("GET", "/api/desk", Some(&session), "").await?;
        let desk = self.expect_json(&desk, &[200], "the signed-in operator's desk")?;
        session.csrf = desk
            .get("csrf")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| DeskError::BadAnswer {
                what: "the signed-in operator's desk".to_owned(),
                reason: "it gave the session no CSRF token".to_owned(),
            })?
            .to_owned();
        *kept = Some(session.clone());
        Ok(session)
    }

    /// Sends one request with JSON `body` (if not empty), as `session` when given.
    async fn request(
        &self,
        method: &str,
        path: &str,
        session: Option<&Session>,
        body: &str,
    ) -> Result<HttpAnswer, DeskError> {
        let cookie = session.map(|session| format!("{SESSION_COOKIE}={}", session.cookie));
        let mut headers = vec![("accept", "application/json")];
        if let Some(session) = session {
            headers.push((CSRF_HEADER, session.csrf.as_str()));
        }
        if let Some(cookie) = &cookie {
            headers.push(("cookie", cookie.as_str()));
        }
        if !body.is_empty() {
            headers.push(("content-type", "application/json"));
        }
        self.http
            .send(method, path, &headers, body)
            .await
            .map_err(|err| self.unreachable(err))
    }

    /// Reads a JSON answer with one of the `statuses`, else the desk's refusal.
    fn expect_json(
        &self,
        answer: &HttpAnswer,
        statuses: &[u16],
        what: &str,
    ) -> Result<serde_json::Value, DeskError> {
        if !statuses.contains(&answer.status) {
            return Err(self.refused(what, answer));
        }
        serde_json::from_str(&answer.body).map_err(|err| DeskError::BadAnswer {
            what: what.to_owned(),
            reason: err.to_string(),
        })
    }

    /// The desk's refusal of `what`: its JSON message, else its page's error.
    fn refused(&self, what: &str, answer: &HttpAnswer) -> DeskError {
        let reason = serde_json::from_str::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|body| body.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| page_error(&answer.body));
        DeskError::Refused {
            url: self.url.clone(),
            what: what.to_owned(),
            status: answer.status,
            reason,
        }
    }

    fn unreachable(&self, error: HttpError) -> DeskError {
        let reason = match error {
            HttpError::Unreachable { reason, .. } | HttpError::BadRequest { reason, .. } => reason,
        };
        DeskError::Unreachable {
            url: self.url.clone(),
            reason,
        }
    }
}

/// Returns a ticket id as one path segment: the desk's ids are `YYYYMMDD-NNN`; anything else
/// is percent-encoded rather than trusted into the path.
fn form_path_segment(id: &str) -> String {
    id.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

impl StateCorporationDesk for DeskClient {
    fn file<'a>(
        &'a self,
        form: &'a DeskForm,
    ) -> Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>> {
        Box::pin(async move {
            let outcome = self.file_form(form).await.map_err(|err| err.to_string())?;
            self.table_of(&outcome, "a filing")
        })
    }

    fn result<'a>(
        &'a self,
        filing: &'a str,
        hand_over: bool,
    ) -> Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>> {
        Box::pin(async move {
            let read = self
                .read_result(filing, hand_over)
                .await
                .map_err(|err| err.to_string())?;
            self.table_of(&read, "a result read")
        })
    }
}

impl DeskClient {
    /// The desk's JSON answer to `what` as a table to compare.
    fn table_of(&self, answer: &serde_json::Value, what: &str) -> Result<toml::Table, String> {
        match toml_of(answer) {
            Some(toml::Value::Table(table)) => Ok(table),
            _ => Err(format!(
                "the State Corporation desk at {} answered {what} with {answer}, not an object",
                self.url
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_url_is_http_host_and_port() {
        assert!(DeskClient::new("http://127.0.0.1:7191/", "madina", "pw").is_ok());
        for bad in [
            "127.0.0.1:7191",
            "https://con.egov.kz",
            "http://",
            "http://h/desk",
        ] {
            assert!(
                matches!(
                    DeskClient::new(bad, "madina", "pw"),
                    Err(DeskError::BadUrl(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_ticket_id_stays_one_path_segment() {
        assert_eq!(form_path_segment("20261207-001"), "20261207-001");
        assert_eq!(form_path_segment("../journal?x"), "%2E%2E%2Fjournal%3Fx");
    }
}
