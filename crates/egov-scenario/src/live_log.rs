//! A running gateway's message log over gRPC (`egov.v1.GatewayLog`), asked as an operator
//! with a bearer token: one exchange for `egov record export`, the newest hops before and
//! after a scenario for its diagram (`egov scenario run`), one exchange drawn for
//! `egov diagram`.

use egov_gateway::message_log::LogRecord;
use egov_proto::v1::gateway_log_client::GatewayLogClient;
use egov_proto::v1::get_messages_request::Key;
use egov_proto::v1::{GetDiagramRequest, GetMessagesRequest, LoggedMessage};
use tonic::transport::Channel;

use crate::operator_endpoint::{EndpointError, OperatorEndpoint};

/// How many of the newest hops [`LiveLog::recent`] reads: a scenario causes a few dozen, so
/// rows it caused stay in the window unless the stack carries much other traffic meanwhile.
pub const LIVE_WINDOW: u32 = egov_gateway::log_service::MAX_RECENT;

/// Why the gateway's log could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveLogError {
    /// The gateway's URL does not read.
    #[error("the gateway's URL {url:?} does not read: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The operator's token cannot go in a header.
    #[error("the operator's token is not a header value")]
    BadToken,
    /// The gateway could not be reached.
    #[error("the gateway at {url} cannot be reached: {reason}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The gateway refused the call.
    #[error("the gateway at {url} did not answer its log: {code:?}: {message}")]
    Refused {
        /// Its URL.
        url: String,
        /// The gRPC code.
        code: tonic::Code,
        /// The gateway's message.
        message: String,
    },
}

/// The log of the gateway at one URL, asked with one operator's token.
#[derive(Debug, Clone)]
pub struct LiveLog(OperatorEndpoint);

impl LiveLog {
    /// A reader of the log of the gateway at `url` (its gRPC endpoint) with `token`; nothing
    /// is asked until the first call.
    pub fn new(url: &str, token: &str) -> Result<LiveLog, LiveLogError> {
        OperatorEndpoint::new(url, token)
            .map(LiveLog)
            .map_err(|err| match err {
                EndpointError::BadUrl(reason) => LiveLogError::BadUrl {
                    url: url.to_owned(),
                    reason,
                },
                EndpointError::BadToken => LiveLogError::BadToken,
            })
    }

    /// Returns the gateway's URL.
    pub fn url(&self) -> &str {
        self.0.url()
    }

    /// Returns the hops `key` names, oldest first, as the gateway answers them.
    pub async fn messages(&self, key: Key) -> Result<Vec<LoggedMessage>, LiveLogError> {
        let request = self.0.request(GetMessagesRequest { key: Some(key) });
        let answer = self
            .client()
            .await?
            .get_messages(request)
            .await
            .map_err(|status| self.refused(&status))?;
        Ok(answer.into_inner().messages)
    }

    /// Returns the newest [`LIVE_WINDOW`] hops, oldest first, as the log keeps them.
    pub async fn recent(&self) -> Result<Vec<LogRecord>, LiveLogError> {
        Ok(self
            .messages(Key::Recent(LIVE_WINDOW))
            .await?
            .into_iter()
            .filter_map(egov_gateway::log_service::from_proto)
            .collect())
    }

    /// Returns the newest hops once the log has settled (see [`crate::diagram::settled`]).
    pub async fn settled(&self) -> Result<Vec<LogRecord>, LiveLogError> {
        crate::diagram::settled(async || self.recent().await).await
    }

    /// Returns one exchange drawn by the gateway as a Mermaid sequence diagram.
    pub async fn diagram(&self, correlation_id: &str) -> Result<String, LiveLogError> {
        let request = self.0.request(GetDiagramRequest {
            correlation_id: correlation_id.to_owned(),
        });
        let answer = self
            .client()
            .await?
            .get_diagram(request)
            .await
            .map_err(|status| self.refused(&status))?;
        Ok(answer.into_inner().mermaid)
    }

    async fn client(&self) -> Result<GatewayLogClient<Channel>, LiveLogError> {
        let channel = self
            .0
            .connect()
            .await
            .map_err(|err| LiveLogError::Unreachable {
                url: self.url().to_owned(),
                reason: err.to_string(),
            })?;
        Ok(GatewayLogClient::new(channel))
    }

    fn refused(&self, status: &tonic::Status) -> LiveLogError {
        LiveLogError::Refused {
            url: self.url().to_owned(),
            code: status.code(),
            message: status.message().to_owned(),
        }
    }
}
