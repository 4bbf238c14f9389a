//! The future every server stops on: Ctrl-C or SIGTERM, whichever comes first, and
//! [`Stop`], one such future fanned out to a service's servers and workers.

use std::future::Future;

use tokio::sync::watch;

/// One shutdown future fanned out to every server and worker of a service.
#[derive(Debug, Clone)]
pub struct Stop {
    stopped: watch::Receiver<bool>,
}

impl Stop {
    /// Spawns the task that awaits `shutdown`, then tells every holder to stop.
    pub fn spawn(shutdown: impl Future<Output = ()> + Send + 'static) -> Stop {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        Stop { stopped }
    }

    /// Returns a receiver that turns `true` on stop, for a worker that watches it.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.stopped.clone()
    }

    /// Returns a future that resolves on stop (or once the task that says it is gone).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopped = self.stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    }
}

/// Resolves when the process receives Ctrl-C (SIGINT) or SIGTERM.
///
/// If a signal handler cannot be installed, that signal is ignored (logged) and the
/// other one still stops the process, rather than stopping it at once.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
