//! NATS users with per-system permissions, written into a nats-server config by `egov up`
//! (and by anyone deploying the stack): the gateway may do everything; a system subscribes
//! only to its own subjects (its push inbox `egov.sys.<id>.>`, its notifications
//! `egov.gw.notify.<id>.*`, one per message it sent) and may answer the requests it receives,
//! but can neither read the gateway's delivery and state streams (no JetStream API on them,
//! so no other system's states) nor publish into another system's subjects.
//!
//! Every process that uses NATS also shares the stack's virtual clock, so every user may read
//! the clock's buckets (`EGOV_CLOCK`, `EGOV_CLOCK_FOLLOWERS`) through the JetStream API
//! subjects of those two buckets only, and write its own follower reports. Only the clock
//! authority's user writes the stack's time and creates or changes the buckets; it also
//! reads the gateway's delivery consumers, to count the async messages in flight.
//!
//! Replies to a system's own requests arrive on `_INBOX.…`; the gateway uses its own prefix
//! ([`GATEWAY_INBOX_PREFIX`]) so no system can subscribe to the answers the gateway gets
//! (its state bucket's reads among them).

use std::fmt::Write as _;

use crate::clock::{CLOCK_BUCKET, DELIVER_STREAM, FOLLOWERS_BUCKET};
use crate::subjects::{CLOCK, NOTIFY_PREFIX, SYSTEM_PREFIX};

/// The inbox prefix of the gateway's NATS connections (set with
/// `async_nats::ConnectOptions::custom_inbox_prefix`); only the gateway may subscribe to it.
pub const GATEWAY_INBOX_PREFIX: &str = "_INBOX_gateway";

/// The NATS user of the gateway.
pub const GATEWAY_USER: &str = "gateway";

/// The NATS user of the clock authority.
pub const CLOCK_USER: &str = "clock";

/// One NATS user: its name, its password (random) and what it may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsUser {
    /// The user name: the service's name.
    pub name: String,
    /// The password (hex; safe in a URL).
    pub password: String,
    /// Subjects it may publish to.
    pub publish: Vec<String>,
    /// Subjects it may subscribe to.
    pub subscribe: Vec<String>,
    /// Whether it may answer requests it received (publish to their reply subjects).
    pub allow_responses: bool,
}

impl NatsUser {
    /// Returns the gateway's user: everything.
    pub fn gateway(password: String) -> NatsUser {
        NatsUser {
            name: GATEWAY_USER.to_owned(),
            password,
            publish: vec![">".to_owned()],
            subscribe: vec![">".to_owned()],
            allow_responses: true,
        }
    }

    /// Returns the clock authority's user: the clock's buckets and subject, and the counts
    /// of the gateway's delivery consumers (read only).
    pub fn clock(password: String) -> NatsUser {
        let mut publish = vec![CLOCK.to_owned(), "$JS.API.INFO".to_owned()];
        publish.extend(bucket_api(CLOCK_BUCKET, Access::Manage));
        publish.extend(bucket_api(FOLLOWERS_BUCKET, Access::Manage));
        publish.push(format!("$KV.{CLOCK_BUCKET}.>"));
        publish.push(format!("$KV.{FOLLOWERS_BUCKET}.>"));
        publish.push(format!("$JS.API.STREAM.INFO.{DELIVER_STREAM}"));
        publish.push(format!("$JS.API.CONSUMER.LIST.{DELIVER_STREAM}"));
        NatsUser {
            name: CLOCK_USER.to_owned(),
            password,
            publish,
            subscribe: vec![CLOCK.to_owned(), "_INBOX.>".to_owned()],
            allow_responses: false,
        }
    }

    /// Returns a system's user (`system_id` as in `egov_core::systems`): its own subjects,
    /// answers to what it receives, the clock's buckets to read and its own follower reports
    /// to write. It cannot write the stack's time: only the authority moves it.
    pub fn system(system_id: &str, password: String) -> NatsUser {
        let mut publish = vec!["$JS.API.INFO".to_owned()];
        publish.extend(bucket_api(CLOCK_BUCKET, Access::Read));
        publish.extend(bucket_api(FOLLOWERS_BUCKET, Access::Read));
        publish.push(format!("$KV.{FOLLOWERS_BUCKET}.{system_id}.>"));
        NatsUser {
            name: system_id.to_owned(),
            password,
            publish,
            subscribe: vec![
                format!("{SYSTEM_PREFIX}.{system_id}.>"),
                format!("{NOTIFY_PREFIX}.{system_id}.*"),
                CLOCK.to_owned(),
                "_INBOX.>".to_owned(),
            ],
            allow_responses: true,
        }
    }

    /// Returns `base` (`nats://host:port`) with this user's name and password in it.
    pub fn url(&self, base: &str) -> String {
        match base.split_once("://") {
            Some((scheme, rest)) => format!("{scheme}://{}:{}@{rest}", self.name, self.password),
            None => format!("nats://{}:{}@{base}", self.name, self.password),
        }
    }
}

/// Splits the user and password out of a NATS URL (`nats://user:password@host:port`):
/// returns the URL without them and the pair, if any.
pub fn split_credentials(url: &str) -> (String, Option<(String, String)>) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    (
        format!("{scheme}://{host}"),
        Some((user.to_owned(), password.to_owned())),
    )
}

/// Connects to NATS at `url` with `options`, signing in with the user and password the URL
/// carries (async-nats does not read them from the URL itself), over TLS when the URL asks for
/// it (`tls://`, `?tls_ca=…`: see [`crate::nats_tls`]). Every NATS connection of the stack
/// comes through here, so one URL setting puts a whole process on TLS.
pub async fn connect(
    url: &str,
    options: async_nats::ConnectOptions,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let (url, tls) = crate::nats_tls::split_tls(url).map_err(|error| {
        async_nats::ConnectError::with_source(async_nats::ConnectErrorKind::ServerParse, error)
    })?;
    let (address, credentials) = split_credentials(&url);
    let options = match credentials {
        Some((user, password)) => options.user_and_password(user, password),
        None => options,
    };
    let required = tls.required;
    tls.apply(options).connect(address).await.map_err(|error| {
        if required {
            name_tls_failure(error)
        } else {
            error
        }
    })
}

/// Returns a failed TLS handshake as a TLS error: async-nats reports a certificate the client
/// does not trust as an I/O error, which would send whoever reads it looking at the network.
fn name_tls_failure(error: async_nats::ConnectError) -> async_nats::ConnectError {
    // tokio-rustls hands rustls's refusals on as `InvalidData`; a network fault is another kind.
    let handshake = error.kind() == async_nats::ConnectErrorKind::Io
        && std::error::Error::source(&error)
            .and_then(|source| source.downcast_ref::<std::io::Error>())
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData);
    if handshake {
        let reason = std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default();
        async_nats::ConnectError::with_source(
            async_nats::ConnectErrorKind::Tls,
            format!("the TLS handshake with the NATS server failed: {reason}"),
        )
    } else {
        error
    }
}

/// What a user may do with a key-value bucket's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Open, read and watch it.
    Read,
    /// Also create and change it (`create_or_update_key_value`).
    Manage,
}

/// Returns the JetStream API subjects that open, read and watch one key-value bucket, and,
/// with [`Access::Manage`], create or update it.
fn bucket_api(bucket: &str, access: Access) -> Vec<String> {
    let stream = format!("KV_{bucket}");
    let mut subjects = vec![format!("$JS.API.STREAM.INFO.{stream}")];
    if access == Access::Manage {
        subjects.push(format!("$JS.API.STREAM.CREATE.{stream}"));
        subjects.push(format!("$JS.API.STREAM.UPDATE.{stream}"));
    }
    subjects.extend([
        format!("$JS.API.STREAM.MSG.GET.{stream}"),
        format!("$JS.API.DIRECT.GET.{stream}"),
        format!("$JS.API.DIRECT.GET.{stream}.>"),
        format!("$JS.API.CONSUMER.CREATE.{stream}"),
        format!("$JS.API.CONSUMER.CREATE.{stream}.>"),
        format!("$JS.API.CONSUMER.DELETE.{stream}.>"),
        format!("$JS.API.CONSUMER.INFO.{stream}.>"),
        format!("$JS.FC.{stream}.>"),
        format!("$JS.ACK.{stream}.>"),
    ]);
    subjects
}

/// Returns a random password: 32 hex digits from the OS's generator (a v4 UUID's 122 bits).
pub fn random_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Returns the users of a stack: the gateway, the clock and one per system, with new passwords.
pub fn stack_users(systems: &[&str]) -> Vec<NatsUser> {
    let mut users = vec![
        NatsUser::gateway(random_password()),
        NatsUser::clock(random_password()),
    ];
    users.extend(
        systems
            .iter()
            .map(|system| NatsUser::system(system, random_password())),
    );
    users
}

/// Returns the nats-server config block that admits these users, each with its permissions.
pub fn authorization_block(users: &[NatsUser]) -> String {
    let list = |subjects: &[String]| {
        subjects
            .iter()
            .map(|subject| format!("{subject:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::from("authorization {\n  users = [\n");
    for user in users {
        let _ = writeln!(
            text,
            "    {{user: {:?}, password: {:?}, permissions: {{publish: {{allow: [{}]}}, \
             subscribe: {{allow: [{}]}}{}}}}}",
            user.name,
            user.password,
            list(&user.publish),
            list(&user.subscribe),
            if user.allow_responses {
                ", allow_responses: true"
            } else {
                ""
            }
        );
    }
    text.push_str("  ]\n}\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_carries_the_users_name_and_password() {
        let user = NatsUser::system("labor", "secret".into());
        assert_eq!(
            user.url("nats://127.0.0.1:4222"),
            "nats://labor:secret@127.0.0.1:4222"
        );
    }

    #[test]
    fn credentials_are_split_out_of_a_url() {
        assert_eq!(
            split_credentials("nats://labor:secret@127.0.0.1:4222"),
            (
                "nats://127.0.0.1:4222".to_owned(),
                Some(("labor".to_owned(), "secret".to_owned()))
            )
        );
        assert_eq!(
            split_credentials("nats://127.0.0.1:4222"),
            ("nats://127.0.0.1:4222".to_owned(), None)
        );
    }

    #[test]
    fn a_system_subscribes_only_to_its_own_subjects() {
        let user = NatsUser::system("labor", random_password());
        assert!(user.subscribe.contains(&"egov.sys.labor.>".to_owned()));
        assert!(
            user.subscribe
                .iter()
                .all(|subject| !subject.contains("deliver"))
        );
        assert!(
            user.publish
                .iter()
                .all(|subject| !subject.starts_with("egov."))
        );
        assert!(
            user.subscribe
                .iter()
                .filter(|subject| subject.contains("notify"))
                .all(|subject| subject == "egov.gw.notify.labor.*"),
            "only its own messages' final states"
        );
        assert!(!user.subscribe.contains(&">".to_owned()));
    }

    #[test]
    fn only_the_clock_authority_may_write_the_stack_time_or_change_its_buckets() {
        let writes_time = |user: &NatsUser| {
            user.publish.iter().any(|subject| {
                subject.starts_with(&format!("$KV.{CLOCK_BUCKET}."))
                    || subject.starts_with("$JS.API.STREAM.CREATE.")
                    || subject.starts_with("$JS.API.STREAM.UPDATE.")
            })
        };
        assert!(!writes_time(&NatsUser::system("labor", random_password())));
        assert!(writes_time(&NatsUser::clock(random_password())));
    }
}
