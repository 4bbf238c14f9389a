//! A client of the gateway's fault admin API (`/admin/faults`, an administrator's bearer
//! token): what `egov fault` and the scenario runner use to set, list and clear faults.

use crate::{Fault, FaultError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Why the gateway's fault admin API did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The gateway's HTTP port could not be reached or stopped answering.
    #[error("cannot reach the gateway's HTTP port at {addr}: {reason}")]
    Unreachable {
        /// The address tried.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The gateway answered with an error status.
    #[error("the gateway answered {status}: {reason}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The gateway's reason (its JSON `error`, else the body).
        reason: String,
    },
    /// The gateway's answer could not be read.
    #[error("the gateway's answer could not be read: {0}")]
    BadAnswer(String),
    /// The fault is not valid; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] FaultError),
}

/// The gateway's fault admin API at an HTTP address, as an administrator.
#[derive(Debug, Clone)]
pub struct FaultAdmin {
    addr: String,
    token: String,
}

/// An HTTP answer: its status and body.
struct Answer {
    status: u16,
    body: String,
}

impl FaultAdmin {
    /// Talks to the gateway's HTTP port `addr` (`host:port`, an `http://` prefix is dropped)
    /// with the administrator's bearer `token`.
    pub fn new(addr: &str, token: &str) -> FaultAdmin {
        FaultAdmin {
            addr: addr
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            token: token.to_owned(),
        }
    }

    /// Returns the gateway's HTTP address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sets a fault (checked first); returns it as the gateway set it, with its id.
    pub async fn add(&self, fault: &Fault) -> Result<Fault, AdminError> {
        fault.check()?;
        let body =
            serde_json::to_string(fault).map_err(|err| AdminError::BadAnswer(err.to_string()))?;
        let answer = self.request("POST", "/admin/faults", Some(&body)).await?;
        expect(&answer, 201)?;
        Fault::from_json(answer.body.as_bytes()).map_err(|err| {
            AdminError::BadAnswer(format!("the fault set does not read back: {err}"))
        })
    }

    /// Lists the faults in force.
    pub async fn list(&self) -> Result<Vec<Fault>, AdminError> {
        let answer = self.request("GET", "/admin/faults", None).await?;
        expect(&answer, 200)?;
        serde_json::from_str(&answer.body)
            .map_err(|err| AdminError::BadAnswer(format!("not a list of faults: {err}")))
    }

    /// Clears one fault; returns whether it was in force (a spent fault is gone already).
    pub async fn remove(&self, id: &str) -> Result<bool, AdminError> {
        if !crate::is_valid_id(id) {
            return Err(FaultError {
                field: "id".into(),
                reason: format!("{id:?} is not a fault id (1 to 64 of A-Z a-z 0-9 - _)"),
            }
            .into());
        }
        let answer = self
            .request("DELETE", &format!("/admin/faults/{id}"), None)
            .await?;
        if answer.status == 404 {
            return Ok(false);
        }
        expect(&answer, 204)?;
        Ok(true)
    }

    /// Clears every fault; returns how many were cleared.
    pub async fn clear(&self) -> Result<u64, AdminError> {
        let answer = self.request("DELETE", "/admin/faults", None).await?;
        expect(&answer, 200)?;
        serde_json::from_str::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|body| body["cleared"].as_u64())
            .ok_or_else(|| AdminError::BadAnswer(format!("no `cleared` in {}", answer.body)))
    }

    /// Sends one HTTP/1.1 request to the gateway's admin port and reads the answer.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Answer, AdminError> {
        let unreachable = |err: std::io::Error| AdminError::Unreachable {
            addr: self.addr.clone(),
            reason: err.to_string(),
        };
        let mut stream = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(unreachable)?;
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(unreachable)?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(unreachable)?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| AdminError::BadAnswer("no end of headers".into()))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| AdminError::BadAnswer("no status code".into()))?;
        Ok(Answer {
            status,
            body: body.to_owned(),
        })
    }
}

/// Returns the gateway's refusal unless the answer has the `want`ed status.
fn expect(answer: &Answer, want: u16) -> Result<(), AdminError> {
    if answer.status == want {
        return Ok(());
    }
    let reason = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| body["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| answer.body.trim().to_owned());
    Err(AdminError::Refused {
        status: answer.status,
        reason,
    })
}
