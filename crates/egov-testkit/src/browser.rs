//! Headless Chromium for the web apps' browser tests: Debian's `chromedriver` on a free
//! loopback port, driven through fantoccini. Missing binaries fail the test with the install
//! command; a browser test never skips.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

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

/// How long a page may take to show an element, or to give way to the next page.
pub const READY_WITHIN: Duration = Duration::from_secs(60);

/// How often a wait looks again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Marks the current document; a new document (the next page) does not carry the mark.
const MARK_DOCUMENT: &str = "window.egovTestLeaving = true; return true;";

/// True while the marked document is the one shown.
const STILL_MARKED: &str = "return window.egovTestLeaving === true;";

/// True once the marked document gave way to a fully loaded next one.
const NEXT_DOCUMENT_LOADED: &str =
    "return window.egovTestLeaving === undefined && document.readyState === 'complete';";

/// One browser tab driven as a person would, through waits that survive the page changing
/// under them: an element found on a page being left is looked up again on the next one.
/// A wait that runs out fails naming what it waited for, the page's URL and its text, and
/// saves a screenshot beside the others.
#[derive(Debug, Clone)]
pub struct Page {
    client: Client,
    screenshots: PathBuf,
}

/// Headless Chromium at `width` × `height` and its chromedriver, saving screenshots into
/// `screenshots`; the driver is killed when dropped.
pub async fn open(
    width: u32,
    height: u32,
    screenshots: impl Into<PathBuf>,
) -> (ChromeDriver, Page) {
    let mut driver = ChromeDriver::start();
    let webdriver = driver.ready().await;
    let client = session(&webdriver, &chromium(), width, height).await;
    (driver, Page::new(client, screenshots))
}

impl Page {
    /// Drives `client`, saving screenshots into `screenshots`.
    pub fn new(client: Client, screenshots: impl Into<PathBuf>) -> Page {
        Page {
            client,
            screenshots: screenshots.into(),
        }
    }

    /// The fantoccini client, for what the page helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        if let Err(error) = self.client.goto(url).await {
            self.fail(&format!("open {url}"), &error.to_string()).await;
        }
    }

    /// Waits for the element `css` and returns it.
    pub async fn element(&self, css: &str) -> Element {
        let client = &self.client;
        self.retry(&format!("an element {css}"), || async move {
            client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Whether the page shows an element `css` now, without waiting.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Waits for the element `css` and returns its text.
    pub async fn text_of(&self, css: &str) -> String {
        let client = &self.client;
        self.retry(&format!("the text of {css}"), || async move {
            let element = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            element.text().await.map_err(|e| e.to_string())
        })
        .await
    }

    /// Waits until the text of `css` contains `needle`, and returns that text.
    pub async fn text_containing(&self, css: &str, needle: &str) -> String {
        let client = &self.client;
        self.retry(&format!("{css} showing {needle:?}"), || async move {
            let element = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            let text = element.text().await.map_err(|e| e.to_string())?;
            if text.contains(needle) {
                Ok(text)
            } else {
                Err(format!("its text is {text:?}"))
            }
        })
        .await
    }

    /// Returns the text of every element `css` (none when there is none).
    pub async fn texts_of(&self, css: &str) -> Vec<String> {
        let client = &self.client;
        self.retry(&format!("the texts of {css}"), || async move {
            let mut texts = Vec::new();
            for element in client
                .find_all(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?
            {
                texts.push(element.text().await.map_err(|e| e.to_string())?);
            }
            Ok(texts)
        })
        .await
    }

    /// Returns the attribute `name` of every element `css` (empty where it is missing).
    pub async fn attrs_of(&self, css: &str, name: &str) -> Vec<String> {
        let client = &self.client;
        self.retry(&format!("the {name} of {css}"), || async move {
            let mut values = Vec::new();
            for element in client
                .find_all(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?
            {
                values.push(
                    element
                        .attr(name)
                        .await
                        .map_err(|e| e.to_string())?
                        .unwrap_or_default(),
                );
            }
            Ok(values)
        })
        .await
    }

    /// Clicks `css`, for a click that stays on this page (a checkbox, a tab).
    pub async fn click(&self, css: &str) {
        self.click_on(css, Locator::Css(css)).await;
    }

    /// Clicks `css`, for a click that leads to another page (a form's button, a link), and
    /// waits until that page has loaded, so that nothing is read from the page being left.
    pub async fn submit(&self, css: &str) {
        self.leave_by(css, Locator::Css(css)).await;
    }

    /// Follows the link whose text is `text` and waits until its page has loaded.
    pub async fn follow_link(&self, text: &str) {
        self.leave_by(&format!("the link {text:?}"), Locator::LinkText(text))
            .await;
    }

    async fn click_on(&self, what: &str, locator: Locator<'_>) {
        let client = &self.client;
        self.retry(&format!("a click on {what}"), || async move {
            let element = client.find(locator).await.map_err(|e| e.to_string())?;
            element.click().await.map(drop).map_err(|e| e.to_string())
        })
        .await;
    }

    async fn leave_by(&self, what: &str, locator: Locator<'_>) {
        let client = &self.client;
        self.retry("the current page marked", || async move {
            client
                .execute(MARK_DOCUMENT, Vec::new())
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .await;
        // A click that failed once the page was already going (its answer lost) is not
        // repeated: a form is sent once.
        self.retry(&format!("a click on {what}"), || async move {
            if let Ok(serde_json::Value::Bool(false)) =
                client.execute(STILL_MARKED, Vec::new()).await
            {
                return Ok(());
            }
            let element = client.find(locator).await.map_err(|e| e.to_string())?;
            element.click().await.map(drop).map_err(|e| e.to_string())
        })
        .await;
        self.retry(&format!("the page after clicking {what}"), || async move {
            match client.execute(NEXT_DOCUMENT_LOADED, Vec::new()).await {
                Ok(serde_json::Value::Bool(true)) => Ok(()),
                Ok(_) => Err("still on the page clicked, or the next one is loading".to_owned()),
                Err(error) => Err(error.to_string()),
            }
        })
        .await;
    }

    /// Types `text` into the field `css`, replacing what it held, and checks it holds `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let client = &self.client;
        self.retry(&format!("{css} filled with {text:?}"), || async move {
            let field = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            field.clear().await.map_err(|e| e.to_string())?;
            field.send_keys(text).await.map_err(|e| e.to_string())?;
            match field.prop("value").await.map_err(|e| e.to_string())? {
                Some(value) if value == text => Ok(()),
                other => Err(format!("the field holds {other:?}")),
            }
        })
        .await;
    }

    /// Chooses the file at `path` in the file input `css`.
    pub async fn attach(&self, css: &str, path: &Path) {
        let client = &self.client;
        let path = path.display().to_string();
        let path = path.as_str();
        self.retry(&format!("{css} given {path}"), || async move {
            let field = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            field.send_keys(path).await.map_err(|e| e.to_string())
        })
        .await;
    }

    /// Chooses the option `value` of the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let client = &self.client;
        self.retry(&format!("{css} set to {value:?}"), || async move {
            let select = client
                .find(Locator::Css(css))
                .await
                .map_err(|e| e.to_string())?;
            select
                .select_by_value(value)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    }

    /// Waits until the URL contains `part`, and returns it.
    pub async fn wait_for_url(&self, part: &str) -> String {
        let client = &self.client;
        self.retry(&format!("a URL with {part}"), || async move {
            let url = client.current_url().await.map_err(|e| e.to_string())?;
            if url.as_str().contains(part) {
                Ok(url.to_string())
            } else {
                Err(format!("the browser is at {url}"))
            }
        })
        .await
    }

    /// Saves a screenshot as `<name>.png` in the screenshots directory and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        match self.try_screenshot(name).await {
            Ok(path) => {
                println!("screenshot: {}", path.display());
                path
            }
            Err(error) => panic!("no screenshot {name}: {error}"),
        }
    }

    /// Ends the browser session (a session that would not end is only reported: the
    /// test's own outcome is what counts).
    pub async fn close(self) {
        if let Err(error) = self.client.close().await {
            eprintln!("the browser session did not close: {error}");
        }
    }

    async fn try_screenshot(&self, name: &str) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.screenshots).map_err(|e| e.to_string())?;
        let png = self.client.screenshot().await.map_err(|e| e.to_string())?;
        if !png.starts_with(b"\x89PNG") {
            return Err("chromedriver's screenshot is not a PNG".to_owned());
        }
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// Runs `attempt` until it succeeds, for at most [`READY_WITHIN`].
    async fn retry<T, F, Fut>(&self, what: &str, mut attempt: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            match attempt().await {
                Ok(value) => return value,
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    self.fail(what, &error).await
                }
                Err(_) => tokio::time::sleep(POLL_EVERY).await,
            }
        }
    }

    /// Fails the test naming what it waited for, where the browser is and what it shows.
    async fn fail(&self, what: &str, error: &str) -> ! {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(error) => format!("(no URL: {error})"),
        };
        let shown = match self
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                Vec::new(),
            )
            .await
        {
            Ok(serde_json::Value::String(text)) => text.chars().take(2_000).collect(),
            Ok(other) => other.to_string(),
            Err(error) => format!("(no text: {error})"),
        };
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        let shot = match self.try_screenshot(&format!("failed-{name}")).await {
            Ok(path) => path.display().to_string(),
            Err(error) => format!("(no screenshot: {error})"),
        };
        panic!(
            "waited {READY_WITHIN:?} for {what}: {error}\n  at {url}\n  screenshot {shot}\n  the page shows:\n{shown}"
        )
    }
}
