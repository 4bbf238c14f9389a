//! The `egov.v1.StackClock` gRPC service over the [`Authority`].

use std::sync::Arc;

use egov_bus::clock::ClockError;
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_proto::v1::stack_clock_server::{StackClock, StackClockServer};
use egov_proto::v1::{AdvanceRequest, ClockState, Follower, GetTimeRequest, SetTimeRequest};
use tonic::{Request, Response, Status};

use crate::authority::{Authority, AuthorityError, Moved};

/// The gRPC face of the clock authority.
#[derive(Debug, Clone)]
pub struct ClockService {
    authority: Arc<Authority>,
}

impl ClockService {
    /// Wraps the authority.
    pub fn new(authority: Arc<Authority>) -> Self {
        Self { authority }
    }

    /// Returns the tonic server.
    pub fn into_server(self) -> StackClockServer<Self> {
        StackClockServer::new(self)
    }

    /// Builds the answer after a move.
    fn state(&self, moved: &Moved) -> ClockState {
        let followers = self
            .authority
            .followers()
            .into_iter()
            .map(|(key, report)| Follower {
                key,
                seen: Some(to_timestamp(report.seen)),
                next_deadline: report.next.map(to_timestamp),
            })
            .collect();
        ClockState {
            now: Some(to_timestamp(moved.now)),
            from: Some(to_timestamp(moved.from)),
            stops: moved.stops,
            followers,
        }
    }

    /// Checks the caller's bearer token.
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        self.authority.authorize(header).map_err(to_status)
    }
}

/// Maps an authority error to a gRPC status.
pub fn to_status(error: AuthorityError) -> Status {
    let message = error.to_string();
    match error {
        AuthorityError::Unauthorized(_) => Status::unauthenticated(message),
        AuthorityError::Step(_) => Status::invalid_argument(message),
        AuthorityError::Clock(ClockError::Backwards { .. }) => Status::failed_precondition(message),
        AuthorityError::Clock(ClockError::Contended { .. }) => Status::aborted(message),
        AuthorityError::Clock(_) => Status::unavailable(message),
    }
}

#[tonic::async_trait]
impl StackClock for ClockService {
    async fn get_time(
        &self,
        _request: Request<GetTimeRequest>,
    ) -> Result<Response<ClockState>, Status> {
        let now = self
            .authority
            .now()
            .await
            .map_err(|e| to_status(e.into()))?;
        Ok(Response::new(self.state(&Moved {
            from: now,
            now,
            stops: 0,
        })))
    }

    async fn advance(
        &self,
        request: Request<AdvanceRequest>,
    ) -> Result<Response<ClockState>, Status> {
        self.authorize(&request)?;
        let step = request
            .get_ref()
            .step
            .parse()
            .map_err(|e| to_status(AuthorityError::Step(e)))?;
        let moved = self.authority.advance(step).await.map_err(to_status)?;
        Ok(Response::new(self.state(&moved)))
    }

    async fn set_time(
        &self,
        request: Request<SetTimeRequest>,
    ) -> Result<Response<ClockState>, Status> {
        self.authorize(&request)?;
        let to = request
            .get_ref()
            .to
            .as_ref()
            .and_then(from_timestamp)
            .ok_or_else(|| Status::invalid_argument("`to` is missing or out of range"))?;
        let moved = self.authority.set(to).await.map_err(to_status)?;
        Ok(Response::new(self.state(&moved)))
    }
}
