//! A client of the clock authority (`egov.v1.StackClock`): reads the stack's time and moves
//! it as an operator. `egov clock` and the scenario runner's clock steps both use it.

use egov_core::clock::Step;
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_proto::v1::stack_clock_client::StackClockClient;
use egov_proto::v1::{AdvanceRequest, ClockState, GetTimeRequest, SetTimeRequest};
use time::OffsetDateTime;
use tonic::transport::Channel;

/// Why the clock authority did not read or move the stack's time.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityClientError {
    /// The endpoint is not a URL.
    #[error("{endpoint:?} is not a clock authority URL: {reason}")]
    BadEndpoint {
        /// The endpoint given.
        endpoint: String,
        /// Why it is not one.
        reason: String,
    },
    /// Nothing answers at the endpoint: the stack runs without a clock authority.
    #[error(
        "no clock authority answers at {endpoint} (is the stack up with `--clock virtual`?): {reason}"
    )]
    Unreachable {
        /// The endpoint tried.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// The operator token holds characters a header cannot carry.
    #[error("the operator token holds characters a header cannot carry")]
    BadToken,
    /// The authority refused (no or a wrong token, a step backwards, a year without calendar).
    #[error("the clock authority refused: {0}")]
    Refused(String),
    /// The authority answered a state without a time.
    #[error("the clock authority answered no time")]
    NoTime,
}

/// The clock authority at a gRPC endpoint, with the operator's bearer token for moves.
#[derive(Debug, Clone)]
pub struct ClockAuthority {
    endpoint: String,
    token: Option<String>,
    client: StackClockClient<Channel>,
}

impl ClockAuthority {
    /// Connects to the authority at `endpoint` (e.g. `http://127.0.0.1:7200`); `token` is
    /// needed to move the clock, not to read it.
    pub async fn connect(
        endpoint: &str,
        token: Option<String>,
    ) -> Result<ClockAuthority, AuthorityClientError> {
        let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
            .map_err(|err| AuthorityClientError::BadEndpoint {
                endpoint: endpoint.to_owned(),
                reason: err.to_string(),
            })?
            .connect()
            .await
            .map_err(|err| AuthorityClientError::Unreachable {
                endpoint: endpoint.to_owned(),
                reason: err.to_string(),
            })?;
        Ok(ClockAuthority {
            endpoint: endpoint.to_owned(),
            token,
            client: StackClockClient::new(channel),
        })
    }

    /// Returns the endpoint it talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Returns the stack's time and the processes following it.
    pub async fn show(&self) -> Result<ClockState, AuthorityClientError> {
        let answer = self.client.clone().get_time(GetTimeRequest {}).await;
        self.state(answer)
    }

    /// Moves the stack's time forward by `step`, timers falling due firing in order.
    pub async fn advance(&self, step: Step) -> Result<ClockState, AuthorityClientError> {
        let request = self.authorized(AdvanceRequest {
            step: step.to_string(),
        })?;
        let answer = self.client.clone().advance(request).await;
        self.state(answer)
    }

    /// Moves the stack's time forward to `to` (never backwards).
    pub async fn set(&self, to: OffsetDateTime) -> Result<ClockState, AuthorityClientError> {
        let request = self.authorized(SetTimeRequest {
            to: Some(to_timestamp(to)),
        })?;
        let answer = self.client.clone().set_time(request).await;
        self.state(answer)
    }

    /// Wraps `message` with the `authorization: Bearer` metadata, when there is a token.
    fn authorized<T>(&self, message: T) -> Result<tonic::Request<T>, AuthorityClientError> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| AuthorityClientError::BadToken)?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    /// Reads an answer; a refusal keeps the authority's reason.
    fn state(
        &self,
        answer: Result<tonic::Response<ClockState>, tonic::Status>,
    ) -> Result<ClockState, AuthorityClientError> {
        answer
            .map(tonic::Response::into_inner)
            .map_err(|status| AuthorityClientError::Refused(status.message().to_owned()))
    }
}

/// Returns the stack's time in a state the authority answered.
pub fn now_of(state: &ClockState) -> Result<OffsetDateTime, AuthorityClientError> {
    state
        .now
        .as_ref()
        .and_then(from_timestamp)
        .ok_or(AuthorityClientError::NoTime)
}
