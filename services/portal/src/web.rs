//! The portal's pages (FLOWS.md, common portal flow): the catalogue, registration with IIN
//! and password, the request form of each service, the hand-over to the external signer and
//! back, and the personal cabinet ("history of services") with each request's statuses and
//! its result with the check of the provider's signature. Sign-in, sessions, CSRF and the
//! login limits are egov-signin's: the login is the IIN.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use egov_core::Iin;
use egov_core::clock::Clock;
use egov_proto::v1::{FormFieldKind, GetPersonRequest, GetPersonResponse};
use egov_signin::{CSRF_FIELD, LOGOUT_PATH, SignedIn, Signin};
use egov_system::GatewayCaller;
use serde::Deserialize;
use serde_json::json;

use crate::PortalError;
use crate::catalogue::{asked_on_portal, portal_service, portal_services};
use crate::filing::{Filing, Prepared, prepare, target_of};
use crate::form::{ALLOWED_TYPES, APPLICATION_DOCUMENT, Submitted, check};
use crate::signer_client::{Outcome, SignerClient};
use crate::store::{
    NotificationRow, RequestRow, STATE_AWAITING_SIGNATURE, STATE_REFUSED, STATE_REGISTERED, Store,
};
use crate::text::{Lang, eds_not_confirmed, escape, pick, t};

/// The role every citizen's account has.
pub const CITIZEN_ROLE: &str = "citizen";

/// The cabinet as JSON for its signed-in citizen (`?number=` narrows it to one request).
pub const CABINET_API_PATH: &str = "/api/cabinet";

/// The prefix of a refusal of condition 2, as the store keeps it.
const EDS_REFUSAL: &str = "eds: ";

/// What the pages share.
#[derive(Clone)]
pub struct AppState {
    /// The requests and notifications.
    pub store: Store,
    /// Accounts and sessions.
    pub signin: Signin,
    /// Calls through the gateway as the portal.
    pub caller: GatewayCaller,
    /// Condition 2 and process 5.
    pub filing: Filing,
    /// The external signer.
    pub signer: SignerClient,
    /// The portal's public address.
    pub public_url: String,
    /// The largest upload.
    pub max_upload_bytes: usize,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
}

/// Returns the portal's routes: the public pages, and the rest behind sign-in.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/cabinet", get(cabinet))
        .route(CABINET_API_PATH, get(cabinet_json))
        .route("/services/{code}", get(service_form))
        .route("/api/services/{code}/requests", post(create_request))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/signed", get(signed))
        .with_state(state.clone());
    let public = Router::new()
        .route("/", get(home))
        .route("/register", get(register_page).post(register))
        .with_state(state.clone());
    public.merge(state.signin.protect(protected))
}

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        Lang::or_default(self.lang.as_deref())
    }
}

fn page(lang: Lang, title: &str, path: &str, body: &str, who: Option<&SignedIn>) -> Html<String> {
    let code = lang.code();
    let switch: String = Lang::ALL
        .iter()
        .map(|l| {
            format!(
                r#"<a href="{path}?lang={c}" id="lang-{c}" lang="{c}">{c}</a> "#,
                c = l.code(),
            )
        })
        .collect();
    let account = match who {
        Some(signed_in) => format!(
            r#"<a href="/cabinet?lang={code}" id="cabinet-link">{cabinet}</a> <span id="who">{name}</span>
<form method="post" action="{LOGOUT_PATH}" class="inline"><input type="hidden" name="{CSRF_FIELD}" value="{csrf}"><input type="hidden" name="lang" value="{code}"><button type="submit" id="logout">{out}</button></form>"#,
            cabinet = t(lang, "Жеке кабинет", "Личный кабинет", "Personal cabinet"),
            name = escape(&signed_in.person.name),
            csrf = escape(&signed_in.csrf),
            out = t(lang, "Шығу", "Выйти", "Sign out"),
        ),
        None => format!(
            r#"<a href="/login?lang={code}&next=/cabinet" id="login-link">{login}</a> <a href="/register?lang={code}" id="register-link">{register}</a>"#,
            login = t(lang, "Кіру", "Войти", "Sign in"),
            register = t(lang, "Тіркелу", "Регистрация", "Register"),
        ),
    };
    Html(format!(
        r#"<!doctype html><html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:0 auto;max-width:60rem;padding:.8rem;line-height:1.4}}header{{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;justify-content:space-between;border-bottom:2px solid #1d6fa5;padding-bottom:.4rem}}
.inline{{display:inline}}label{{display:block;margin:.6rem 0 .2rem}}input,select,button{{font-size:1rem;padding:.45rem;max-width:100%;box-sizing:border-box}}input[type=text],input[type=password],input:not([type]){{width:100%}}
.error{{color:#b00020;display:block}}.refusal{{background:#fde8ea;border-left:4px solid #b00020;padding:.6rem}}.ok{{background:#e7f6ea;border-left:4px solid #2e7d32;padding:.6rem}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.35rem;text-align:left;vertical-align:top;word-break:break-word}}@media (max-width:40rem){{table,tr,td,th{{display:block}}th{{background:#eee}}}}</style></head>
<body><header><a href="/?lang={code}"><strong>egov.kz</strong></a><nav>{switch}</nav><div>{account}</div></header><main><h1>{title}</h1>{body}</main></body></html>"#,
        title = escape(title),
    ))
}

fn not_found(lang: Lang, who: Option<&SignedIn>) -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            lang,
            t(lang, "Табылмады", "Не найдено", "Not found"),
            "/",
            &format!(
                r#"<p id="not-found">{}</p>"#,
                t(
                    lang,
                    "Мұндай өтініш табылмады.",
                    "Такая заявка не найдена.",
                    "No such request was found."
                )
            ),
            who,
        ),
    )
        .into_response()
}

fn failed(lang: Lang, error: &PortalError) -> Response {
    tracing::warn!(%error, "portal page failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            lang,
            t(lang, "Қате", "Ошибка", "Error"),
            "/",
            &format!(
                r#"<p class="refusal" id="error">{}</p>"#,
                escape(&error.to_string())
            ),
            None,
        ),
    )
        .into_response()
}

async fn home(State(state): State<AppState>, Query(query): Query<LangQuery>) -> Response {
    let lang = query.lang();
    let services = match portal_services(&state.caller).await {
        Ok(services) => services,
        Err(error) => return failed(lang, &error),
    };
    let items: String = services
        .iter()
        .map(|service| {
            format!(
                r#"<li><a href="/services/{code}?lang={l}" id="service-{code}">{code}. {name}</a><br><small>{provider}</small></li>"#,
                code = escape(&service.code),
                l = lang.code(),
                name = escape(&pick(service.name.as_ref(), lang)),
                provider = escape(&pick(service.provider.as_ref(), lang)),
            )
        })
        .collect();
    page(
        lang,
        t(
            lang,
            "Мемлекеттік қызметтер",
            "Государственные услуги",
            "Public services",
        ),
        "/",
        &format!(r#"<ul id="catalogue">{items}</ul>"#),
        None,
    )
    .into_response()
}

fn register_body(lang: Lang, error: Option<(&str, String)>, iin: &str) -> String {
    let message = |key: &str| match &error {
        Some((k, m)) if *k == key => format!(
            r#"<span class="error" id="error-{key}">{}</span>"#,
            escape(m)
        ),
        _ => String::new(),
    };
    format!(
        r#"<form method="post" action="/register"><input type="hidden" name="lang" value="{code}">
<label for="iin">{iin_label}</label><input id="iin" name="iin" inputmode="numeric" maxlength="12" value="{iin}" required>{e_iin}
<label for="password">{pw}</label><input id="password" name="password" type="password" required>{e_pw}
<label for="password2">{pw2}</label><input id="password2" name="password2" type="password" required>{e_pw2}
<p><button type="submit" id="register">{go}</button></p>{e_form}</form>"#,
        code = lang.code(),
        iin_label = t(lang, "ЖСН", "ИИН", "IIN"),
        iin = escape(iin),
        pw = t(
            lang,
            "Құпиясөз (кемінде 10 таңба)",
            "Пароль (не менее 10 символов)",
            "Password (at least 10 characters)"
        ),
        pw2 = t(
            lang,
            "Құпиясөзді қайталаңыз",
            "Повторите пароль",
            "Repeat the password"
        ),
        go = t(lang, "Тіркелу", "Зарегистрироваться", "Register"),
        e_iin = message("iin"),
        e_pw = message("password"),
        e_pw2 = message("password2"),
        e_form = message("form"),
    )
}

async fn register_page(Query(query): Query<LangQuery>) -> Html<String> {
    let lang = query.lang();
    page(
        lang,
        t(
            lang,
            "Порталда тіркелу",
            "Регистрация на портале",
            "Register on the portal",
        ),
        "/register",
        &register_body(lang, None, ""),
        None,
    )
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    lang: String,
    iin: String,
    password: String,
    password2: String,
}

async fn register(State(state): State<AppState>, Form(form): Form<RegisterForm>) -> Response {
    let lang = Lang::or_default(Some(&form.lang));
    let title = t(
        lang,
        "Порталда тіркелу",
        "Регистрация на портале",
        "Register on the portal",
    );
    let refuse = |key: &'static str, message: String| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                lang,
                title,
                "/register",
                &register_body(lang, Some((key, message)), &form.iin),
                None,
            ),
        )
            .into_response()
    };
    let Ok(iin) = Iin::parse(form.iin.trim()) else {
        return refuse(
            "iin",
            t(
                lang,
                "ЖСН 12 цифрдан тұрады және бақылау саны дұрыс болуы керек",
                "ИИН должен состоять из 12 цифр с верной контрольной цифрой",
                "An IIN is 12 digits with a valid check digit",
            )
            .to_owned(),
        );
    };
    if egov_signin::password::check(&form.password).is_err() {
        return refuse(
            "password",
            t(
                lang,
                "Құпиясөз кемінде 10 таңбадан тұрады",
                "Пароль должен содержать не менее 10 символов",
                "The password needs at least 10 characters",
            )
            .to_owned(),
        );
    }
    if form.password != form.password2 {
        return refuse(
            "password2",
            t(
                lang,
                "Құпиясөздер сәйкес келмейді",
                "Пароли не совпадают",
                "The passwords differ",
            )
            .to_owned(),
        );
    }
    match state.signin.has_account(iin.as_str()).await {
        Ok(false) => {}
        Ok(true) => {
            return refuse(
                "iin",
                t(
                    lang,
                    "Бұл ЖСН тіркелген",
                    "Этот ИИН уже зарегистрирован",
                    "This IIN is already registered",
                )
                .to_owned(),
            );
        }
        Err(error) => return failed(lang, &PortalError::Signin(error.to_string())),
    }
    // The person must exist in the citizens-DB (ГБД ФЛ), asked through the gateway.
    let asked = state
        .caller
        .call::<GetPersonRequest, GetPersonResponse>(
            "citizens.person.get",
            egov_core::systems::CITIZENS.id,
            &GetPersonRequest {
                iin: iin.to_string(),
            },
        )
        .await;
    let person = match asked {
        Ok(GetPersonResponse {
            person: Some(person),
        }) => person,
        Ok(_) | Err(_) => {
            return refuse(
                "iin",
                t(
                    lang,
                    "Бұл ЖСН жеке тұлғалардың мемлекеттік дерекқорында жоқ",
                    "Этого ИИН нет в государственной базе данных физических лиц",
                    "This IIN is not in the state database of individuals",
                )
                .to_owned(),
            );
        }
    };
    let name = format!("{} {} {}", person.surname, person.name, person.patronymic);
    match state
        .signin
        .add_account(
            iin.as_str(),
            name.trim(),
            &[CITIZEN_ROLE.to_owned()],
            &form.password,
        )
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/login?lang={}&next=/cabinet", lang.code())).into_response()
        }
        Err(error) => refuse("form", error.to_string()),
    }
}

async fn service_form(
    State(state): State<AppState>,
    who: SignedIn,
    Path(code): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let service = match portal_service(&state.caller, &code).await {
        Ok(service) => service,
        Err(PortalError::UnknownService(_)) => {
            return (
                StatusCode::NOT_FOUND,
                page(
                    lang,
                    t(
                        lang,
                        "Белгісіз қызмет",
                        "Неизвестная услуга",
                        "Unknown service",
                    ),
                    "/",
                    &format!(
                        r#"<p class="refusal" id="unknown-service">{}</p>"#,
                        t(
                            lang,
                            "Порталда мұндай қызмет жоқ.",
                            "На портале нет такой услуги.",
                            "The portal offers no such service."
                        )
                    ),
                    Some(&who),
                ),
            )
                .into_response();
        }
        Err(error) => return failed(lang, &error),
    };
    let fields: String = service
        .fields
        .iter()
        .map(|field| {
            let label = escape(&pick(field.name.as_ref(), lang));
            let required = if field.required { " required" } else { "" };
            let input = match field.kind() {
                FormFieldKind::Boolean => format!(
                    r#"<label><input type="checkbox" data-field name="{c}" id="field-{c}" value="true"> {label}</label>"#,
                    c = escape(&field.code)
                ),
                FormFieldKind::Date => format!(
                    r#"<label for="field-{c}">{label}</label><input type="date" data-field name="{c}" id="field-{c}"{required}>"#,
                    c = escape(&field.code)
                ),
                FormFieldKind::Iin => format!(
                    r#"<label for="field-{c}">{label}</label><input data-field name="{c}" id="field-{c}" inputmode="numeric" maxlength="12"{required}>"#,
                    c = escape(&field.code)
                ),
                _ => format!(
                    r#"<label for="field-{c}">{label}</label><input data-field name="{c}" id="field-{c}"{required}>"#,
                    c = escape(&field.code)
                ),
            };
            format!(r#"{input}<span class="error" id="error-field-{}"></span>"#, escape(&field.code))
        })
        .collect();
    let documents: String = service
        .documents
        .iter()
        .filter(|document| asked_on_portal(document) && document.code != APPLICATION_DOCUMENT)
        .map(|document| {
            format!(
                r#"<label for="doc-{c}">{name}{star}</label><input type="file" id="doc-{c}" data-doc="{c}" accept="{accept}"><span class="error" id="error-doc-{c}"></span>"#,
                c = escape(&document.code),
                name = escape(&pick(document.name.as_ref(), lang)),
                star = if document.required { " *" } else { "" },
                accept = ALLOWED_TYPES.join(","),
            )
        })
        .collect();
    let documents = if documents.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>{}</h2>{documents}",
            t(
                lang,
                "Құжаттар (Стандарттың 9-тармағы)",
                "Документы (пункт 9 стандарта)",
                "Documents (Standard item 9)"
            )
        )
    };
    let body = format!(
        r#"<p>{provider}</p><form id="request-form" action="/api/services/{code}/requests?lang={l}" data-csrf="{csrf}">{fields}{documents}
<h2>{repr}</h2><p><small>{repr_hint}</small></p>
<label for="principal_iin">{principal}</label><input id="principal_iin" name="principal_iin" inputmode="numeric" maxlength="12"><span class="error" id="error-principal_iin"></span>
<label for="power_of_attorney_number">{poa}</label><input id="power_of_attorney_number" name="power_of_attorney_number" maxlength="64"><span class="error" id="error-power_of_attorney_number"></span>
<p><button type="submit" id="submit">{submit}</button></p><span class="error" id="error-form"></span></form>
<script>
document.getElementById('request-form').addEventListener('submit', async (event) => {{
  event.preventDefault();
  const form = event.target; const button = document.getElementById('submit'); button.disabled = true;
  document.querySelectorAll('.error').forEach((el) => {{ el.textContent = ''; }});
  const body = {{ fields: {{}}, documents: [], principal_iin: form.principal_iin.value, power_of_attorney_number: form.power_of_attorney_number.value }};
  for (const el of form.querySelectorAll('[data-field]')) {{ body.fields[el.name] = el.type === 'checkbox' ? (el.checked ? 'true' : 'false') : el.value; }}
  for (const el of form.querySelectorAll('input[type=file]')) {{
    const file = el.files[0]; if (!file) continue;
    const bytes = new Uint8Array(await file.arrayBuffer()); const hex = [];
    for (const b of bytes) hex.push(b.toString(16).padStart(2, '0'));
    body.documents.push({{ kind: el.dataset.doc, file_name: file.name, content_type: file.type, content_hex: hex.join('') }});
  }}
  const answer = await fetch(form.action, {{ method: 'POST', headers: {{ 'content-type': 'application/json', 'x-csrf-token': form.dataset.csrf }}, body: JSON.stringify(body) }});
  const json = await answer.json().catch(() => ({{ errors: {{ form: String(answer.status) }} }}));
  if (json.redirect) {{ window.location = json.redirect; return; }}
  for (const [key, message] of Object.entries(json.errors || {{}})) {{
    const el = document.getElementById('error-' + key.replace(':', '-')) || document.getElementById('error-form');
    el.textContent = message;
  }}
  button.disabled = false;
}});
</script>"#,
        provider = escape(&pick(service.provider.as_ref(), lang)),
        code = escape(&service.code),
        l = lang.code(),
        csrf = escape(&who.csrf),
        repr = t(lang, "Өкіл", "Представитель", "Representative"),
        repr_hint = t(
            lang,
            "Басқа адамның атынан нотариат куәландырған сенімхат бойынша берсеңіз ғана толтырыңыз.",
            "Заполните, только если подаёте за другого человека по нотариальной доверенности.",
            "Fill in only when you file for another person by a notarised power of attorney."
        ),
        principal = t(
            lang,
            "Сенім білдірушінің ЖСН",
            "ИИН доверителя",
            "Principal's IIN"
        ),
        poa = t(
            lang,
            "Сенімхаттың нөмірі",
            "Номер доверенности",
            "Power of attorney number"
        ),
        submit = t(
            lang,
            "ЭЦҚ-мен қол қоюға жіберу",
            "Перейти к подписанию ЭЦП",
            "Go to EDS signing"
        ),
    );
    page(
        lang,
        &pick(service.name.as_ref(), lang),
        &format!("/services/{}", service.code),
        &body,
        Some(&who),
    )
    .into_response()
}

fn json_errors(status: StatusCode, errors: serde_json::Value) -> Response {
    (status, Json(json!({ "errors": errors }))).into_response()
}

async fn create_request(
    State(state): State<AppState>,
    who: SignedIn,
    Path(code): Path<String>,
    Query(query): Query<LangQuery>,
    Json(submitted): Json<Submitted>,
) -> Response {
    let lang = query.lang();
    let service = match portal_service(&state.caller, &code).await {
        Ok(service) => service,
        Err(PortalError::UnknownService(_)) => {
            return json_errors(
                StatusCode::NOT_FOUND,
                json!({ "form": t(lang, "Белгісіз қызмет", "Неизвестная услуга", "Unknown service") }),
            );
        }
        Err(error) => {
            return json_errors(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "form": error.to_string() }),
            );
        }
    };
    let Some(target) = target_of(&service.code) else {
        return json_errors(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "form": t(lang, "Бұл қызмет порталда әлі берілмейді", "Эта услуга пока не подаётся через портал", "This service is not filed on the portal yet") }),
        );
    };
    let Ok(filer) = Iin::parse(&who.person.login) else {
        return json_errors(
            StatusCode::FORBIDDEN,
            json!({ "form": "not a citizen's account" }),
        );
    };
    let now = state.clock.now();
    let application = match check(
        &service,
        &submitted,
        &filer,
        state.max_upload_bytes,
        now,
        lang,
    ) {
        Ok(application) => application,
        Err(errors) => return json_errors(StatusCode::UNPROCESSABLE_ENTITY, json!(errors)),
    };
    let recipient = application.recipient_iin.clone();
    let prepared = prepare(&state.caller, target, application, filer.as_str());
    let id = match egov_signin::secret::random_hex(16) {
        Ok(id) => id,
        Err(error) => {
            return json_errors(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "form": error.to_string() }),
            );
        }
    };
    let return_url = format!(
        "{}/requests/{id}/signed?lang={}",
        state.public_url,
        lang.code()
    );
    let title = format!("{}. {}", service.code, pick(service.name.as_ref(), lang));
    // Handed over first: nothing is kept if the signer cannot take it.
    let (signer_id, sign_url) = match state
        .signer
        .hand_over(&prepared.header, &prepared.payload, &return_url, &title)
        .await
    {
        Ok(handed) => handed,
        Err(error) => {
            return json_errors(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "form": error.to_string() }),
            );
        }
    };
    let row = RequestRow {
        id: id.clone(),
        recipient_iin: recipient,
        filer_iin: filer.to_string(),
        service_code: service.code.clone(),
        state: STATE_AWAITING_SIGNATURE.to_owned(),
        header_hex: hex::encode(&prepared.header),
        payload_hex: hex::encode(&prepared.payload),
        signer_request_id: signer_id,
        registration_number: String::new(),
        due_at: String::new(),
        refusal: String::new(),
        created_at: now.unix_timestamp(),
        queue_position: None,
    };
    if let Err(error) = state.store.insert_request(&row).await {
        return json_errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "form": error.to_string() }),
        );
    }
    Json(json!({ "id": id, "redirect": format!("{sign_url}?lang={}", lang.code()) }))
        .into_response()
}

/// The request of `id` if `who` may see it: its recipient, or who filed it.
async fn visible(
    state: &AppState,
    id: &str,
    who: &SignedIn,
) -> Result<Option<RequestRow>, PortalError> {
    Ok(state
        .store
        .request(id)
        .await?
        .filter(|row| row.recipient_iin == who.person.login || row.filer_iin == who.person.login))
}

async fn signed(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let back = Redirect::to(&format!("/requests/{id}?lang={}", lang.code())).into_response();
    let row = match visible(&state, &id, &who).await {
        Ok(Some(row)) if row.filer_iin == who.person.login => row,
        Ok(_) => return not_found(lang, Some(&who)),
        Err(error) => return failed(lang, &error),
    };
    if row.state != STATE_AWAITING_SIGNATURE {
        // A second return (reload, double submit) changes nothing.
        return back;
    }
    let (Ok(header), Ok(payload)) = (hex::decode(&row.header_hex), hex::decode(&row.payload_hex))
    else {
        return failed(
            lang,
            &PortalError::Signer("stored request is not hex".into()),
        );
    };
    let prepared = Prepared { header, payload };
    let outcome = match state.signer.outcome(&row.signer_request_id).await {
        Ok(outcome) => outcome,
        Err(error) => return failed(lang, &error),
    };
    let settled = match outcome {
        Outcome::Waiting => return back,
        Outcome::Declined => {
            state
                .store
                .settle(&id, STATE_REFUSED, "", "", "declined in the signer", None)
                .await
        }
        Outcome::Signed(signature) => match state.filing.condition_2(&prepared, signature).await {
            Err(PortalError::EdsNotConfirmed(reason)) => {
                tracing::info!(request = %id, %reason, "EDS authenticity not confirmed");
                state
                    .store
                    .settle(
                        &id,
                        STATE_REFUSED,
                        "",
                        "",
                        &format!("{EDS_REFUSAL}{reason}"),
                        None,
                    )
                    .await
            }
            Err(error) => return failed(lang, &error),
            Ok(envelope) => match state.filing.send(envelope).await {
                Ok(filed) => {
                    let registered = &filed.registered;
                    let due = registered
                        .due_at
                        .as_ref()
                        .and_then(egov_core::envelope::from_timestamp)
                        .and_then(|at| {
                            at.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_default();
                    state
                        .store
                        .settle(
                            &id,
                            STATE_REGISTERED,
                            &registered.registration_number,
                            &due,
                            "",
                            filed.queue_position,
                        )
                        .await
                }
                Err(error) => {
                    state
                        .store
                        .settle(&id, STATE_REFUSED, "", "", &error.to_string(), None)
                        .await
                }
            },
        },
    };
    if let Err(error) = settled {
        return failed(lang, &error);
    }
    back
}

fn state_text(lang: Lang, state: &str) -> &'static str {
    match state {
        STATE_AWAITING_SIGNATURE => t(
            lang,
            "Қол қоюды күтуде",
            "Ожидает подписи",
            "Awaiting signature",
        ),
        STATE_REGISTERED => t(lang, "Тіркелді", "Зарегистрирована", "Registered"),
        _ => t(lang, "Бас тартылды", "Отказано", "Refused"),
    }
}

fn status_text(lang: Lang, status: &str) -> String {
    match status {
        "registered" => t(
            lang,
            "Тіркелді, қызмет көрсету мерзімі белгіленді",
            "Зарегистрирована, срок оказания услуги установлен",
            "Registered, with the term of the service",
        ),
        "in_progress" => t(lang, "Орындалуда", "В работе", "In progress"),
        "issued" => t(lang, "Нәтиже дайын", "Результат готов", "Result ready"),
        "referral_issued" => t(
            lang,
            "Жолдама берілді",
            "Выдано направление",
            "Referral issued",
        ),
        other => return escape(other),
    }
    .to_owned()
}

/// The number a request shows, escaped: its registration number (for service D, the queue
/// register's, under which the result and a later referral come); a child queued without a
/// free place shows beside it its position in the queue at placement, and a request settled
/// before the register sent its number shows only that position.
fn number_text(lang: Lang, row: &RequestRow) -> String {
    let number = escape(&row.registration_number);
    let Some(position) = row.queue_position else {
        return number;
    };
    let place = format!(
        "{} {position}",
        t(
            lang,
            "Кезектегі орны (кезекке қойылғанда):",
            "Место в очереди (при постановке):",
            "Place in the queue (when queued):"
        )
    );
    if number.is_empty() {
        place
    } else {
        format!("{number} ({place})")
    }
}

async fn cabinet(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let rows = match state.store.requests_of(&who.person.login).await {
        Ok(rows) => rows,
        Err(error) => return failed(lang, &error),
    };
    let mut items = String::new();
    for row in &rows {
        let latest = match state.store.notifications(&row.registration_number).await {
            Ok(list) if !row.registration_number.is_empty() => list
                .last()
                .map(|n| status_text(lang, &n.status))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let for_whom = if row.filer_iin != row.recipient_iin {
            format!(
                "<br><small>{} {} → {}</small>",
                t(
                    lang,
                    "Сенімхат бойынша:",
                    "По доверенности:",
                    "By power of attorney:"
                ),
                escape(&row.filer_iin),
                escape(&row.recipient_iin)
            )
        } else {
            String::new()
        };
        items.push_str(&format!(
            r#"<tr class="request"><td><a href="/requests/{id}?lang={l}">{code}</a></td><td>{number}</td><td class="state">{state}</td><td class="status">{latest}{for_whom}</td></tr>"#,
            id = escape(&row.id),
            l = lang.code(),
            code = escape(&row.service_code),
            number = number_text(lang, row),
            state = state_text(lang, &row.state),
        ));
    }
    let body = format!(
        r#"<p><a href="/?lang={l}" id="catalogue-link">{catalogue}</a></p><h2>{history}</h2><table id="history"><tr><th>{service}</th><th>{number}</th><th>{state}</th><th>{status}</th></tr>{items}</table>"#,
        l = lang.code(),
        catalogue = t(
            lang,
            "Қызметтер каталогы",
            "Каталог услуг",
            "Catalogue of services"
        ),
        history = t(
            lang,
            "Қызметтер тарихы",
            "История услуг",
            "History of services"
        ),
        service = t(lang, "Қызмет", "Услуга", "Service"),
        number = t(
            lang,
            "Тіркеу нөмірі",
            "Регистрационный номер",
            "Registration number"
        ),
        state = t(lang, "Күйі", "Состояние", "State"),
        status = t(
            lang,
            "Соңғы хабарлама",
            "Последнее уведомление",
            "Latest notification"
        ),
    );
    page(
        lang,
        t(lang, "Жеке кабинет", "Личный кабинет", "Personal cabinet"),
        "/cabinet",
        &body,
        Some(&who),
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct CabinetQuery {
    number: Option<String>,
}

/// Returns one notification as the cabinet's JSON shows it.
fn notification_json(row: &NotificationRow) -> serde_json::Value {
    let fields: serde_json::Value =
        serde_json::from_str(&row.fields_json).unwrap_or_else(|_| json!({}));
    // received_at is kept in microseconds since the epoch.
    let received_at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.received_at) * 1_000)
            .ok()
            .and_then(|at| {
                at.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
    json!({
        "registration_number": row.registration_number,
        "status": row.status,
        "kind": row.kind,
        "text": row.text,
        "fields": fields,
        "signer_subject": row.signer_subject,
        "signer_iin": row.signer_iin,
        "signer_bin": row.signer_bin,
        "signer_serial": row.signer_serial,
        // The receiver keeps only what passed the signature check (chain, validity,
        // revocation) and records the certificate it held for: a row without one was not.
        "signature_verified": !row.signer_serial.is_empty(),
        "received_at": received_at,
    })
}

/// `GET /api/cabinet[?number=…]`: the signed-in citizen's notifications, oldest first; only
/// their own, whatever number is asked.
async fn cabinet_json(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<CabinetQuery>,
) -> Response {
    let number = query.number.as_deref().filter(|number| !number.is_empty());
    match state
        .store
        .notifications_of(&who.person.login, number)
        .await
    {
        Ok(rows) => Json(json!({
            "iin": who.person.login,
            "notifications": rows.iter().map(notification_json).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(error) => {
            tracing::warn!(%error, "cabinet read failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

async fn request_page(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let row = match visible(&state, &id, &who).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found(lang, Some(&who)),
        Err(error) => return failed(lang, &error),
    };
    let mut body = format!(
        r#"<table id="request"><tr><th>{service}</th><td>{code}</td></tr><tr><th>{state_label}</th><td id="state">{state}</td></tr><tr><th>{number_label}</th><td id="number">{number}</td></tr><tr><th>{due_label}</th><td>{due}</td></tr><tr><th>{recipient}</th><td>{recipient_iin}</td></tr><tr><th>{filer}</th><td>{filer_iin}</td></tr></table>"#,
        service = t(lang, "Қызмет", "Услуга", "Service"),
        code = escape(&row.service_code),
        state_label = t(lang, "Күйі", "Состояние", "State"),
        state = state_text(lang, &row.state),
        number_label = t(
            lang,
            "Тіркеу нөмірі",
            "Регистрационный номер",
            "Registration number"
        ),
        number = number_text(lang, &row),
        due_label = t(lang, "Мерзімі", "Срок", "Due"),
        due = escape(&row.due_at),
        recipient = t(lang, "Алушы", "Услугополучатель", "Recipient"),
        recipient_iin = escape(&row.recipient_iin),
        filer = t(lang, "Берген", "Подал", "Filed by"),
        filer_iin = escape(&row.filer_iin),
    );
    if row.state == STATE_REFUSED {
        let text = match row.refusal.strip_prefix(EDS_REFUSAL) {
            Some(reason) => format!("{} ({})", eds_not_confirmed(lang), reason),
            None => row.refusal.clone(),
        };
        body.push_str(&format!(
            r#"<p class="refusal" id="refusal">{}</p>"#,
            escape(&text)
        ));
    }
    if !row.registration_number.is_empty() {
        let notifications = match state.store.notifications(&row.registration_number).await {
            Ok(list) => list,
            Err(error) => return failed(lang, &error),
        };
        let items: String = notifications
            .iter()
            .map(|n| {
                format!(
                    r#"<tr class="notification"><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                    status_text(lang, &n.status),
                    escape(&n.text),
                    escape(&n.fields_json)
                )
            })
            .collect();
        body.push_str(&format!(
            r#"<h2>{}</h2><table id="notifications">{items}</table>"#,
            t(lang, "Хабарламалар", "Уведомления", "Notifications")
        ));
        if let Some(result) = notifications.iter().rev().find(|n| n.status == "issued") {
            body.push_str(&format!(
                r#"<h2>{title}</h2><div class="ok" id="result"><p><strong>{kind}</strong></p><p id="result-text">{text}</p>
<p id="signature-check">✓ {valid}<br>{by}: {subject}<br>{iin_l}: {iin} · {bin_l}: {bin}<br>{serial_l}: {serial} · {until_l}: {until}<br>{roles_l}: {roles}</p></div>"#,
                title = t(lang, "Нәтиже", "Результат", "Result"),
                kind = escape(&result.kind),
                text = escape(&result.text),
                valid = t(
                    lang,
                    "Қызмет берушінің ЭЦҚ-сы тексерілді: қолтаңба дұрыс, куәлік жарамды, кері қайтарылмаған, тізбегі ҰКО түбіріне дейін сенімді",
                    "ЭЦП услугодателя проверена: подпись верна, сертификат действителен, не отозван, цепочка доверена до корня НУЦ",
                    "The provider's EDS was checked: the signature holds, the certificate is valid, not revoked, and chains to the certification centre's root"
                ),
                by = t(lang, "Қол қойған", "Подписал", "Signed by"),
                subject = escape(&result.signer_subject),
                iin_l = t(lang, "ЖСН", "ИИН", "IIN"),
                iin = escape(&result.signer_iin),
                bin_l = t(lang, "БСН", "БИН", "BIN"),
                bin = escape(&result.signer_bin),
                serial_l = t(lang, "Сериялық нөмір", "Серийный номер", "Serial"),
                serial = escape(&result.signer_serial),
                until_l = t(lang, "Жарамды", "Действует до", "Valid until"),
                until = escape(&result.signer_not_after),
                roles_l = t(lang, "Рөлдер", "Роли", "Roles"),
                roles = escape(&result.signer_roles),
            ));
        }
    }
    page(
        lang,
        t(lang, "Өтініш", "Заявка", "Request"),
        &format!("/requests/{id}"),
        &body,
        Some(&who),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(registration_number: &str, queue_position: Option<i64>) -> RequestRow {
        RequestRow {
            id: "r1".into(),
            recipient_iin: "850102300131".into(),
            filer_iin: "850102300131".into(),
            service_code: "D".into(),
            state: STATE_REGISTERED.into(),
            header_hex: String::new(),
            payload_hex: String::new(),
            signer_request_id: String::new(),
            registration_number: registration_number.into(),
            due_at: String::new(),
            refusal: String::new(),
            created_at: 0,
            queue_position,
        }
    }

    #[test]
    fn a_child_queued_before_the_register_sent_its_number_shows_only_its_position() {
        for (lang, words) in [
            (Lang::Kk, "Кезектегі орны"),
            (Lang::Ru, "Место в очереди"),
            (Lang::En, "Place in the queue"),
        ] {
            let text = number_text(lang, &request("", Some(4)));
            assert!(text.starts_with(words) && text.ends_with(" 4"), "{text}");
        }
    }

    #[test]
    fn a_child_queued_without_a_free_place_shows_the_registers_number_and_its_position() {
        assert_eq!(
            number_text(Lang::En, &request("DQ-2026-000003", Some(2))),
            "DQ-2026-000003 (Place in the queue (when queued): 2)"
        );
    }

    #[test]
    fn a_referral_or_any_other_request_shows_its_number() {
        assert_eq!(
            number_text(Lang::Ru, &request("DQ-2026-000001", None)),
            "DQ-2026-000001"
        );
        assert_eq!(
            number_text(Lang::En, &request("B-2026-<7>", None)),
            "B-2026-&lt;7&gt;"
        );
    }
}
