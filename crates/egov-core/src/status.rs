//! Status codes in the national gateway's style: `SCSS001` for success and one
//! named code for each refusal, each mapped to a gRPC status code.
//!
//! The wire string is what `egov.v1.Status.code` carries and what the message
//! log stores; it never changes once published.

use std::fmt;
use std::str::FromStr;

/// The outcome of an exchange, as the gateway and every system report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// The exchange succeeded.
    Success,
    /// The envelope bytes do not decode, or a required header field is empty;
    /// the sender must fix its message.
    MalformedMessage,
    /// The envelope exceeds the size limit of the route; the sender must send less.
    MessageTooLarge,
    /// The message id was seen before (replay protection); the sender must use a new id.
    DuplicateMessageId,
    /// No route exists for the service id; the sender must check the catalogue id.
    UnknownService,
    /// The route exists but the sender system may not call it (deny by default).
    AccessDenied,
    /// The envelope carries no signature.
    SignatureMissing,
    /// The signature value does not verify, or its algorithm is unknown, or
    /// the header or payload was changed after signing.
    InvalidSignature,
    /// The signer's certificate is not yet valid or has expired at the message time.
    CertificateExpired,
    /// The signer's certificate was revoked by the certification centre.
    CertificateRevoked,
    /// The certificate chain does not end at a trusted root, or does not parse.
    CertificateUntrusted,
    /// The certificate is not for signing (an AUTH key) or lacks the required role.
    CertificateNotAuthorized,
    /// The IIN (or BIN) in the request differs from the one in the certificate.
    IinMismatch,
    /// The target did not answer within its route's timeout; the sender may retry.
    TargetTimeout,
    /// The target could not be reached; the sender may retry later.
    TargetUnavailable,
    /// The system of record holds no data for the key asked
    /// ("the data cannot be obtained" in the regulations).
    DataNotFound,
    /// The request was understood but its content is invalid (a bad IIN, a missing field).
    InvalidRequest,
    /// The provider refused the service on a ground of Standard item 10.
    ServiceRefused,
    /// The message id is not known to the gateway.
    UnknownMessage,
    /// An internal failure; the sender may retry, operators should look at the logs.
    Internal,
    /// The header's message time lies outside the window the gateway accepts
    /// around its own clock; the sender must sign with its current time.
    MessageTimeOutOfWindow,
    /// A message or correlation id is longer than 128 characters or holds
    /// characters other than `A-Z a-z 0-9 - _ =`.
    InvalidMessageId,
    /// The certificate chain breaks the profile: an issuer that is not a CA or
    /// may not sign certificates, a path longer than an issuer allows, or a
    /// signer whose own certificate is a CA's.
    CertificateChainInvalid,
    /// The certification centre did not answer (within the PKI timeout, or at
    /// all), so the certificate's status is unknown; the sender may retry.
    PkiUnavailable,
    /// The certification centre refused an enrolment or revocation: no credential, an
    /// unknown, used or mismatched enrolment token, or a registrar whose password failed.
    EnrolmentUnauthorized,
    /// The certification request (PKCS#10) is malformed, unsigned or for an unsupported key.
    CertificationRequestInvalid,
    /// The certification request names a different subject (BIN, IIN, role) from the one asked for.
    CertificationSubjectMismatch,
    /// A result is signed by the head of an organisation other than the one that decides its
    /// service (egov_core::providers).
    SignerNotProvider,
}

impl StatusCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [StatusCode; 28] = [
        StatusCode::Success,
        StatusCode::MalformedMessage,
        StatusCode::MessageTooLarge,
        StatusCode::DuplicateMessageId,
        StatusCode::UnknownService,
        StatusCode::AccessDenied,
        StatusCode::SignatureMissing,
        StatusCode::InvalidSignature,
        StatusCode::CertificateExpired,
        StatusCode::CertificateRevoked,
        StatusCode::CertificateUntrusted,
        StatusCode::CertificateNotAuthorized,
        StatusCode::IinMismatch,
        StatusCode::TargetTimeout,
        StatusCode::TargetUnavailable,
        StatusCode::DataNotFound,
        StatusCode::InvalidRequest,
        StatusCode::ServiceRefused,
        StatusCode::UnknownMessage,
        StatusCode::Internal,
        StatusCode::MessageTimeOutOfWindow,
        StatusCode::InvalidMessageId,
        StatusCode::CertificateChainInvalid,
        StatusCode::PkiUnavailable,
        StatusCode::EnrolmentUnauthorized,
        StatusCode::CertificationRequestInvalid,
        StatusCode::CertificationSubjectMismatch,
        StatusCode::SignerNotProvider,
    ];

    /// Returns the wire string of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusCode::Success => "SCSS001",
            StatusCode::MalformedMessage => "EMSG001",
            StatusCode::MessageTooLarge => "EMSG002",
            StatusCode::DuplicateMessageId => "EMSG003",
            StatusCode::UnknownMessage => "EMSG004",
            StatusCode::UnknownService => "ESRV001",
            StatusCode::AccessDenied => "EACC001",
            StatusCode::SignatureMissing => "ESIG001",
            StatusCode::InvalidSignature => "ESIG002",
            StatusCode::CertificateExpired => "ESIG003",
            StatusCode::CertificateRevoked => "ESIG004",
            StatusCode::CertificateUntrusted => "ESIG005",
            StatusCode::CertificateNotAuthorized => "ESIG006",
            StatusCode::IinMismatch => "ESIG007",
            StatusCode::TargetTimeout => "ETRG001",
            StatusCode::TargetUnavailable => "ETRG002",
            StatusCode::DataNotFound => "EDAT001",
            StatusCode::InvalidRequest => "EDAT002",
            StatusCode::ServiceRefused => "ESRV002",
            StatusCode::Internal => "EINT001",
            StatusCode::MessageTimeOutOfWindow => "EMSG005",
            StatusCode::InvalidMessageId => "EMSG006",
            StatusCode::CertificateChainInvalid => "ESIG008",
            StatusCode::PkiUnavailable => "EPKI001",
            StatusCode::EnrolmentUnauthorized => "EPKI002",
            StatusCode::CertificationRequestInvalid => "EPKI003",
            StatusCode::CertificationSubjectMismatch => "EPKI004",
            StatusCode::SignerNotProvider => "ESIG009",
        }
    }

    /// Returns the gRPC status code a refusal with this code travels as.
    pub const fn grpc_code(self) -> tonic::Code {
        use tonic::Code;
        match self {
            StatusCode::Success => Code::Ok,
            StatusCode::MalformedMessage
            | StatusCode::InvalidRequest
            | StatusCode::MessageTimeOutOfWindow
            | StatusCode::InvalidMessageId
            | StatusCode::CertificationRequestInvalid => Code::InvalidArgument,
            StatusCode::MessageTooLarge => Code::ResourceExhausted,
            StatusCode::DuplicateMessageId => Code::AlreadyExists,
            StatusCode::UnknownService | StatusCode::UnknownMessage | StatusCode::DataNotFound => {
                Code::NotFound
            }
            StatusCode::AccessDenied
            | StatusCode::CertificateNotAuthorized
            | StatusCode::CertificationSubjectMismatch
            | StatusCode::SignerNotProvider => Code::PermissionDenied,
            StatusCode::EnrolmentUnauthorized => Code::Unauthenticated,
            StatusCode::SignatureMissing
            | StatusCode::InvalidSignature
            | StatusCode::CertificateExpired
            | StatusCode::CertificateRevoked
            | StatusCode::CertificateUntrusted
            | StatusCode::CertificateChainInvalid
            | StatusCode::IinMismatch => Code::Unauthenticated,
            StatusCode::TargetTimeout => Code::DeadlineExceeded,
            StatusCode::TargetUnavailable | StatusCode::PkiUnavailable => Code::Unavailable,
            StatusCode::ServiceRefused => Code::FailedPrecondition,
            StatusCode::Internal => Code::Internal,
        }
    }

    /// Returns true for `SCSS001`.
    pub const fn is_success(self) -> bool {
        matches!(self, StatusCode::Success)
    }

    /// Builds the `egov.v1.Status` message for this code.
    pub fn to_proto(self, message: impl Into<String>) -> egov_proto::v1::Status {
        egov_proto::v1::Status {
            code: self.as_str().to_owned(),
            message: message.into(),
        }
    }

    /// Builds a tonic status whose code maps this one and whose message starts
    /// with the wire string, so clients can recover it.
    pub fn to_grpc(self, message: impl fmt::Display) -> tonic::Status {
        tonic::Status::new(self.grpc_code(), format!("{}: {message}", self.as_str()))
    }

    /// Recovers the code from a tonic status made by [`StatusCode::to_grpc`].
    pub fn from_grpc(status: &tonic::Status) -> Option<StatusCode> {
        status.message().split(':').next()?.parse().ok()
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The wire string is not one of [`StatusCode::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status code {0:?}")]
pub struct UnknownStatusCode(pub String);

impl FromStr for StatusCode {
    type Err = UnknownStatusCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StatusCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownStatusCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_wire_string_that_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for code in StatusCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} repeated");
            assert_eq!(code.as_str().parse::<StatusCode>(), Ok(code));
        }
    }

    #[test]
    fn grpc_status_carries_the_code_back() {
        let status = StatusCode::IinMismatch.to_grpc("IIN in request does not match");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(
            StatusCode::from_grpc(&status),
            Some(StatusCode::IinMismatch)
        );
    }

    #[test]
    fn unknown_wire_string_is_refused() {
        assert!("SCSS999".parse::<StatusCode>().is_err());
    }
}
