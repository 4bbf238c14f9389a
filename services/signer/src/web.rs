//! The signer's HTTP side: the person's pages (their keys; the request to sign, byte for
//! byte) in Kazakh, Russian or English, and the portal's JSON API (hand over a request, ask
//! its state). A form is accepted only with its one-time token.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use egov_core::envelope::sha256;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use crate::SignerError;
use crate::centre::{Applicant, CertificationCentre};
use crate::keyring::{Keyring, parse_iin};
use crate::requests::{NewRequest, Requests};

/// What the routes share.
#[derive(Clone)]
pub struct AppState {
    /// The kept keys.
    pub keyring: Keyring,
    /// The requests to sign.
    pub requests: Requests,
    /// Who certifies new keys.
    pub centre: Arc<dyn CertificationCentre>,
    /// The token the key form carries (one per process: the signer is the person's own).
    pub form_token: String,
    /// Validity of a certificate asked for, in days.
    pub certificate_days: u32,
}

/// Returns the signer's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(keys_page))
        .route("/keys", post(add_key))
        .route("/sign/{id}", get(sign_page).post(sign))
        .route("/api/requests", post(create_request))
        .route("/api/requests/{id}", get(request_state))
        .with_state(state)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    fn of(code: Option<&str>) -> Lang {
        match code {
            Some("kk") => Lang::Kk,
            Some("en") => Lang::En,
            _ => Lang::Ru,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    fn t(self, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Kk => kk,
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(lang: Lang, title: &str, path: &str, body: &str) -> Html<String> {
    let switch: String = [Lang::Kk, Lang::Ru, Lang::En]
        .iter()
        .map(|l| {
            format!(
                r#"<a href="{path}?lang={code}" id="lang-{code}">{code}</a> "#,
                code = l.code()
            )
        })
        .collect();
    Html(format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:0 auto;max-width:52rem;padding:1rem}}pre{{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem;font-size:.8rem}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.3rem;text-align:left;word-break:break-all}}.error{{color:#a00}}button{{padding:.5rem 1rem;margin:.3rem 0}}input,select{{padding:.4rem;max-width:100%}}</style></head>
<body><nav>{switch}</nav><h1>{title}</h1>{body}</body></html>"#,
        lang = lang.code(),
        title = escape(title),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
    error: Option<String>,
}

async fn keys_page(State(state): State<AppState>, Query(query): Query<LangQuery>) -> Html<String> {
    let lang = Lang::of(query.lang.as_deref());
    let rows: String = state
        .keyring
        .keys()
        .iter()
        .map(|key| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&key.iin),
                escape(&key.certificate.common_name),
                escape(&key.certificate.serial),
                key.certificate
                    .not_after
                    .format(&Rfc3339)
                    .unwrap_or_default()
            )
        })
        .collect();
    let error = query
        .error
        .map(|e| format!(r#"<p class="error" id="error">{}</p>"#, escape(&e)))
        .unwrap_or_default();
    let body = format!(
        r#"<p>{intro}</p><table id="keys"><tr><th>{iin}</th><th>{holder}</th><th>{serial}</th><th>{until}</th></tr>{rows}</table>
<h2>{new}</h2>{error}<form method="post" action="/keys"><input type="hidden" name="token" value="{token}"><input type="hidden" name="lang" value="{code}">
<p><label>{iin}<br><input name="iin" id="iin" inputmode="numeric" maxlength="12" required></label></p>
<p><label>{surname}<br><input name="surname" id="surname" required maxlength="100"></label></p>
<p><label>{given}<br><input name="given_name" id="given_name" required maxlength="100"></label></p>
<button type="submit" id="get-certificate">{get}</button></form>"#,
        intro = lang.t(
            "Кілттер осы жерде жасалады және сақталады; куәландырушы орталық тек ашық кілтті көреді.",
            "Ключи создаются и хранятся здесь; удостоверяющий центр видит только открытый ключ.",
            "Keys are made and kept here; the certification centre sees only the public key."
        ),
        iin = lang.t("ЖСН", "ИИН", "IIN"),
        holder = lang.t("Иесі", "Владелец", "Holder"),
        serial = lang.t("Сериялық нөмір", "Серийный номер", "Serial"),
        until = lang.t("Жарамды мерзімі", "Действует до", "Valid until"),
        new = lang.t("Жаңа ЭЦҚ кілті", "Новый ключ ЭЦП", "New EDS key"),
        surname = lang.t("Тегі", "Фамилия", "Surname"),
        given = lang.t("Аты", "Имя", "Given name"),
        get = lang.t("Куәлік алу", "Получить сертификат", "Get a certificate"),
        token = state.form_token,
        code = lang.code(),
    );
    page(
        lang,
        lang.t("ЭЦҚ қол қою құралы", "Средство подписи ЭЦП", "EDS signer"),
        "/",
        &body,
    )
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    token: String,
    #[serde(default)]
    lang: String,
    iin: String,
    surname: String,
    given_name: String,
}

fn name(field: &'static str, text: &str) -> Result<String, SignerError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(SignerError::InvalidName(field));
    }
    Ok(text.to_owned())
}

async fn add_key(State(state): State<AppState>, Form(form): Form<KeyForm>) -> Response {
    if form.token != state.form_token {
        return (
            StatusCode::FORBIDDEN,
            "form refused: its token is missing or wrong",
        )
            .into_response();
    }
    let lang = Lang::of(Some(&form.lang));
    let applicant = match (|| {
        Ok::<_, SignerError>(Applicant {
            iin: parse_iin(&form.iin)?,
            surname: name("surname", &form.surname)?,
            given_name: name("given_name", &form.given_name)?,
            days: state.certificate_days,
        })
    })() {
        Ok(applicant) => applicant,
        Err(error) => return back_with_error(lang, &error),
    };
    match state.keyring.enrol(state.centre.as_ref(), &applicant).await {
        Ok(key) => {
            tracing::info!(iin = %key.iin, serial = %key.certificate.serial, "key made and certified");
            Redirect::to(&format!("/?lang={}", lang.code())).into_response()
        }
        Err(error) => back_with_error(lang, &error),
    }
}

fn back_with_error(lang: Lang, error: &SignerError) -> Response {
    let encoded: String = error
        .to_string()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    Redirect::to(&format!("/?lang={}&error={encoded}", lang.code())).into_response()
}

async fn sign_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = Lang::of(query.lang.as_deref());
    let pending = match state.requests.get(&id).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such request to sign").into_response(),
        Err(error) => return store_failed(&error),
    };
    let header = &pending.decoded;
    let options: String = state
        .keyring
        .keys()
        .iter()
        .map(|key| {
            let selected = if key.iin == header.user_iin {
                " selected"
            } else {
                ""
            };
            format!(
                r#"<option value="{iin}"{selected}>{iin} — {cn}</option>"#,
                iin = escape(&key.iin),
                cn = escape(&key.certificate.common_name)
            )
        })
        .collect();
    let time = header
        .message_time
        .as_ref()
        .and_then(egov_core::envelope::from_timestamp)
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default();
    let rows = [
        (lang.t("Қызмет", "Услуга", "Service"), pending.title.clone()),
        ("service_id", header.service_id.clone()),
        ("message_id", header.message_id.clone()),
        (
            "sender → receiver",
            format!(
                "{} → {}",
                header.sender_system_id, header.receiver_system_id
            ),
        ),
        ("user_iin", header.user_iin.clone()),
        ("message_time", time),
        ("SHA-256 header", hex::encode(sha256(&pending.header))),
        ("SHA-256 payload", hex::encode(sha256(&pending.payload))),
    ]
    .iter()
    .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)))
    .collect::<String>();
    let done = pending.signature.is_some() || pending.declined;
    let form = if done {
        format!(
            "<p>{}</p>",
            lang.t(
                "Сұраныс өңделді.",
                "Запрос уже обработан.",
                "The request was handled."
            )
        )
    } else if options.is_empty() {
        format!(
            r#"<p class="error">{}</p><p><a href="/?lang={}">{}</a></p>"#,
            lang.t("Кілт жоқ.", "Нет ключей.", "No keys yet."),
            lang.code(),
            lang.t("Кілт алу", "Получить ключ", "Get a key")
        )
    } else {
        format!(
            r#"<form method="post" action="/sign/{id}"><input type="hidden" name="nonce" value="{nonce}"><input type="hidden" name="lang" value="{code}">
<p><label>{choose}<br><select name="iin" id="key">{options}</select></label></p>
<button type="submit" name="action" value="sign" id="sign">{sign}</button> <button type="submit" name="action" value="decline" id="decline">{decline}</button></form>"#,
            id = escape(&id),
            nonce = pending.nonce,
            code = lang.code(),
            choose = lang.t(
                "ЭЦҚ кілтін таңдаңыз",
                "Выберите ключ ЭЦП",
                "Pick an EDS key"
            ),
            sign = lang.t("Қол қою", "Подписать", "Sign"),
            decline = lang.t("Бас тарту", "Отказаться", "Decline"),
        )
    };
    let body = format!(
        r#"<p>{what}</p><table id="request">{rows}</table><h2>{payload}</h2><pre id="payload-hex">{payload_hex}</pre><h2>{header_title}</h2><pre id="header-hex">{header_hex}</pre>{form}"#,
        what = lang.t(
            "Портал дайындаған сұраныстың дәл байттары төменде. Қол қойылғаннан кейін порталға тек қолтаңба қайтарылады.",
            "Ниже точные байты запроса, подготовленного порталом. После подписи порталу возвращается только подпись.",
            "Below are the exact bytes of the request the portal prepared. Once signed, only the signature goes back to the portal."
        ),
        payload = lang.t("Деректер (payload)", "Данные (payload)", "Payload"),
        header_title = lang.t("Тақырып (header)", "Заголовок (header)", "Header"),
        payload_hex = hex::encode(&pending.payload),
        header_hex = hex::encode(&pending.header),
    );
    page(
        lang,
        lang.t(
            "Сұранысқа қол қою",
            "Подписание запроса",
            "Sign the request",
        ),
        &format!("/sign/{id}"),
        &body,
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct SignForm {
    nonce: String,
    #[serde(default)]
    iin: String,
    action: String,
}

async fn sign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<SignForm>,
) -> Response {
    let pending = match state.requests.get(&id).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such request to sign").into_response(),
        Err(error) => return store_failed(&error),
    };
    if form.nonce != pending.nonce {
        return (
            StatusCode::FORBIDDEN,
            "form refused: its token is missing or wrong",
        )
            .into_response();
    }
    let outcome = if form.action == "decline" {
        state.requests.declined(&id).await
    } else {
        match state
            .keyring
            .sign(&form.iin, &pending.header, &pending.payload)
        {
            Ok(signature) => state.requests.signed(&id, signature).await,
            Err(error) => Err(error),
        }
    };
    match outcome {
        Ok(()) => Redirect::to(&pending.return_url).into_response(),
        Err(error @ (SignerError::Database(_) | SignerError::Corrupt(_))) => store_failed(&error),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}

/// Answers 500 for a failure of the kept requests, logged here; the person learns only that.
fn store_failed(error: &SignerError) -> Response {
    tracing::error!(%error, source = ?std::error::Error::source(error), "request store failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the signer could not read or write its requests",
    )
        .into_response()
}

async fn create_request(
    State(state): State<AppState>,
    Json(request): Json<NewRequest>,
) -> Response {
    match state.requests.create(request).await {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(error @ SignerError::BadRequest(_)) => {
            (StatusCode::BAD_REQUEST, error.to_string()).into_response()
        }
        Err(error) => store_failed(&error),
    }
}

async fn request_state(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.requests.state(&id).await {
        Ok(Some(found)) => Json(found).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such request").into_response(),
        Err(error) => store_failed(&error),
    }
}
