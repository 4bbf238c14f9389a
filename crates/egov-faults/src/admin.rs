//! A client of the gateway's fault admin API (`/admin/faults`, an administrator's bearer
//! token): what `egov fault` and the scenario runner use to set, list and clear faults.

use egov_http::{Answer, HttpClient, HttpError};

use crate::{Fault, FaultError};

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
    http: HttpClient,
    token: String,
}

impl FaultAdmin {
    /// Talks to the gateway's HTTP port `addr` (`host:port`, an `http://` prefix is dropped)
    /// with the administrator's bearer `token`.
    pub fn new(addr: &str, token: &str) -> FaultAdmin {
        FaultAdmin {
            http: HttpClient::new(addr.trim_start_matches("http://").trim_end_matches('/')),
            token: token.to_owned(),
        }
    }

    /// Returns the gateway's HTTP address.
    pub fn addr(&self) -> &str {
        self.http.addr()
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

    /// Sends one request to the gateway's admin port and reads the answer.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Answer, AdminError> {
        let authorization = format!("Bearer {}", self.token);
        let headers = [
            ("authorization", authorization.as_str()),
            ("content-type", "application/json"),
        ];
        self.http
            .send(method, path, &headers, body.unwrap_or(""))
            .await
            .map_err(|error| match error {
                HttpError::Unreachable { addr, reason } => AdminError::Unreachable { addr, reason },
                HttpError::BadRequest { reason, .. } => AdminError::BadAnswer(reason),
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
