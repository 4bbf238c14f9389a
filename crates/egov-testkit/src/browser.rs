//! Headless Chromium for the web apps' browser tests: Debian's `chromedriver` on a free
//! loopback port, driven through fantoccini. Missing binaries fail the test with the install
//! command; a browser test never skips.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};

/// What to run when the browser is missing.
pub const INSTALL: &str = "apt-get install chromium chromium-driver";

/// How long chromedriver may take to listen.
const LISTEN_WITHIN: Duration = Duration::from_secs(60);

/// Returns the first of `names` found on PATH or in /usr/bin.
pub fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Returns Chromium's binary, failing with the install command when it is missing.
pub fn chromium() -> PathBuf {
    find_binary(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
        panic!("chromium is not on PATH nor in /usr/bin: install it with `{INSTALL}`")
    })
}

/// A chromedriver child process on a free loopback port, killed on drop.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    addr: SocketAddr,
}

impl ChromeDriver {
    /// Starts chromedriver, failing with the install command when it is missing.
    pub fn start() -> ChromeDriver {
        let binary = find_binary(&["chromedriver"]).unwrap_or_else(|| {
            panic!("chromedriver is not on PATH nor in /usr/bin: install it with `{INSTALL}` (./dev does this when run as root)")
        });
        let port = crate::free_port();
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        ChromeDriver {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        }
    }

    /// Waits until chromedriver accepts connections and returns its URL.
    pub async fn ready(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + LISTEN_WITHIN;
        loop {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return format!("http://{}", self.addr);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited before listening on {}: {status}",
                    self.addr
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not listen on {} within {LISTEN_WITHIN:?}",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens a headless Chromium session through chromedriver, its window `width` × `height`.
pub async fn session(webdriver: &str, chromium: &Path, width: u32, height: u32) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", format!("--window-size={width},{height}"),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .unwrap_or_else(|error| {
            panic!("chromedriver at {webdriver} opened no Chromium session: {error}")
        })
}
