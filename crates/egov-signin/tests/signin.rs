//! Sign-in as a browser and an API client meet it: a router with a page, a form and an API
//! call behind `Signin::protect`, on a temporary SQLite database and a virtual clock, driven
//! in-process (axum `oneshot`). One test per rule.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use egov_core::clock::VirtualClock;
use egov_signin::cli::AccountsCommand;
use egov_signin::{ApiCaller, Caller, Limit, Settings, SignedIn, Signin};
use egov_store::{Pool, StoreOptions};
use time::macros::datetime;
use tower::ServiceExt as _;

const CLERK_PASSWORD: &str = "clerk password 1";
const HOST: &str = "office.test:7171";

/// The app under test, its database and its clock.
struct App {
    signin: Signin,
    router: Router,
    clock: VirtualClock,
    pool: Pool,
    /// How many times the protected form's handler ran.
    acted: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
}

/// A response as a test reads it.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
}

fn settings() -> Settings {
    let mut settings = Settings::new("office", "Office");
    settings.idle = Duration::from_secs(30 * 60);
    settings.absolute = Duration::from_secs(8 * 3600);
    settings.per_login = Limit {
        failures: 3,
        window: Duration::from_secs(15 * 60),
    };
    settings.per_address = Limit {
        failures: 5,
        window: Duration::from_secs(15 * 60),
    };
    settings
}

impl App {
    async fn start() -> App {
        App::start_with(settings()).await
    }

    async fn start_with(settings: Settings) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
        let pool = StoreOptions::new("database_url", &url)
            .open(None)
            .await
            .expect("open the database");
        let clock = VirtualClock::new(datetime!(2026-12-07 09:00 UTC));
        let signin = Signin::open(pool.clone(), settings, clock.shared())
            .await
            .expect("open sign-in");
        signin
            .add_account("aigul", "Айгүл Серікова", &["clerk".into()], CLERK_PASSWORD)
            .await
            .expect("add the clerk");
        signin
            .add_account(
                "daulet",
                "Дәулет Омаров",
                &["executor".into()],
                "executor password",
            )
            .await
            .expect("add the executor");
        let acted = Arc::new(AtomicUsize::new(0));
        let routes = Router::new()
            .route("/page", get(page))
            .route("/act", post(act))
            .route("/api/me", get(me))
            .route("/api/system", get(system))
            .with_state(acted.clone());
        App {
            router: signin.protect(routes),
            signin,
            clock,
            pool,
            acted,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.expect("answer");
        let header_of = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &header::HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        let location = header_of(header::LOCATION);
        let cookie = header_of(header::SET_COOKIE);
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        Answer {
            status,
            location,
            cookie,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn login_from(&self, login: &str, password: &str, address: [u8; 4]) -> Answer {
        let form = serde_urlencoded::to_string([
            ("login", login),
            ("password", password),
            ("next", "/page"),
            ("lang", "en"),
        ])
        .expect("form");
        let mut request = Request::post("/login")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((address, 40000))));
        self.send(request).await
    }

    async fn login(&self, login: &str, password: &str) -> Answer {
        self.login_from(login, password, [10, 0, 0, 1]).await
    }

    /// Signs in and returns the cookie pair and the page's CSRF token.
    async fn session(&self, login: &str, password: &str) -> (String, String) {
        let answer = self.login(login, password).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let cookie = answer.cookie.expect("a session cookie");
        let pair = cookie.split(';').next().expect("name=value").to_owned();
        let page = self.get("/page", &pair).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page
            .body
            .split("csrf=")
            .nth(1)
            .expect("csrf shown")
            .to_owned();
        (pair, csrf)
    }

    async fn get(&self, uri: &str, cookie: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    async fn post_form(&self, cookie: &str, origin: Option<&str>, form: &str) -> Answer {
        let mut request = Request::post("/act")
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        self.send(request.body(Body::from(form.to_owned())).expect("request"))
            .await
    }

    async fn bearer(&self, uri: &str, token: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }
}

/// A page: who is signed in, and the token its forms carry.
async fn page(signed_in: SignedIn) -> String {
    format!("{} csrf={}", signed_in.person.name, signed_in.csrf)
}

/// A clerk's form.
async fn act(State(acted): State<Arc<AtomicUsize>>, caller: Caller) -> axum::response::Response {
    if let Err(forbidden) = caller.person().require_role("clerk") {
        return forbidden.into_response();
    }
    acted.fetch_add(1, Ordering::SeqCst);
    format!("done by {}", caller.person().name).into_response()
}

/// An API call either kind of caller may make.
async fn me(caller: Caller) -> String {
    caller.person().login.clone()
}

/// An API call for systems only.
async fn system(caller: ApiCaller) -> String {
    format!("{} via {}", caller.person.login, caller.token_id)
}

#[tokio::test]
async fn the_right_password_opens_a_session_in_an_httponly_samesite_strict_cookie() {
    let app = App::start().await;
    let answer = app.login("aigul", CLERK_PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/page"));
    let cookie = answer.cookie.expect("cookie");
    assert!(cookie.starts_with("egov-office-session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "not Secure unless configured: {cookie}"
    );
    let (pair, _) = app.session("aigul", CLERK_PASSWORD).await;
    assert!(
        app.get("/page", &pair)
            .await
            .body
            .starts_with("Айгүл Серікова")
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured() {
    let mut settings = settings();
    settings.secure_cookie = true;
    let app = App::start_with(settings).await;
    let cookie = app
        .login("aigul", CLERK_PASSWORD)
        .await
        .cookie
        .expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_401_and_no_session() {
    let app = App::start().await;
    let answer = app.login("aigul", "not the password").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.cookie.is_none());
    assert!(
        answer.body.contains("Wrong login or password."),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn an_unknown_login_is_refused_like_a_wrong_password() {
    let app = App::start().await;
    let answer = app.login("nobody", CLERK_PASSWORD).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("Wrong login or password."));
}

#[tokio::test]
async fn a_page_without_a_session_redirects_to_login_and_the_api_answers_401() {
    let app = App::start().await;
    let page = app.get("/page?lang=ru", "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?lang=ru&next=/page%3Flang%3Dru")
    );
    let api = app.get("/api/me", "egov-office-session=forged").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let form = app.post_form("", None, "csrf=x").await;
    assert_eq!(form.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.acted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_login_page_is_served_in_kazakh_russian_and_english() {
    let app = App::start().await;
    for (lang, heading) in [
        ("kk", "Жүйеге кіру"),
        ("ru", "Вход в систему"),
        ("en", "Sign in"),
    ] {
        let page = app.get(&format!("/login?lang={lang}"), "").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(heading), "{lang}");
    }
}

#[tokio::test]
async fn a_next_page_on_another_site_is_replaced_by_home() {
    let app = App::start().await;
    let page = app.get("/login?next=//evil.example/x", "").await;
    assert!(
        page.body.contains(r#"name="next" value="/""#),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn too_many_failed_logins_for_one_login_are_refused_with_429_even_with_the_right_password() {
    let app = App::start().await;
    for attempt in 0..3u8 {
        let answer = app
            .login_from("aigul", "wrong password", [10, 0, 1, attempt])
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app.login_from("aigul", CLERK_PASSWORD, [10, 0, 2, 1]).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.cookie.is_none());
    assert!(blocked.body.contains("Too many failed attempts"));
    // Another login is not blocked, and the window passes.
    assert_eq!(
        app.login_from("daulet", "executor password", [10, 0, 2, 1])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    app.clock.advance(Duration::from_secs(15 * 60)).await;
    assert_eq!(
        app.login("aigul", CLERK_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn too_many_failed_logins_from_one_address_are_refused_with_429() {
    let app = App::start().await;
    for i in 0..5 {
        let answer = app
            .login_from(&format!("guess{i}"), "wrong password", [192, 0, 2, 7])
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app
        .login_from("aigul", CLERK_PASSWORD, [192, 0, 2, 7])
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.login_from("aigul", CLERK_PASSWORD, [192, 0, 2, 8])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_form_with_its_csrf_token_from_the_same_origin_is_handled() {
    let app = App::start().await;
    let (cookie, csrf) = app.session("aigul", CLERK_PASSWORD).await;
    let answer = app
        .post_form(
            &cookie,
            Some(&format!("http://{HOST}")),
            &format!("csrf={csrf}&x=1"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, "done by Айгүл Серікова");
    assert_eq!(app.acted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_with_403() {
    let app = App::start().await;
    let (cookie, csrf) = app.session("aigul", CLERK_PASSWORD).await;
    let origin = format!("http://{HOST}");
    for form in [
        "x=1".to_owned(),
        "csrf=0123".to_owned(),
        format!("csrf={csrf}0"),
    ] {
        let answer = app.post_form(&cookie, Some(&origin), &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{form}");
    }
    assert_eq!(app.acted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_cross_site_form_is_refused_with_403_even_with_its_token() {
    let app = App::start().await;
    let (cookie, csrf) = app.session("aigul", CLERK_PASSWORD).await;
    let answer = app
        .post_form(
            &cookie,
            Some("http://evil.example"),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(app.acted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_person_without_the_role_gets_403() {
    let app = App::start().await;
    let (cookie, csrf) = app.session("daulet", "executor password").await;
    let answer = app.post_form(&cookie, None, &format!("csrf={csrf}")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("\"clerk\""), "{}", answer.body);
    assert_eq!(app.acted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_session_unused_for_its_idle_time_ends() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    app.clock.advance(Duration::from_secs(29 * 60)).await;
    assert_eq!(app.get("/page", &cookie).await.status, StatusCode::OK);
    app.clock.advance(Duration::from_secs(30 * 60)).await;
    let expired = app.get("/page", &cookie).await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert!(expired.location.expect("to login").starts_with("/login"));
}

#[tokio::test]
async fn a_busy_session_ends_at_its_absolute_time() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    // Used every 20 minutes, never idle, for 8 hours.
    for _ in 0..23 {
        app.clock.advance(Duration::from_secs(20 * 60)).await;
        assert_eq!(app.get("/page", &cookie).await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::from_secs(20 * 60)).await;
    assert_eq!(
        app.get("/page", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = App::start().await;
    let (cookie, csrf) = app.session("aigul", CLERK_PASSWORD).await;
    let request = Request::post("/logout")
        .header(header::HOST, HOST)
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&lang=kk")))
        .expect("request");
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains("Сіз жүйеден шықтыңыз."));
    assert!(answer.cookie.expect("cleared").contains("Max-Age=0"));
    assert_eq!(
        app.get("/page", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn logout_without_its_csrf_token_is_refused() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    let request = Request::post("/logout")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("lang=kk"))
        .expect("request");
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/page", &cookie).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_changed_password_ends_the_person_s_sessions() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    app.signin
        .set_password("aigul", "a brand new password")
        .await
        .expect("changed");
    assert_eq!(
        app.get("/page", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.login("aigul", CLERK_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("aigul", "a brand new password").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_api_token_calls_the_api_until_it_is_revoked() {
    let app = App::start().await;
    let (id, token) = app
        .signin
        .issue_token("daulet", "labor sync")
        .await
        .expect("token");
    let answer = app.bearer("/api/system", &token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, format!("daulet via {id}"));
    assert_eq!(app.bearer("/api/me", &token).await.body, "daulet");
    app.signin.revoke_token(&id).await.expect("revoked");
    assert_eq!(
        app.bearer("/api/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.bearer("/api/me", "egov_not_a_token").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_cannot_call_a_systems_only_api() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    assert_eq!(
        app.get("/api/system", &cookie).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/api/me", &cookie).await.body, "aigul");
}

#[tokio::test]
async fn sessions_tokens_and_passwords_are_stored_only_as_hashes() {
    let app = App::start().await;
    let (cookie, _) = app.session("aigul", CLERK_PASSWORD).await;
    let session_id = cookie.split_once('=').expect("pair").1.to_owned();
    let (_, token) = app.signin.issue_token("aigul", "").await.expect("token");
    let dump: Vec<String> = sqlx::query_scalar(
        "SELECT id_hash FROM signin_sessions UNION ALL SELECT token_hash FROM signin_tokens \
         UNION ALL SELECT password_hash FROM signin_accounts",
    )
    .fetch_all(&app.pool)
    .await
    .expect("read the tables");
    let dump = dump.join(" ");
    assert!(!dump.contains(&session_id));
    assert!(!dump.contains(&token));
    assert!(!dump.contains(CLERK_PASSWORD));
    assert!(dump.contains("$argon2id$"));
}

#[tokio::test]
async fn accounts_with_a_bad_login_role_or_password_are_refused_naming_it() {
    let app = App::start().await;
    let roles = ["clerk".to_owned()];
    let error = app
        .signin
        .add_account("Bad Login", "X", &roles, CLERK_PASSWORD)
        .await;
    assert!(
        error
            .expect_err("refused")
            .to_string()
            .contains("\"Bad Login\"")
    );
    let error = app
        .signin
        .add_account("x", "X", &["Clerk!".into()], CLERK_PASSWORD)
        .await;
    assert!(
        error
            .expect_err("refused")
            .to_string()
            .contains("\"Clerk!\"")
    );
    let error = app.signin.add_account("x", "X", &roles, "short").await;
    assert!(
        error
            .expect_err("refused")
            .to_string()
            .contains("at least 10")
    );
    let error = app
        .signin
        .add_account("aigul", "X", &roles, CLERK_PASSWORD)
        .await;
    assert!(error.expect_err("refused").to_string().contains("exists"));
}

#[tokio::test]
async fn the_bootstrap_file_adds_absent_accounts_and_keeps_existing_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("accounts.toml");
    std::fs::write(
        &file,
        r#"
[[account]]
login = "aigul"
name = "Someone Else"
roles = ["head"]
password = "another password"

[[account]]
login = "bota"
name = "Бота Нұрова"
roles = ["head", "clerk"]
password = "head's password"
"#,
    )
    .expect("write");
    let app = App::start().await;
    let added = egov_signin::bootstrap::apply(&app.signin, &file)
        .await
        .expect("applied");
    assert_eq!(added, 1);
    let accounts = app.signin.accounts().await.expect("list");
    let aigul = accounts.iter().find(|p| p.login == "aigul").expect("aigul");
    assert_eq!(aigul.roles, ["clerk"]);
    let bota = accounts.iter().find(|p| p.login == "bota").expect("bota");
    assert_eq!(bota.roles, ["head", "clerk"]);
    assert_eq!(
        app.login("bota", "head's password").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_bootstrap_account_without_a_password_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("accounts.toml");
    std::fs::write(
        &file,
        "[[account]]\nlogin = \"x\"\nname = \"X\"\nroles = [\"clerk\"]\n",
    )
    .expect("write");
    let app = App::start().await;
    let error = egov_signin::bootstrap::apply(&app.signin, &file)
        .await
        .expect_err("refused");
    assert!(
        error.to_string().contains("exactly one of password"),
        "{error}"
    );
}

#[tokio::test]
async fn the_accounts_cli_adds_lists_issues_and_revokes() {
    let app = App::start().await;
    let run = |command: AccountsCommand, input: &'static str| {
        let signin = app.signin.clone();
        async move {
            let mut out = Vec::new();
            command
                .run(&signin, &mut input.as_bytes(), &mut out)
                .await
                .map(|()| String::from_utf8(out).expect("UTF-8"))
        }
    };
    let added = run(
        AccountsCommand::Add {
            login: "erlan".into(),
            name: "Ерлан".into(),
            roles: vec!["operator".into()],
        },
        "operator password\n",
    )
    .await
    .expect("added");
    assert!(added.contains("added erlan"), "{added}");
    let issued = run(
        AccountsCommand::Token {
            login: "erlan".into(),
            label: "reload".into(),
        },
        "",
    )
    .await
    .expect("issued");
    let token = issued.lines().last().expect("the token").to_owned();
    assert_eq!(app.bearer("/api/me", &token).await.body, "erlan");
    let id = issued.split_whitespace().nth(1).expect("id").to_owned();
    let listed = run(AccountsCommand::List, "").await.expect("listed");
    assert!(listed.contains("erlan\tЕрлан\toperator"), "{listed}");
    assert!(
        listed.contains(&format!("token {id}\terlan\treload\tactive")),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the secret is shown only once");
    run(AccountsCommand::Revoke { id: id.clone() }, "")
        .await
        .expect("revoked");
    assert_eq!(
        app.bearer("/api/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let again = run(AccountsCommand::Revoke { id }, "").await;
    assert!(
        again
            .expect_err("refused")
            .to_string()
            .contains("no unrevoked API token")
    );
    run(
        AccountsCommand::Password {
            login: "erlan".into(),
        },
        "a new operator password\n",
    )
    .await
    .expect("changed");
}
