//! egov-http: one small HTTP/1.1 client for the stack's own HTTP APIs, as tools and scenario
//! runs call them: the gateway's admin routes (`egov fault …`), the portal's pages and its
//! cabinet as JSON. hyper's client does the protocol (chunked bodies, keep-alive); this crate
//! sends one request to a `host:port` and reads the whole answer.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The server could not be reached or broke off.
    #[error("{addr} cannot be reached: {reason}")]
    Unreachable {
        /// The `host:port` asked.
        addr: String,
        /// What failed.
        reason: String,
    },
    /// The request could not be built from what was given.
    #[error("bad request to {addr}: {reason}")]
    BadRequest {
        /// The `host:port` asked.
        addr: String,
        /// What was wrong.
        reason: String,
    },
}

/// A whole HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The header lines, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

impl Answer {
    /// Returns the values of the header `name` (lowercase).
    pub fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A client of one server, `host:port`.
#[derive(Debug, Clone)]
pub struct HttpClient {
    addr: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    /// A client of the server at `addr` (`host:port`).
    pub fn new(addr: &str) -> HttpClient {
        HttpClient {
            addr: addr.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Returns the `host:port` it calls.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends `method path` with the `headers` and `body`, and reads the whole answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Answer, HttpError> {
        let bad = |reason: String| HttpError::BadRequest {
            addr: self.addr.clone(),
            reason,
        };
        let unreachable = |reason: String| HttpError::Unreachable {
            addr: self.addr.clone(),
            reason,
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|err| bad(err.to_string()))?;
        let answer = self
            .client
            .request(request)
            .await
            .map_err(|err| unreachable(error_chain(&err)))?;
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|err| unreachable(err.to_string()))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// Returns an error with its causes, as `connect: Connection refused`.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_carries_its_status_headers_and_whole_body() {
        let app = axum::Router::new().route(
            "/echo",
            axum::routing::post(|body: String| async move {
                (
                    axum::http::StatusCode::CREATED,
                    [("set-cookie", "session=abc; HttpOnly")],
                    format!("got {body}"),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let answer = HttpClient::new(&addr)
            .send("POST", "/echo", &[("content-type", "text/plain")], "hello")
            .await
            .expect("answered");
        assert_eq!(answer.status, 201);
        assert_eq!(answer.body, "got hello");
        assert_eq!(
            answer.header("set-cookie").collect::<Vec<_>>(),
            ["session=abc; HttpOnly"]
        );
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_named_as_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let error = HttpClient::new(&addr)
            .send("GET", "/", &[], "")
            .await
            .expect_err("nobody listens");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{addr} cannot be reached")),
            "{error}"
        );
    }
}
