//! [`SystemError`]: every way a system fails outside its domain rules (its store, its
//! enrolment, its servers, its config), shared by every system's own error type, and
//! [`public_fault`], the one mapping of an error to the refusal a caller sees.

use egov_core::StatusCode;

use crate::Fault;

/// Describes a failure of a system's runtime: store, enrolment, gateway, servers, config.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// A stored row does not read back (a hand-edited or corrupted database).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read.
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The database could not be opened or queried.
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    /// The schema migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store named by `database_url` could not be opened: an unsupported scheme, an
    /// unreachable server, a failed migration.
    #[error("store: {0}")]
    Store(#[from] egov_store::StoreError),
    /// Enrolling with the certification centre or building the verifier failed.
    #[error("identity: {0}")]
    Identity(#[from] crate::identity::IdentityError),
    /// The gateway endpoint is unusable.
    #[error("gateway: {0}")]
    Gateway(#[from] crate::CallError),
    /// A file-system step (e.g. creating the data dir) failed.
    #[error("could not {action}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable; the message names the key.
    #[error("config: {0}")]
    Config(String),
    /// The stack clock the config asks for (`clock = "stack"`) could not be followed.
    #[error("clock: {0}")]
    Clock(#[from] egov_bus::clock::ClockError),
    /// The gRPC or HTTP server stopped with an error.
    #[error("server failed")]
    Serve(#[from] egov_bus::BusError),
}

impl SystemError {
    /// Builds a [`SystemError::Corrupt`] for a stored value that does not read back.
    pub fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> SystemError {
        SystemError::Corrupt {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

impl From<crate::intake_sql::IntakeSqlError> for SystemError {
    fn from(error: crate::intake_sql::IntakeSqlError) -> SystemError {
        use crate::intake_sql::IntakeSqlError;
        match error {
            IntakeSqlError::Corrupt { what, reason } => SystemError::Corrupt { what, reason },
            IntakeSqlError::Database(error) => SystemError::Database(error),
        }
    }
}

/// Returns the refusal a caller sees for `error` of status `code`: the error itself, or, for
/// an internal failure, a generic line naming `system` while the details go to the log.
pub fn public_fault(code: StatusCode, error: &dyn std::error::Error, system: &str) -> Fault {
    if code == StatusCode::Internal {
        tracing::error!(error = %error, source = ?error.source(), "request failed");
        return Fault::new(code, format!("internal error of {system}"));
    }
    Fault::new(code, error.to_string())
}

/// The crates [`system_error!`] names, so a system's crate needs none of them itself.
#[doc(hidden)]
pub mod reexport {
    pub use egov_bus::BusError;
    pub use egov_store::StoreError;
    pub use sqlx::Error as SqlxError;
    pub use sqlx::migrate::MigrateError;
    pub use tonic::Status;
}

/// Implements, for a system's error type with a `System(SystemError)` variant and a
/// `status()` method: the conversions of every runtime failure (database, migration, store,
/// intake tables, identity, gateway, servers) through [`SystemError`], so `?` works on each
/// in its code; `public_message()`; and the conversion to the [`Fault`](crate::Fault) a
/// caller sees, internal failures reported as "internal error of `$title`".
///
/// After the title, `invalid` adds `invalid(field, reason)`, the builder of an
/// `InvalidArgument { field, reason }` variant, and `grpc` the conversion to a
/// `tonic::Status` whose message starts with the wire code (`EDAT002: iin: …`).
#[macro_export]
macro_rules! system_error {
    ($error:ty, $title:expr, $($extra:ident),+ $(,)?) => {
        $crate::system_error!($error, $title);
        $($crate::system_error!(@$extra $error);)+
    };
    (@invalid $error:ty) => {
        impl $error {
            /// Builds the refusal of a request field that is missing or malformed.
            pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
                Self::InvalidArgument {
                    field,
                    reason: reason.into(),
                }
            }
        }
    };
    (@grpc $error:ty) => {
        impl From<$error> for $crate::error::reexport::Status {
            /// Maps through the error's status code, so clients recover it with
            /// `StatusCode::from_grpc`.
            fn from(error: $error) -> $crate::error::reexport::Status {
                error.status().to_grpc(error.public_message())
            }
        }
    };
    ($error:ty, $title:expr) => {
        $crate::system_error!(@from $error:
            $crate::error::reexport::SqlxError,
            $crate::error::reexport::MigrateError,
            $crate::error::reexport::StoreError,
            $crate::error::reexport::BusError,
            $crate::intake_sql::IntakeSqlError,
            $crate::identity::IdentityError,
            $crate::CallError
        );

        impl $error {
            /// Builds the error of a stored value that does not read back.
            pub fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> $error {
                <$error>::from($crate::SystemError::corrupt(what, reason))
            }

            /// Logs an internal failure and returns the text a caller may see: the refusal
            /// itself, or a generic line for internal failures, whose details stay in the log.
            pub fn public_message(&self) -> String {
                $crate::Fault::from(self).message
            }
        }

        impl From<&$error> for $crate::Fault {
            /// Keeps the code and the field-first message.
            fn from(error: &$error) -> $crate::Fault {
                $crate::public_fault(error.status(), error, $title)
            }
        }

        impl From<$error> for $crate::Fault {
            fn from(error: $error) -> $crate::Fault {
                $crate::Fault::from(&error)
            }
        }
    };
    (@from $error:ty: $($source:ty),*) => {
        $(
            impl From<$source> for $error {
                fn from(error: $source) -> $error {
                    <$error>::from($crate::SystemError::from(error))
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_failure_names_the_system_and_hides_its_details() {
        let fault = public_fault(
            StatusCode::Internal,
            &SystemError::Config("secret detail".into()),
            "the sample system",
        );
        assert_eq!(fault.code, StatusCode::Internal);
        assert_eq!(fault.message, "internal error of the sample system");
    }

    #[test]
    fn a_refusal_keeps_its_message() {
        let error = SystemError::corrupt("row", "bad");
        let fault = public_fault(StatusCode::DataNotFound, &error, "the sample system");
        assert_eq!(fault.message, "stored row is corrupt: bad");
    }
}
