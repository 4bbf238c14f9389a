//! The portal as a citizen uses it over HTTP, for `cabinet` steps: sign in with the IIN and a
//! password (registering first, as a person does, when the portal does not know the IIN), then
//! read the personal cabinet as JSON (`GET /api/cabinet`). One session per citizen is kept for
//! the whole run.

use std::collections::HashMap;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::Mutex;

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

/// One HTTP answer: its status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

/// A citizen's side of the portal: signs in (registering when needed) and reads cabinets.
#[derive(Debug)]
pub struct PortalClient {
    addr: String,
    password: String,
    sessions: Mutex<HashMap<String, String>>,
}

impl PortalClient {
    /// Creates a client of the portal at `url` (`http://host:port`), signing every citizen in
    /// with `password`.
    pub fn new(url: &str, password: &str) -> Result<PortalClient, PortalError> {
        let addr = url
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|addr| !addr.is_empty() && !addr.contains('/'))
            .ok_or_else(|| PortalError::BadUrl(url.to_owned()))?;
        Ok(PortalClient {
            addr: addr.to_owned(),
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
            303 | 302 => session_cookie(&answer).map(Some).ok_or_else(|| {
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

    /// Sends one HTTP/1.1 request (a form body, when given) and reads the whole answer.
    async fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<&str>,
    ) -> Result<HttpAnswer, PortalError> {
        let unreachable = |err: std::io::Error| PortalError::Unreachable {
            addr: self.addr.clone(),
            reason: err.to_string(),
        };
        let mut stream = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(unreachable)?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(cookie) = cookie {
            head.push_str(&format!("Cookie: {SESSION_COOKIE}={cookie}\r\n"));
        }
        let body = body.unwrap_or("");
        if method != "GET" {
            head.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(unreachable)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(unreachable)?;
        parse_answer(&raw)
    }
}

/// Encodes form fields as `application/x-www-form-urlencoded`.
fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap_or_default()
}

/// Returns the session id the answer sets.
fn session_cookie(answer: &HttpAnswer) -> Option<String> {
    answer
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .filter_map(|(_, value)| value.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Returns the error a portal page shows (`class="error"`), else the start of the page.
fn page_error(body: &str) -> String {
    let shown = regex::Regex::new(r#"class="(?:error|refusal)"[^>]*>([^<]+)<"#)
        .ok()
        .and_then(|pattern| pattern.captures(body))
        .and_then(|found| found.get(1))
        .map(|text| text.as_str().trim().to_owned());
    shown.unwrap_or_else(|| body.chars().take(200).collect())
}

/// Reads an HTTP/1.1 answer (a plain or chunked body).
fn parse_answer(raw: &[u8]) -> Result<HttpAnswer, PortalError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| PortalError::BadAnswer("no end of headers".into()))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| PortalError::BadAnswer("no status code".into()))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(HttpAnswer {
        status,
        headers,
        body,
    })
}

/// Joins the chunks of a chunked body.
fn dechunk(mut rest: &str) -> Result<String, PortalError> {
    let mut body = String::new();
    loop {
        let (size, after) = rest
            .split_once("\r\n")
            .ok_or_else(|| PortalError::BadAnswer("a chunk without its size".into()))?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|err| PortalError::BadAnswer(format!("chunk size: {err}")))?;
        if size == 0 {
            return Ok(body);
        }
        let chunk = after
            .get(..size)
            .ok_or_else(|| PortalError::BadAnswer("a chunk shorter than its size".into()))?;
        body.push_str(chunk);
        rest = after.get(size..).unwrap_or("").trim_start_matches("\r\n");
    }
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
    fn an_answer_reads_its_status_cookie_and_chunked_body() {
        let raw = b"HTTP/1.1 303 See Other\r\nSet-Cookie: egov-portal-session=abc; Path=/; HttpOnly\r\n\
                    Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n1\r\n1\r\n1\r\n}\r\n0\r\n\r\n";
        let answer = parse_answer(raw).expect("reads");
        assert_eq!(answer.status, 303);
        assert_eq!(session_cookie(&answer).as_deref(), Some("abc"));
        assert_eq!(answer.body, "{\"a\":1}");
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
