//! A system set to follow the stack clock (`clock = "stack"`) starts only when it can follow
//! it: with NATS out of reach the runtime stops the start, naming the clock and the URL,
//! before it opens the store or enrols, instead of running on a clock of its own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use egov_bus::service::Listeners;
use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_system::config::ClockSource;
use egov_system::{Mount, Mounted, System, SystemError, runtime};

egov_system::system_config! {
    /// A system of this test, with the shared keys only.
    service: "sample",
    grpc: 7996,
    http: 7997,
}

/// Whether the sample system's store was opened: the start went past the clock.
static STORE_OPENED: AtomicBool = AtomicBool::new(false);

/// A system that does nothing but say whether its start reached the store.
struct Sample;

impl System for Sample {
    const ENTRY: &'static SystemInfo = &systems::LABOR;
    const TITLE: &'static str = "sample system";
    type Config = Config;
    type Store = ();
    type Error = SystemError;

    async fn open_store(_config: &Config) -> Result<(), SystemError> {
        STORE_OPENED.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn close_store(_store: ()) {}

    async fn mount<R: RevocationSource + 'static>(
        _config: &Config,
        _mount: Mount<R, ()>,
    ) -> Result<Mounted, SystemError> {
        Err(SystemError::Config(
            "the sample system is never mounted".into(),
        ))
    }
}

#[tokio::test]
async fn a_system_on_the_stack_clock_refuses_to_start_when_nats_is_unreachable() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A port nothing listens on: NATS is out of reach, and so is the centre.
    let port = egov_testkit::free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let mut config = Config::with_data_dir(dir.path().join("sample"));
    config.clock = ClockSource::Stack;
    config.nats_url = url.clone();
    config.pki_endpoint = format!("http://127.0.0.1:{port}");
    let (grpc, http) = egov_testkit::service::loopback_listeners().await;

    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        runtime::run::<Sample>(config, Listeners { grpc, http }, std::future::pending()),
    )
    .await
    .expect("the start is refused at once, not retried");

    let error = outcome.expect_err("no start without the stack clock");
    assert!(matches!(error, SystemError::Clock(_)), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("stack clock"), "{text}");
    assert!(text.contains(&url), "names the NATS URL: {text}");
    assert!(
        !STORE_OPENED.load(Ordering::SeqCst),
        "refused before the store was opened or the seal enrolled"
    );
}
