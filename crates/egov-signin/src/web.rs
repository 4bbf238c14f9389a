//! The HTTP side: [`Signin::protect`] puts the guard before a router's routes and adds
//! `/login` and `/logout`. The guard resolves the caller (bearer token, then session cookie),
//! sends a visitor without one to the login page (pages) or answers 401 (API, forms), and
//! refuses a state-changing request on a session without an allowed origin and its CSRF token.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::pages::{self, Lang, Text};
use crate::{
    CSRF_FIELD, CSRF_HEADER, Caller, LOGIN_PATH, LOGOUT_PATH, LoginRefusal, MAX_FORM_BYTES, Signin,
    secret,
};

impl Signin {
    /// Returns `router` with every route behind the guard, plus `/login` and `/logout`.
    pub fn protect(&self, router: Router) -> Router {
        let guarded = router.route(LOGOUT_PATH, post(logout).with_state(self.clone()));
        let guarded = guarded.layer(middleware::from_fn_with_state(self.clone(), guard));
        guarded.merge(
            Router::new()
                .route(LOGIN_PATH, get(login_page).post(login))
                .with_state(self.clone()),
        )
    }

    /// Returns the `Set-Cookie` value that carries a session id.
    fn cookie(&self, id: &str, max_age: u64) -> String {
        let settings = self.settings();
        format!(
            "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
            settings.cookie_name(),
            if settings.secure_cookie {
                "; Secure"
            } else {
                ""
            }
        )
    }

    /// Returns the session id the request's cookie carries.
    pub(crate) fn cookie_value(&self, headers: &HeaderMap) -> Option<String> {
        let name = self.settings().cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Returns whether a state-changing request's `Origin` (or, without one, its fetch
    /// metadata) is allowed: an origin named in the settings, or the request's own host.
    pub(crate) fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            // Browsers send Origin on every cross-site POST; a request without one is a
            // same-origin form of an old browser or a non-browser client. Fetch metadata,
            // when present, still tells a cross-site one.
            return headers
                .get("sec-fetch-site")
                .is_none_or(|site| site == "same-origin" || site == "none");
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origins = &self.settings().origins;
        if !origins.is_empty() {
            return origins.iter().any(|allowed| allowed == origin);
        }
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        host.is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        })
    }
}

/// Returns the client's address, when the server is served with connect info.
fn address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Returns a local path to go back to after signing in; anything else (another site,
/// `//host`) is replaced by `home`.
fn local_path(next: &str, home: &str) -> String {
    match next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        true => next.to_owned(),
        false => home.to_owned(),
    }
}

fn lang_of(request: &Request) -> Lang {
    let query = request.uri().query().unwrap_or("");
    let lang = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(key, _)| key == "lang"))
        .map(|(_, value)| value);
    Lang::or_default(lang.as_deref())
}

fn unauthorized(message: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        message,
    )
        .into_response()
}

fn internal(error: &crate::SigninError) -> Response {
    tracing::error!(error = %error, "sign-in failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error of sign-in",
    )
        .into_response()
}

/// The guard before every protected route.
async fn guard(State(signin): State<Signin>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let token = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return unauthorized("the Authorization header must be `Bearer <API token>`");
        };
        return match signin.token_caller(token).await {
            Ok(Some(caller)) => {
                let mut request = request;
                request.extensions_mut().insert(Caller::Api(caller));
                next.run(request).await
            }
            Ok(None) => unauthorized("the API token is unknown or revoked"),
            Err(error) => internal(&error),
        };
    }
    let session = match signin.cookie_value(headers) {
        Some(id) => match signin.session(&id).await {
            Ok(session) => session,
            Err(error) => return internal(&error),
        },
        None => None,
    };
    let Some(signed_in) = session else {
        let path = request.uri().path();
        if path.starts_with(&signin.settings().api_prefix) || changes_state(request.method()) {
            return unauthorized("sign in first: no live session and no API token");
        }
        let wanted = request
            .uri()
            .path_and_query()
            .map_or("/", |path| path.as_str());
        return Redirect::to(&format!(
            "{LOGIN_PATH}?lang={}&next={}",
            lang_of(&request).code(),
            pages::percent_encode(wanted)
        ))
        .into_response();
    };
    let lang = lang_of(&request);
    let request = if changes_state(request.method()) {
        if !signin.origin_allowed(request.headers()) {
            tracing::warn!(login = %signed_in.person.login, "cross-site request refused");
            return (StatusCode::FORBIDDEN, Html(pages::refused_page(lang))).into_response();
        }
        match with_csrf_checked(request, &signed_in.csrf).await {
            Ok(request) => request,
            Err(response) => {
                tracing::warn!(login = %signed_in.person.login, "request without its CSRF token refused");
                return response;
            }
        }
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(Caller::Session(signed_in));
    next.run(request).await
}

/// Checks the CSRF token of a state-changing request (the header, or the form field of a
/// urlencoded body, which is read and put back), answering 403 when it is missing or wrong.
async fn with_csrf_checked(request: Request, expected: &str) -> Result<Request, Response> {
    let refused =
        |lang: Lang| (StatusCode::FORBIDDEN, Html(pages::refused_page(lang))).into_response();
    let lang = lang_of(&request);
    if let Some(token) = request.headers().get(CSRF_HEADER) {
        return match token
            .to_str()
            .is_ok_and(|token| secret::same(token, expected))
        {
            true => Ok(request),
            false => Err(refused(lang)),
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused(lang));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the form is larger than {MAX_FORM_BYTES} bytes"),
        )
            .into_response()
    })?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let lang = fields
        .iter()
        .find(|(key, _)| key == "lang")
        .map_or(lang, |(_, value)| Lang::or_default(Some(value)));
    let token = fields.iter().find(|(key, _)| key == CSRF_FIELD);
    match token.is_some_and(|(_, token)| secret::same(token, expected)) {
        true => Ok(Request::from_parts(parts, Body::from(bytes))),
        false => Err(refused(lang)),
    }
}

/// The query of the login page.
#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// `GET /login`.
async fn login_page(
    State(signin): State<Signin>,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let lang = Lang::or_default(query.lang.as_deref());
    let next = local_path(query.next.as_deref().unwrap_or(""), &signin.settings().home);
    Html(pages::login_page(
        &signin.settings().title,
        lang,
        &next,
        None,
    ))
    .into_response()
}

/// The login form.
#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// `POST /login`: signs in and goes to the page asked for (303), or shows the refusal:
/// 401 for wrong credentials, 429 for too many attempts, 403 for a cross-site form.
async fn login(State(signin): State<Signin>, request: Request) -> Response {
    let address = address(&request);
    if !signin.origin_allowed(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            Html(pages::refused_page(lang_of(&request))),
        )
            .into_response();
    }
    let form = match Form::<LoginForm>::from_request(request).await {
        Ok(Form(form)) => form,
        Err(rejection) => return (StatusCode::BAD_REQUEST, rejection.body_text()).into_response(),
    };
    let lang = Lang::or_default(Some(&form.lang));
    let next = local_path(&form.next, &signin.settings().home);
    let title = signin.settings().title.clone();
    let login = form.login.trim().to_lowercase();
    match signin
        .sign_in(&login, &form.password, address.as_deref())
        .await
    {
        Ok((id, _)) => {
            let max_age = signin.settings().absolute.as_secs();
            let mut response = Redirect::to(&next).into_response();
            match HeaderValue::from_str(&signin.cookie(&id, max_age)) {
                Ok(cookie) => {
                    response.headers_mut().insert(header::SET_COOKIE, cookie);
                    response
                }
                Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad cookie").into_response(),
            }
        }
        Err(LoginRefusal::WrongCredentials) => (
            StatusCode::UNAUTHORIZED,
            Html(pages::login_page(
                &title,
                lang,
                &next,
                Some((Text::WrongCredentials, true)),
            )),
        )
            .into_response(),
        Err(LoginRefusal::TooManyAttempts(wait)) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().to_string())],
            Html(pages::login_page(
                &title,
                lang,
                &next,
                Some((Text::TooManyAttempts, true)),
            )),
        )
            .into_response(),
        Err(LoginRefusal::Failed(error)) => internal(&error),
    }
}

/// The logout form (its CSRF token was checked by the guard).
#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    lang: String,
}

/// `POST /logout`: ends the session, clears the cookie and shows the login page.
async fn logout(State(signin): State<Signin>, request: Request) -> Response {
    let id = signin.cookie_value(request.headers());
    let lang = match Form::<LogoutForm>::from_request(request).await {
        Ok(Form(form)) => Lang::or_default(Some(&form.lang)),
        Err(_) => Lang::default(),
    };
    if let Some(id) = id
        && let Err(error) = signin.sign_out(&id).await
    {
        return internal(&error);
    }
    let mut response = (
        StatusCode::OK,
        Html(pages::login_page(
            &signin.settings().title,
            lang,
            &signin.settings().home,
            Some((Text::SignedOut, false)),
        )),
    )
        .into_response();
    if let Ok(cookie) = HeaderValue::from_str(&signin.cookie("", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `Form::from_request` without naming the state type at each call.
trait FromPlainRequest: Sized {
    async fn from_request(
        request: Request,
    ) -> Result<Self, axum::extract::rejection::FormRejection>;
}

impl<T: serde::de::DeserializeOwned + Send> FromPlainRequest for Form<T> {
    async fn from_request(
        request: Request,
    ) -> Result<Self, axum::extract::rejection::FormRejection> {
        <Form<T> as axum::extract::FromRequest<()>>::from_request(request, &()).await
    }
}
