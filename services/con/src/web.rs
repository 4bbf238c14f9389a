//! The workstation's pages, server-rendered (no JavaScript), in Kazakh, Russian and English
//! (`lang=kk|ru|en` on each), behind [`egov_signin`]: an operator signs in (FLOWS.md, State
//! Corporation process 1), and every form carries the session's CSRF token.
//!
//! - `GET /kiosk`, `POST /kiosk`: the hall's kiosk of the electronic queue (no sign-in).
//! - `GET /desk`: the queue, "call the next ticket", the latest filings; `POST /desk/call`.
//! - `GET /desk/tickets/{id}?service=B`: the service picker and the request form;
//!   `POST /desk/tickets/{id}` files it (fields checked, messages next to them).
//! - `GET /filings/{id}`: what became of it; `POST /filings/{id}/result` brings the result
//!   back, `POST /filings/{id}/handover` records the hand-over.
//! - `GET /receipts/{id}` (printable) and `GET /receipts/{id}/pdf`: the receipt of refusal.
//! - `GET /journal`: every operator action with the operator's name.
//!
//! The same desk as JSON, for programs acting as an operator, is [`crate::api`]'s.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use egov_signin::pages::{Lang, escape, logout_form};
use egov_signin::{SignedIn, Signin};
use serde::Deserialize;

use crate::ConError;
use crate::desk::{Desk, FieldError, FilingForm, Outcome, PowerOfAttorneyForm, Problem};
use crate::services::{DeskService, DeskServices};
use crate::store::{Filing, outcome};

/// The path of the operator's desk, where a signed-in operator lands.
pub const DESK_PATH: &str = "/desk";

/// The app name of the session cookie, `egov-con-session`.
pub const SIGNIN_APP: &str = "con";

/// Picks a language's text.
fn t(lang: Lang, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// The `lang` query parameter.
#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
    service: Option<String>,
    notice: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        Lang::or_default(self.lang.as_deref())
    }
}

/// Returns the workstation's routes: the kiosk open to all, the rest behind `signin`.
pub fn router(desk: Desk, signin: &Signin) -> Router {
    let protected = Router::new()
        .route("/", get(|| async { Redirect::to(DESK_PATH) }))
        .route(DESK_PATH, get(desk_page))
        .route("/desk/call", post(call_next))
        .route("/desk/tickets/{id}", get(ticket_page).post(file))
        .route("/filings/{id}", get(filing_page))
        .route("/filings/{id}/result", post(fetch_result))
        .route("/filings/{id}/handover", post(hand_over))
        .route("/receipts/{id}", get(receipt_page))
        .route("/receipts/{id}/pdf", get(receipt_pdf))
        .route("/journal", get(journal_page))
        .with_state(desk.clone())
        .merge(crate::api::protected(desk.clone()));
    let kiosk = Router::new()
        .route("/kiosk", get(kiosk_page).post(take_ticket))
        .with_state(desk.clone())
        .merge(crate::api::open(desk));
    signin.protect(protected).merge(kiosk)
}

/// Wraps a page's body in the frame: title, languages, the operator and sign-out.
fn frame(lang: Lang, title: &str, path: &str, signed_in: Option<&SignedIn>, body: &str) -> String {
    let langs: String = Lang::ALL
        .iter()
        .map(|other| {
            let separator = if path.contains('?') { "&amp;" } else { "?" };
            format!(
                r#"<a id="lang-{code}" href="{path}{separator}lang={code}">{code}</a> "#,
                code = other.code(),
                path = escape(path),
            )
        })
        .collect();
    let who = signed_in.map_or_else(String::new, |signed_in| {
        format!(
            r#"<span id="operator">{name}</span> <a href="/journal?lang={lang}">{journal}</a> {logout}"#,
            name = escape(&signed_in.person.name),
            lang = lang.code(),
            journal = t(lang, "Журнал", "Журнал", "Journal"),
            logout = logout_form(&signed_in.csrf, lang),
        )
    });
    format!(
        r#"<!DOCTYPE html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ХҚО / ЦОН</title>
<style>
  body {{ margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d2733; background: #f4f6f9; }}
  header {{ display: flex; flex-wrap: wrap; gap: 12px; justify-content: space-between; align-items: center; padding: 10px 24px; background: #0f6e4f; color: #fff; }}
  header a, header button {{ color: #fff; }}
  header form {{ display: inline; }}
  header button {{ background: transparent; border: 1px solid #fff; border-radius: 4px; }}
  main {{ max-width: 900px; margin: 20px auto; background: #fff; border: 1px solid #d8dee6; border-radius: 8px; padding: 18px 24px; }}
  label {{ display: flex; flex-direction: column; gap: 3px; margin-bottom: 10px; color: #5b6878; }}
  label.check {{ flex-direction: row; align-items: center; gap: 8px; }}
  input, select {{ font: inherit; padding: 6px; border: 1px solid #d8dee6; border-radius: 4px; }}
  button {{ font: inherit; padding: 7px 14px; border: 0; border-radius: 6px; background: #0f6e4f; color: #fff; cursor: pointer; }}
  .error {{ color: #b3261e; }}
  .refusal {{ color: #b3261e; background: #fdecea; padding: 8px; border-radius: 6px; }}
  .notice {{ color: #1e7a3c; background: #e6f4ea; padding: 8px; border-radius: 6px; }}
  .ticket {{ font-size: 64px; font-weight: bold; text-align: center; }}
  table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #e3e8ee; padding: 5px; text-align: left; }}
  nav.services a {{ margin-right: 12px; }}
</style>
</head>
<body>
<header><strong>ХҚО / ЦОН · {workstation}</strong><nav>{langs}</nav><div>{who}</div></header>
<main>
{body}
</main>
</body>
</html>
"#,
        code = lang.code(),
        title = escape(title),
        workstation = t(
            lang,
            "Оператордың жұмыс орны",
            "Рабочее место оператора",
            "Operator workstation"
        ),
    )
}

/// Renders an error as a page with its status.
fn error_page(lang: Lang, signed_in: Option<&SignedIn>, error: &ConError) -> Response {
    let status = error.http_status();
    let message = error.public_message();
    let body = format!(
        r#"<h1>{heading}</h1><p id="error" class="refusal" role="alert">{message}</p><p><a href="{DESK_PATH}?lang={code}">{back}</a></p>"#,
        heading = status.as_u16(),
        message = escape(&message),
        code = lang.code(),
        back = t(lang, "Жұмыс орнына", "К рабочему месту", "Back to the desk"),
    );
    (
        status,
        Html(frame(
            lang,
            &status.to_string(),
            DESK_PATH,
            signed_in,
            &body,
        )),
    )
        .into_response()
}

fn service_name(service: &DeskService, lang: Lang) -> &str {
    match lang {
        Lang::Kk => &service.name.kk,
        Lang::Ru => &service.name.ru,
        Lang::En => &service.name.en,
    }
}

/// `GET /kiosk`.
async fn kiosk_page(State(desk): State<Desk>, Query(query): Query<LangQuery>) -> Response {
    let lang = query.lang();
    let waiting = desk.store().waiting().await.unwrap_or(0);
    let body = format!(
        r#"<h1>{heading}</h1><p>{waiting_label}: <strong id="waiting">{waiting}</strong></p>
<form method="post" action="/kiosk?lang={code}"><button id="take-ticket" type="submit">{take}</button></form>"#,
        heading = t(
            lang,
            "Электрондық кезек",
            "Электронная очередь",
            "Electronic queue"
        ),
        waiting_label = t(lang, "Кезекте", "В очереди", "Waiting"),
        code = lang.code(),
        take = t(lang, "Талон алу", "Взять талон", "Take a ticket"),
    );
    Html(frame(
        lang,
        t(lang, "Кезек", "Очередь", "Queue"),
        "/kiosk",
        None,
        &body,
    ))
    .into_response()
}

/// `POST /kiosk`: takes a ticket and shows its number.
async fn take_ticket(State(desk): State<Desk>, Query(query): Query<LangQuery>) -> Response {
    let lang = query.lang();
    match desk.take_ticket().await {
        Ok(ticket) => {
            let body = format!(
                r#"<h1>{heading}</h1><p class="ticket" id="ticket-number">{number}</p><p>{wait}</p><p><a href="/kiosk?lang={code}">←</a></p>"#,
                heading = t(lang, "Сіздің талоныңыз", "Ваш талон", "Your ticket"),
                number = escape(&ticket.number()),
                wait = t(
                    lang,
                    "Нөміріңіз таблода шыққанша күтіңіз.",
                    "Ожидайте вызова вашего номера на табло.",
                    "Wait until your number is called on the board."
                ),
                code = lang.code(),
            );
            Html(frame(
                lang,
                t(lang, "Талон", "Талон", "Ticket"),
                "/kiosk",
                None,
                &body,
            ))
            .into_response()
        }
        Err(error) => error_page(lang, None, &error),
    }
}

/// `GET /desk`.
async fn desk_page(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let (waiting, filings) = match (
        desk.store().waiting().await,
        desk.store().recent_filings(20).await,
    ) {
        (Ok(waiting), Ok(filings)) => (waiting, filings),
        (Err(error), _) | (_, Err(error)) => return error_page(lang, Some(&signed_in), &error),
    };
    let notice = match query.notice.as_deref() {
        Some("empty") => format!(
            r#"<p id="notice" class="notice" role="status">{}</p>"#,
            t(
                lang,
                "Кезекте ешкім жоқ.",
                "В очереди никого нет.",
                "Nobody is waiting."
            )
        ),
        _ => String::new(),
    };
    let rows: String = filings
        .iter()
        .map(|filing| {
            format!(
                r#"<tr><td><a href="/filings/{id}?lang={code}">{ticket}</a></td><td>{service}</td><td>{recipient}</td><td>{outcome}</td><td>{number}</td><td>{operator}</td></tr>"#,
                id = escape(&filing.id),
                code = lang.code(),
                ticket = escape(&filing.ticket_id),
                service = escape(&filing.service_code),
                recipient = escape(&filing.recipient_iin),
                outcome = outcome_text(lang, filing),
                number = escape(&filing.registration_number),
                operator = escape(&filing.operator_name),
            )
        })
        .collect();
    let body = format!(
        r#"<h1 id="desk-heading">{heading}</h1>{notice}
<p>{waiting_label}: <strong id="waiting">{waiting}</strong></p>
<form method="post" action="/desk/call?lang={code}"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{code}"><button id="call-next" type="submit">{call}</button></form>
<h2>{latest}</h2>
<table id="filings"><tr><th>{ticket}</th><th>{service}</th><th>{recipient}</th><th>{state}</th><th>№</th><th>{operator}</th></tr>{rows}</table>"#,
        heading = t(
            lang,
            "Электрондық кезек",
            "Электронная очередь",
            "Electronic queue"
        ),
        waiting_label = t(lang, "Кезекте", "В очереди", "Waiting"),
        code = lang.code(),
        csrf = escape(&signed_in.csrf),
        call = t(
            lang,
            "Келесі талонды шақыру",
            "Вызвать следующий талон",
            "Call the next ticket"
        ),
        latest = t(
            lang,
            "Соңғы өтініштер",
            "Последние заявления",
            "Latest requests"
        ),
        ticket = t(lang, "Талон", "Талон", "Ticket"),
        service = t(lang, "Қызмет", "Услуга", "Service"),
        recipient = t(lang, "Алушы", "Получатель", "Recipient"),
        state = t(lang, "Күйі", "Состояние", "State"),
        operator = t(lang, "Оператор", "Оператор", "Operator"),
    );
    Html(frame(
        lang,
        t(lang, "Жұмыс орны", "Рабочее место", "Desk"),
        DESK_PATH,
        Some(&signed_in),
        &body,
    ))
    .into_response()
}

/// The language field of a posted form.
#[derive(Debug, Default, Deserialize)]
struct LangForm {
    #[serde(default)]
    lang: String,
}

/// `POST /desk/call`.
async fn call_next(State(desk): State<Desk>, signed_in: SignedIn, body: Bytes) -> Response {
    let form: LangForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Lang::or_default(Some(&form.lang));
    match desk.call_next(&signed_in.person).await {
        Ok(Some(ticket)) => {
            Redirect::to(&format!("/desk/tickets/{}?lang={}", ticket.id, lang.code()))
                .into_response()
        }
        Ok(None) => {
            Redirect::to(&format!("{DESK_PATH}?lang={}&notice=empty", lang.code())).into_response()
        }
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// Returns a field error's text.
fn problem_text(lang: Lang, problem: &Problem) -> String {
    match problem {
        Problem::Empty => t(lang, "Толтырыңыз.", "Заполните поле.", "Fill this in.").to_owned(),
        Problem::MalformedIin(reason) => format!(
            "{} ({reason})",
            t(
                lang,
                "ЖСН дұрыс емес: 12 цифр және бақылау саны.",
                "Неверный ИИН: 12 цифр с контрольным разрядом.",
                "Not a valid IIN: 12 digits with a check digit."
            )
        ),
        Problem::RepresentativeIsRecipient => t(
            lang,
            "Өкіл алушының өзі бола алмайды.",
            "Представитель не может быть самим получателем.",
            "The representative cannot be the recipient.",
        )
        .to_owned(),
        Problem::PowerOfAttorneyMismatch => t(
            lang,
            "Өкіл мен сенімхат бірге көрсетіледі.",
            "Представитель и доверенность указываются вместе.",
            "A representative and a power of attorney go together.",
        )
        .to_owned(),
        Problem::NumberNotEntered => t(
            lang,
            "Нотариат куәландырмаған сенімхаттың деректері енгізілмейді.",
            "Данные доверенности, не заверенной нотариально, не вносятся.",
            "The data of a power of attorney not notarised are not entered.",
        )
        .to_owned(),
        Problem::UnknownService => t(
            lang,
            "ХҚО бұл қызметті көрсетпейді.",
            "ЦОН не оказывает эту услугу.",
            "The State Corporation does not file this service.",
        )
        .to_owned(),
        Problem::UnknownChoice => t(
            lang,
            "Тізімнен таңдаңыз.",
            "Выберите из списка.",
            "Pick one of the choices.",
        )
        .to_owned(),
    }
}

/// Renders the ticket page: the service picker and, with a service, its form.
fn ticket_body(
    services: &DeskServices,
    lang: Lang,
    signed_in: &SignedIn,
    ticket_id: &str,
    form: &FilingForm,
    errors: &[FieldError],
    refusal: Option<String>,
) -> String {
    let code = lang.code();
    let picker: String = services
        .all()
        .map(|service| {
            format!(
                r#"<a id="service-{c}" href="/desk/tickets/{ticket}?lang={code}&amp;service={c}">{c} · {name}</a><br>"#,
                c = escape(&service.code),
                ticket = escape(ticket_id),
                name = escape(service_name(service, lang)),
            )
        })
        .collect();
    let mut body = format!(
        r#"<h1 id="ticket-heading">{heading} {ticket}</h1><nav class="services">{picker}</nav>"#,
        heading = t(lang, "Талон", "Талон", "Ticket"),
        ticket = escape(ticket_id),
    );
    let Some(service) = services.get(form.service_code.trim()) else {
        if !form.service_code.is_empty() {
            body.push_str(&format!(
                r#"<p id="service_code-error" class="error">{}</p>"#,
                problem_text(lang, &Problem::UnknownService)
            ));
        }
        return body;
    };
    let error_of = |field: &str| -> String {
        errors
            .iter()
            .filter(|error| error.field == field)
            .map(|error| {
                format!(
                    r#"<span id="{field}-error" class="error">{}</span>"#,
                    escape(&problem_text(lang, &error.problem))
                )
            })
            .collect()
    };
    let input = |field: &str, label: &str, value: &str| -> String {
        format!(
            r#"<label>{label}<input id="{field}" name="{field}" value="{value}" maxlength="64">{error}</label>"#,
            label = escape(label),
            value = escape(value),
            error = error_of(field),
        )
    };
    let documents: String = service
        .documents
        .iter()
        .map(|document| {
            let name = match lang {
                Lang::Kk => &document.name.kk,
                Lang::Ru => &document.name.ru,
                Lang::En => &document.name.en,
            };
            format!(
                r#"<label class="check"><input type="checkbox" id="document-{c}" name="document" value="{c}"{checked}>{name}{required}</label>"#,
                c = escape(&document.code),
                checked = if form.documents.contains(&document.code) { " checked" } else { "" },
                name = escape(name),
                required = if document.required { " *" } else { "" },
            )
        })
        .collect();
    let poa = |value: &str, text: &str, selected: bool| {
        format!(
            r#"<option value="{value}"{}>{text}</option>"#,
            if selected { " selected" } else { "" }
        )
    };
    let refusal = refusal.map_or_else(String::new, |text| {
        format!(
            r#"<p id="consent-error" class="refusal" role="alert">{}</p>"#,
            escape(&text)
        )
    });
    body.push_str(&format!(
        r#"<h2 id="service-heading">{c} · {name}</h2>{refusal}
<form method="post" action="/desk/tickets/{ticket}?lang={code}" id="filing-form">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{code}"><input type="hidden" name="service_code" value="{c}">
{consent}
{recipient}
{recipient_name}
{representative}
<label>{poa_label}<select id="power_of_attorney" name="power_of_attorney">{poa_none}{poa_notarised}{poa_other}</select>{poa_error}</label>
{poa_number}
{child}
{district}
<fieldset><legend>{documents_label}</legend>{documents}</fieldset>
<button id="file" type="submit">{submit}</button>
</form>"#,
        c = escape(&service.code),
        name = escape(service_name(service, lang)),
        ticket = escape(ticket_id),
        csrf = escape(&signed_in.csrf),
        consent = if service.needs_consent() {
            format!(
                r#"<label class="check"><input type="checkbox" id="consent" name="consent" value="yes"{checked}>{text}</label>"#,
                checked = if form.consent { " checked" } else { "" },
                text = t(lang, "Азамат ақпараттық жүйелердегі заңмен қорғалатын құпияны пайдалануға келісім берді", "Гражданин дал согласие на использование сведений, составляющих охраняемую законом тайну, содержащихся в информационных системах", "The citizen consents to the use of legally protected secrets held in information systems"),
            )
        } else {
            String::new()
        },
        recipient = input("recipient_iin", t(lang, "Алушының ЖСН", "ИИН услугополучателя", "Recipient's IIN"), &form.recipient_iin),
        // Written on a receipt of refusal, which is drawn up before any register is asked.
        recipient_name = if service.refuses_incomplete_at_desk() {
            input("recipient_name", t(lang, "Алушының аты-жөні (өтініш бойынша)", "ФИО услугополучателя (по заявлению)", "Recipient's name (as in the application)"), &form.recipient_name)
        } else {
            String::new()
        },
        representative = input("representative_iin", t(lang, "Өкілдің ЖСН (сенімхат бойынша)", "ИИН представителя (по доверенности)", "Representative's IIN (by power of attorney)"), &form.representative_iin),
        poa_label = t(lang, "Сенімхат", "Доверенность", "Power of attorney"),
        poa_none = poa("none", t(lang, "Жоқ — алушының өзі", "Нет — сам получатель", "None — the recipient in person"), form.power_of_attorney == PowerOfAttorneyForm::None),
        poa_notarised = poa("notarised", t(lang, "Нотариат куәландырған", "Нотариально заверенная", "Notarised"), form.power_of_attorney == PowerOfAttorneyForm::Notarised),
        poa_other = poa("other", t(lang, "Басқаша куәландырылған (деректері енгізілмейді)", "Заверенная иначе (данные не вносятся)", "Certified otherwise (its data are not entered)"), form.power_of_attorney == PowerOfAttorneyForm::Other),
        poa_error = error_of("power_of_attorney"),
        poa_number = input("power_of_attorney_number", t(lang, "Сенімхаттың нөмірі (БНАЖ)", "Номер доверенности (ЕНИС)", "Power of attorney number (notary registry)"), &form.power_of_attorney_number),
        child = if service.concerns_child() { input("child_iin", t(lang, "Баланың ЖСН", "ИИН ребёнка", "Child's IIN"), &form.child_iin) } else { String::new() },
        district = if service.code == "D" {
            format!("{}{}", input("district", t(lang, "Аудан коды", "Код района", "District code"), &form.district), input("kindergarten_bin", t(lang, "Балабақшаның БСН (міндетті емес)", "БИН детского сада (необязательно)", "Kindergarten BIN (optional)"), &form.kindergarten_bin))
        } else {
            String::new()
        },
        documents_label = t(lang, "Стандарттың 9-тармағының құжаттары (* міндетті)", "Документы пункта 9 стандарта (* обязательные)", "Standard item-9 documents (* required)"),
        submit = t(lang, "Сұрау салуды жіберу", "Отправить запрос", "Send the request"),
    ));
    body
}

/// `GET /desk/tickets/{id}`.
async fn ticket_page(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let ticket = match desk.store().ticket(&id).await {
        Ok(ticket) => ticket,
        Err(error) => return error_page(lang, Some(&signed_in), &error),
    };
    if let Ok(Some(filing)) = desk.store().filing_of_ticket(&ticket.id).await {
        return Redirect::to(&format!("/filings/{}?lang={}", filing.id, lang.code()))
            .into_response();
    }
    let form = FilingForm {
        ticket_id: ticket.id.clone(),
        service_code: query.service.clone().unwrap_or_default(),
        ..FilingForm::default()
    };
    let services = match desk.services().await {
        Ok(services) => services,
        Err(error) => return error_page(lang, Some(&signed_in), &error),
    };
    let body = ticket_body(&services, lang, &signed_in, &ticket.id, &form, &[], None);
    let path = format!("/desk/tickets/{}", ticket.id);
    Html(frame(
        lang,
        t(lang, "Талон", "Талон", "Ticket"),
        &path,
        Some(&signed_in),
        &body,
    ))
    .into_response()
}

/// Reads the posted request form (repeated `document` fields).
fn read_form(ticket_id: &str, body: &[u8]) -> (FilingForm, Lang, bool) {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut form = FilingForm {
        ticket_id: ticket_id.to_owned(),
        ..FilingForm::default()
    };
    let mut lang = Lang::default();
    let mut bad_choice = false;
    for (key, value) in pairs {
        match key.as_str() {
            "lang" => lang = Lang::or_default(Some(&value)),
            "service_code" => form.service_code = value,
            "recipient_iin" => form.recipient_iin = value,
            "recipient_name" => form.recipient_name = value,
            "representative_iin" => form.representative_iin = value,
            "power_of_attorney" => match PowerOfAttorneyForm::parse(&value) {
                Some(choice) => form.power_of_attorney = choice,
                None => bad_choice = true,
            },
            "power_of_attorney_number" => form.power_of_attorney_number = value,
            "child_iin" => form.child_iin = value,
            "district" => form.district = value,
            "kindergarten_bin" => form.kindergarten_bin = value,
            "document" => form.documents.push(value),
            "consent" => form.consent = value == "yes",
            _ => {}
        }
    }
    (form, lang, bad_choice)
}

/// `POST /desk/tickets/{id}`: files the request.
async fn file(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (form, lang, bad_choice) = read_form(&id, &body);
    let path = format!("/desk/tickets/{id}?service={}", form.service_code);
    let services = match desk.services().await {
        Ok(services) => services,
        Err(error) => return error_page(lang, Some(&signed_in), &error),
    };
    let render = |status: StatusCode, errors: &[FieldError], refusal: Option<String>| {
        let body = ticket_body(&services, lang, &signed_in, &id, &form, errors, refusal);
        (
            status,
            Html(frame(
                lang,
                t(lang, "Талон", "Талон", "Ticket"),
                &path,
                Some(&signed_in),
                &body,
            )),
        )
            .into_response()
    };
    if bad_choice {
        let errors = [FieldError {
            field: "power_of_attorney",
            problem: Problem::UnknownChoice,
        }];
        return render(StatusCode::BAD_REQUEST, &errors, None);
    }
    match desk.file(&signed_in.person, &form).await {
        Ok(Outcome::Invalid(errors)) => render(StatusCode::BAD_REQUEST, &errors, None),
        Ok(Outcome::ConsentMissing) => render(
            StatusCode::BAD_REQUEST,
            &[],
            Some(t(lang, "Заңмен қорғалатын құпияны пайдалануға азаматтың келісімінсіз сұрау салу жасалмайды.", "Без согласия гражданина на использование охраняемой законом тайны запросы не направляются.", "Without the citizen's consent to the use of legally protected secrets no query is made.").to_owned()),
        ),
        Ok(Outcome::Receipt(_, receipt)) => Redirect::to(&format!("/receipts/{}?lang={}", receipt.id, lang.code())).into_response(),
        Ok(outcome) => match outcome.filing() {
            Some(filing) => Redirect::to(&format!("/filings/{}?lang={}", filing.id, lang.code())).into_response(),
            None => error_page(lang, Some(&signed_in), &ConError::Conflict("nothing was filed".into())),
        },
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// Returns a result kind's name (`RESULT_KIND_CERTIFICATE` is a certificate, анықтама / справка).
fn kind_text(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "RESULT_KIND_CERTIFICATE" => t(lang, "Анықтама", "Справка", "Certificate"),
        "RESULT_KIND_NOTIFICATION" => t(lang, "Хабарлама", "Уведомление", "Notification"),
        "RESULT_KIND_REFERRAL" => t(lang, "Жолдама", "Направление", "Referral"),
        "RESULT_KIND_REFUSAL" => t(
            lang,
            "Дәлелді бас тарту",
            "Мотивированный отказ",
            "Reasoned refusal",
        ),
        _ => t(lang, "Құжат", "Документ", "Document"),
    }
}

fn outcome_text(lang: Lang, filing: &Filing) -> &'static str {
    if filing.outcome == outcome::REFUSED
        && filing.message.starts_with("the data cannot be obtained")
    {
        // FLOWS.md, State Corporation process 4.
        return t(
            lang,
            "Деректерді алу мүмкін емес",
            "Получение данных невозможно",
            "The data cannot be obtained",
        );
    }
    match (
        filing.outcome.as_str(),
        filing.result_at.is_some(),
        filing.handed_over_at.is_some(),
    ) {
        (outcome::SENT, _, true) => t(
            lang,
            "Нәтиже берілді",
            "Результат выдан",
            "Result handed over",
        ),
        (outcome::SENT, true, false) => t(lang, "Нәтиже дайын", "Результат готов", "Result ready"),
        (outcome::SENT, false, false) => t(lang, "Жіберілді", "Отправлено", "Sent"),
        (outcome::RECEIPT, _, _) => t(
            lang,
            "Қабылдаудан бас тартылды (қолхат)",
            "Отказ в приеме (расписка)",
            "Refused to accept (receipt)",
        ),
        _ => t(lang, "Бас тартылды", "Отказано", "Refused"),
    }
}

/// `GET /filings/{id}`.
async fn filing_page(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let filing = match desk.store().filing(&id).await {
        Ok(filing) => filing,
        Err(error) => return error_page(lang, Some(&signed_in), &error),
    };
    let code = lang.code();
    let csrf = escape(&signed_in.csrf);
    let notice = match query.notice.as_deref() {
        Some("pending") => format!(
            r#"<p id="notice" class="notice" role="status">{}</p>"#,
            t(
                lang,
                "Нәтиже әлі дайын емес.",
                "Результат ещё не готов.",
                "The result is not ready yet."
            )
        ),
        _ => String::new(),
    };
    let message_class = if filing.outcome == outcome::SENT {
        "notice"
    } else {
        "refusal"
    };
    let mut actions = String::new();
    if filing.outcome == outcome::SENT && filing.result_at.is_none() {
        actions.push_str(&format!(
            r#"<form method="post" action="/filings/{id}/result?lang={code}"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{code}"><button id="fetch-result" type="submit">{text}</button></form>"#,
            id = escape(&filing.id),
            text = t(lang, "Нәтижені сұрау", "Запросить результат", "Ask for the result"),
        ));
    }
    if filing.result_at.is_some() && filing.handed_over_at.is_none() {
        actions.push_str(&format!(
            r#"<form method="post" action="/filings/{id}/handover?lang={code}"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="lang" value="{code}"><button id="hand-over" type="submit">{text}</button></form>"#,
            id = escape(&filing.id),
            text = t(lang, "Нәтижені беру", "Выдать результат", "Hand the result over"),
        ));
    }
    let receipt = match desk.store().receipt_of_filing(&filing.id).await {
        Ok(Some(receipt)) => format!(
            r#"<p><a id="receipt-link" href="/receipts/{}?lang={code}">{}</a></p>"#,
            escape(&receipt.id),
            t(lang, "Қолхат", "Расписка", "Receipt")
        ),
        _ => String::new(),
    };
    let result = if filing.result_at.is_some() {
        format!(
            r#"<h2>{heading}</h2><p id="result-kind" data-kind="{code}">{kind}</p><p id="result-text">{text}</p><p>{signed}: <span id="result-signer">{signer}</span></p>"#,
            heading = t(lang, "Нәтиже", "Результат", "Result"),
            code = escape(&filing.result_kind),
            kind = kind_text(lang, &filing.result_kind),
            text = escape(&filing.result_text),
            signed = t(lang, "Қол қойған", "Подписано", "Signed by"),
            signer = escape(&filing.result_signer),
        )
    } else {
        String::new()
    };
    let handed = if filing.handed_over_at.is_some() {
        format!(
            r#"<p id="handed-over" class="notice">{}: {}</p>"#,
            t(lang, "Берген", "Выдал", "Handed over by"),
            escape(&filing.handed_over_by)
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<h1 id="filing-heading">{service} · {ticket_label} {ticket}</h1>{notice}
<p id="filing-state">{state}</p>
<p id="filing-message" class="{message_class}">{message}</p>
<table>
<tr><th>{recipient_label}</th><td id="filing-recipient">{recipient}</td></tr>
<tr><th>{representative_label}</th><td>{representative}</td></tr>
<tr><th>№</th><td id="registration-number">{number}</td></tr>
<tr><th>{operator_label}</th><td id="filing-operator">{operator}</td></tr>
</table>
{receipt}{result}{handed}{actions}
<p><a href="{DESK_PATH}?lang={code}">{back}</a></p>"#,
        service = escape(&filing.service_code),
        ticket_label = t(lang, "талон", "талон", "ticket"),
        ticket = escape(&filing.ticket_id),
        state = outcome_text(lang, &filing),
        message = escape(&filing.message),
        recipient_label = t(lang, "Алушы", "Получатель", "Recipient"),
        recipient = escape(&filing.recipient_iin),
        representative_label = t(lang, "Өкіл", "Представитель", "Representative"),
        representative = escape(&filing.representative_iin),
        number = escape(&filing.registration_number),
        operator_label = t(lang, "Оператор", "Оператор", "Operator"),
        operator = escape(&filing.operator_name),
        back = t(lang, "Жұмыс орнына", "К рабочему месту", "Back to the desk"),
    );
    let path = format!("/filings/{}", filing.id);
    Html(frame(
        lang,
        t(lang, "Өтініш", "Заявление", "Request"),
        &path,
        Some(&signed_in),
        &body,
    ))
    .into_response()
}

/// `POST /filings/{id}/result`.
async fn fetch_result(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form: LangForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Lang::or_default(Some(&form.lang));
    match desk.fetch_result(&signed_in.person, &id).await {
        Ok(read) if read.ready => {
            Redirect::to(&format!("/filings/{id}?lang={}", lang.code())).into_response()
        }
        Ok(_) => Redirect::to(&format!(
            "/filings/{id}?lang={}&notice=pending",
            lang.code()
        ))
        .into_response(),
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// `POST /filings/{id}/handover`.
async fn hand_over(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form: LangForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let lang = Lang::or_default(Some(&form.lang));
    match desk.hand_over(&signed_in.person, &id).await {
        Ok(_) => Redirect::to(&format!("/filings/{id}?lang={}", lang.code())).into_response(),
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// Returns a receipt with its service's Kazakh and Russian names.
async fn receipt_of(
    desk: &Desk,
    id: &str,
) -> Result<(crate::store::Receipt, String, String), ConError> {
    let receipt = desk.store().receipt(id).await?;
    let (kk, ru) = desk
        .services()
        .await?
        .get(&receipt.service_code)
        .map(|service| (service.name.kk.clone(), service.name.ru.clone()))
        .unwrap_or_else(|| (receipt.service_code.clone(), receipt.service_code.clone()));
    Ok((receipt, kk, ru))
}

/// `GET /receipts/{id}`.
async fn receipt_page(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    match receipt_of(&desk, &id).await {
        Ok((receipt, kk, ru)) => {
            let back = format!("/filings/{}?lang={}", receipt.filing_id, lang.code());
            Html(crate::receipt::page(&receipt, &kk, &ru, &back)).into_response()
        }
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// `GET /receipts/{id}/pdf`.
async fn receipt_pdf(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let pdf = match receipt_of(&desk, &id).await {
        Ok((receipt, kk, ru)) => crate::receipt::pdf(&receipt, &kk, &ru),
        Err(error) => Err(error),
    };
    match pdf {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"receipt-{id}.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => error_page(lang, Some(&signed_in), &error),
    }
}

/// `GET /journal`.
async fn journal_page(
    State(desk): State<Desk>,
    signed_in: SignedIn,
    Query(query): Query<LangQuery>,
) -> Response {
    let lang = query.lang();
    let entries = match desk.journal(200).await {
        Ok(entries) => entries,
        Err(error) => return error_page(lang, Some(&signed_in), &error),
    };
    let rows: String = entries
        .iter()
        .map(|entry| {
            format!(
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
                escape(&entry.at),
                escape(&entry.operator_name),
                escape(&entry.operator_login),
                escape(&entry.action),
                escape(&entry.subject)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>{heading}</h1><table id="journal"><tr><th>{at}</th><th>{who}</th><th>{what}</th><th></th></tr>{rows}</table>"#,
        heading = t(
            lang,
            "Операторлардың әрекеттері",
            "Действия операторов",
            "Operators' actions"
        ),
        at = t(lang, "Уақыты", "Время", "When"),
        who = t(lang, "Оператор", "Оператор", "Operator"),
        what = t(lang, "Әрекет", "Действие", "Action"),
    );
    Html(frame(
        lang,
        t(lang, "Журнал", "Журнал", "Journal"),
        "/journal",
        Some(&signed_in),
        &body,
    ))
    .into_response()
}
