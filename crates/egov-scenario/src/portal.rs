//! The portal as a citizen uses it over HTTP, for `cabinet` steps: sign in with the IIN and a
//! password (registering first, as a person does, when the portal does not know the IIN), then
//! read the personal cabinet as JSON (`GET /api/cabinet`). One session per citizen is kept for
//! the whole run.

use std::collections::HashMap;

use egov_http::{HttpClient, HttpError};
use tokio::sync::Mutex;

/// One HTTP answer of the portal: its status, headers (lower-case names) and body.
pub use egov_http::Answer as HttpAnswer;

/// The portal's path of the cabinet as JSON.
pub const CABINET_PATH: &str = "/api/cabinet";

/// The password cabinet steps sign citizens in with unless the runner is given another: the
/// citizens of a test stack, registered by the runner itself.
pub const DEFAULT_CITIZEN_PASSWORD: &str = "scenario-citizen-2026";

/// The name of the portal's session cookie (egov-signin's `egov-<app>-session`).
const SESSION_COOKIE: &str = "egov-portal-session";

/// Why the portal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// The portal's URL is not `http://host:port`.
    #[error("portal URL {0:?} is not http://host:port")]
    BadUrl(String),
    /// The portal could not be reached.
    #[error("portal at {addr} unreachable: {reason}")]
    Unreachable {
        /// Its address.
        addr: String,
        /// The I/O error.
        reason: String,
    },
    /// The portal answered with an unexpected HTTP status.
    #[error("the portal refused {what} with HTTP {status}: {reason}")]
    Refused {
        /// What was asked, e.g. `to register IIN 950703300125`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// What the portal said.
        reason: String,
    },
    /// The portal's answer could not be read.
    #[error("the portal's answer could not be read: {0}")]
    BadAnswer(String),
}

/// A citizen's side of the portal: signs in (registering when needed) and reads cabinets.
#[derive(Debug)]
pub struct PortalClient {
    http: HttpClient,
    password: String,
    sessions: Mutex<HashMap<String, String>>,
}

impl PortalClient {
    /// Creates a client of the portal at `url` (`http://host:port`), signing every citizen in
    /// with `password`.
    pub fn new(url: &str, password: &str) -> Result<PortalClient, PortalError> {
        let addr = host_and_port(url).ok_or_else(|| PortalError::BadUrl(url.to_owned()))?;
        Ok(PortalClient {
            http: HttpClient::new(addr),
            password: password.to_owned(),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Returns the cabinet of `iin` as the portal answers it (notifications about `number`
    /// only, when given), signing in first when this client has no live session for them.
    pub async fn cabinet(
        &self,
        iin: &str,
        number: Option<&str>,
    ) -> Result<serde_json::Value, PortalError> {
        let cookie = self.session(iin).await?;
        let mut answer = self.read_cabinet(Some(&cookie), number).await?;
        if answer.status == 401 {
            // The session ended (its idle or absolute time passed on the stack clock): sign
            // in again, as a person does.
            self.sessions.lock().await.remove(iin);
            let cookie = self.session(iin).await?;
            answer = self.read_cabinet(Some(&cookie), number).await?;
        }
        if answer.status != 200 {
            return Err(PortalError::Refused {
                what: format!("the cabinet of {iin}"),
                status: answer.status,
                reason: answer.body.trim().to_owned(),
            });
        }
        serde_json::from_str(&answer.body).map_err(|err| PortalError::BadAnswer(err.to_string()))
    }

    /// Asks for the cabinet with the session `cookie` (or none), answering as the portal did.
    pub async fn read_cabinet(
        &self,
        cookie: Option<&str>,
        number: Option<&str>,
    ) -> Result<HttpAnswer, PortalError> {
        let path = match number {
            Some(number) => format!("{CABINET_PATH}?{}", form(&[("number", number)])),
            None => CABINET_PATH.to_owned(),
        };
        self.request("GET", &path, cookie, None).await
    }

    /// Returns the session cookie of `iin`: kept, or made by signing in, registering the IIN
    /// with the password first when the portal does not know it.
    pub async fn session(&self, iin: &str) -> Result<String, PortalError> {
        let mut sessions = self.sessions.lock().await;
        if let Some(cookie) = sessions.get(iin) {
            return Ok(cookie.clone());
        }
        let cookie = match self.sign_in(iin).await? {
            Some(cookie) => cookie,
            None => {
                self.register(iin).await?;
                self.sign_in(iin)
                    .await?
                    .ok_or_else(|| PortalError::Refused {
                        what: format!("to sign in {iin} just registered"),
                        status: 401,
                        reason: "wrong credentials".into(),
                    })?
            }
        };
        sessions.insert(iin.to_owned(), cookie.clone());
        Ok(cookie)
    }

    /// Signs in on `/login`; returns the session cookie, or `None` for wrong credentials.
    async fn sign_in(&self, iin: &str) -> Result<Option<String>, PortalError> {
        let body = form(&[
            ("login", iin),
            ("password", &self.password),
            ("next", "/cabinet"),
        ]);
        let answer = self.request("POST", "/login", None, Some(&body)).await?;
        match answer.status {
            303 | 302 => session_cookie(&answer, SESSION_COOKIE)
                .map(Some)
                .ok_or_else(|| {
                    PortalError::BadAnswer(format!("signing in {iin} set no {SESSION_COOKIE}"))
                }),
            401 => Ok(None),
            status => Err(PortalError::Refused {
                what: format!("to sign in {iin}"),
                status,
                reason: page_error(&answer.body),
            }),
        }
    }

    /// Registers `iin` on `/register` with the password, as the registration form does.
    async fn register(&self, iin: &str) -> Result<(), PortalError> {
        let body = form(&[
            ("lang", "en"),
            ("iin", iin),
            ("password", &self.password),
            ("password2", &self.password),
        ]);
        let answer = self.request("POST", "/register", None, Some(&body)).await?;
        match answer.status {
            303 | 302 => Ok(()),
            status => Err(PortalError::Refused {
                what: format!("to register IIN {iin}"),
                status,
                reason: page_error(&answer.body),
            }),
        }
    }

    /// Sends one request (a form body, when given) and reads the whole answer.
    async fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<&str>,
    ) -> Result<HttpAnswer, PortalError> {
        let cookie = cookie.map(|cookie| format!("{SESSION_COOKIE}={cookie}"));
        let mut headers = vec![("accept", "application/json")];
        if let Some(cookie) = &cookie {
            headers.push(("cookie", cookie.as_str()));
        }
        if method != "GET" {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        self.http
            .send(method, path, &headers, body.unwrap_or(""))
            .await
            .map_err(|error| match error {
                HttpError::Unreachable { addr, reason } => {
                    PortalError::Unreachable { addr, reason }
                }
                HttpError::BadRequest { reason, .. } => PortalError::BadAnswer(reason),
            })
    }
}

/// Returns the `host:port` of an `http://host:port` URL (a trailing `/` allowed), the only
/// form the stack's own web apps are given in.
pub(crate) fn host_and_port(url: &str) -> Option<&str> {
    url.strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|addr| !addr.is_empty() && !addr.contains('/'))
}

/// Encodes form fields as `application/x-www-form-urlencoded`.
pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap_or_default()
}

/// Returns the session id the answer sets in the cookie `cookie` (egov-signin's
/// `egov-<app>-session`).
pub(crate) fn session_cookie(answer: &HttpAnswer, cookie: &str) -> Option<String> {
    answer
        .header("set-cookie")
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == cookie && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Returns the error a page shows (`class="error"` or `"refusal"`), else the start of the page.
pub(crate) fn page_error(body: &str) -> String {
    let shown = regex::Regex::new(r#"class="(?:error|refusal)"[^>]*>([^<]+)<"#)
        .ok()
        .and_then(|pattern| pattern.captures(body))
        .and_then(|found| found.get(1))
        .map(|text| text.as_str().trim().to_owned());
    shown.unwrap_or_else(|| body.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portal_url_is_http_host_and_port() {
        assert!(PortalClient::new("http://127.0.0.1:7181/", "pw").is_ok());
        for bad in ["127.0.0.1:7181", "https://egov.kz", "http://", "http://h/x"] {
            assert!(
                matches!(PortalClient::new(bad, "pw"), Err(PortalError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_session_is_the_portal_cookie_an_answer_sets() {
        let answer = HttpAnswer {
            status: 303,
            headers: vec![
                ("set-cookie".into(), "lang=en; Path=/".into()),
                (
                    "set-cookie".into(),
                    "egov-portal-session=abc; Path=/; HttpOnly".into(),
                ),
            ],
            body: String::new(),
        };
        assert_eq!(
            session_cookie(&answer, SESSION_COOKIE).as_deref(),
            Some("abc")
        );
    }

    #[test]
    fn a_refused_page_names_its_error() {
        let page = r#"<form><span class="error" id="error-iin">This IIN is not in the state database of individuals</span></form>"#;
        assert_eq!(
            page_error(page),
            "This IIN is not in the state database of individuals"
        );
    }
}
