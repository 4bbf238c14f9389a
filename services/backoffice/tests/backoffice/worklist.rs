//! The worklist's pages and JSON API in-process (axum `oneshot`: no socket, no gateway): a
//! workflow on a temporary store and a virtual clock, its router behind sign-in, and the
//! requests a signed-in browser or an API client sends. The browser itself drives them in
//! `tests/worklist_browser.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use egov_backoffice::delivery::Wake;
use egov_backoffice::policy::{Policies, Policy};
use egov_backoffice::web::{People, router};
use egov_backoffice::workflow::WorkflowParts;
use egov_backoffice::{Catalogue, Store, Workflow};
use egov_core::clock::VirtualClock;
use egov_core::systems;
use egov_proto::v1::{Channel, OpenCaseRequest};
use egov_signin::{Settings, Signin};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tower::ServiceExt as _;

use crate::common::{Options, Stack, application, next_monday_morning, standalone_heads};

/// The password of every test account.
const PASSWORD: &str = "worklist password";

/// The host the requests name, and so the origin their forms come from.
const HOST: &str = "backoffice.test";

/// A signed-in browser: its session cookie and the CSRF token its pages' forms carry.
#[derive(Debug, Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

/// A workflow with its worklist router; B and C are done by people. `office` holds all three
/// roles; `aigul` is a clerk, `bota` the head, `dauren` the executor.
struct Office {
    workflow: Workflow,
    clock: VirtualClock,
    router: Router,
    signin: Signin,
    /// The all-roles person the plain helpers act as.
    me: Session,
    _dir: tempfile::TempDir,
}

impl Office {
    async fn start() -> Office {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("backoffice.db").display()
        );
        let store = Store::open(&url).await.expect("open the store");
        let pool = store.pool().clone();
        let clock = VirtualClock::new(next_monday_morning());
        let policies = Policies::new(&BTreeMap::from([
            ("B".to_owned(), Policy::Manual),
            ("C".to_owned(), Policy::Manual),
        ]));
        let workflow = Workflow::new(WorkflowParts {
            store,
            catalogue: Arc::new(Catalogue::embedded().expect("catalogue")),
            clock: clock.shared(),
            policies,
            // Nothing delivers here: results stay in the outbox, which these tests do not read.
            deliveries: Wake::new(clock.shared()),
            heads: Arc::new(standalone_heads()),
        });
        let people = People {
            clerk: "Айгүл Серікова".into(),
            head: "Қызмет Беруші Басшы".into(),
            executor: "Дәурен Омаров".into(),
        };
        let settings = Settings::new("backoffice", "Worklist");
        let signin = Signin::open(pool, settings, clock.shared())
            .await
            .expect("open sign-in");
        for (login, name, roles) in [
            ("office", "Офис Барлық", &["clerk", "head", "executor"][..]),
            ("aigul", "Айгүл Серікова", &["clerk"][..]),
            ("bota", "Бота Басшы", &["head"][..]),
            ("dauren", "Дәурен Омаров", &["executor"][..]),
            ("auditor", "Аудитор", &["auditor"][..]),
        ] {
            let roles: Vec<String> = roles.iter().map(|role| (*role).to_owned()).collect();
            signin
                .add_account(login, name, &roles, PASSWORD)
                .await
                .expect("add an account");
        }
        let me = sign_in(&signin, "office").await;
        Office {
            router: router(workflow.clone(), people, &signin),
            workflow,
            clock,
            signin,
            me,
            _dir: dir,
        }
    }

    /// Signs another person in.
    async fn session(&self, login: &str) -> Session {
        sign_in(&self.signin, login).await
    }

    /// Opens a portal case of a service with its application attached, as `system` asked.
    async fn open(&self, system: &str, code: &str, number: &str) -> String {
        let request = OpenCaseRequest {
            application: Some(application(code, Channel::Portal, &["application"])),
            registration_number: number.into(),
            reply_to_system_id: String::new(),
        };
        self.workflow
            .open_case(request, system)
            .await
            .expect("opened")
            .id
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Option<String>, String) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("a body");
        (
            status,
            location,
            String::from_utf8(body.to_vec()).expect("UTF-8"),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        self.get_as(&self.me, uri).await
    }

    async fn get_as(&self, session: &Session, uri: &str) -> (StatusCode, String) {
        let request = Request::get(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &session.cookie)
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = self.send(request).await;
        (status, body)
    }

    async fn get_json(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body) = self.get(uri).await;
        (status, serde_json::from_str(&body).expect("a JSON body"))
    }

    async fn post_json(&self, uri: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw_json(uri, &body.to_string()).await
    }

    async fn post_raw_json(&self, uri: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::post(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.me.cookie)
            .header(egov_signin::CSRF_HEADER, &self.me.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request");
        let (status, _, body) = self.send(request).await;
        (status, serde_json::from_str(&body).expect("a JSON body"))
    }

    /// Posts a page's form as the all-roles person, with its CSRF token, from the same origin.
    async fn post_form(&self, uri: &str, form: &str) -> (StatusCode, Option<String>, String) {
        let me = self.me.clone();
        self.post_form_as(&me, uri, &format!("{form}&csrf={}", me.csrf), Some(HOST))
            .await
    }

    /// Posts a form as `session`, exactly as given, from `origin_host` if any.
    async fn post_form_as(
        &self,
        session: &Session,
        uri: &str,
        form: &str,
        origin_host: Option<&str>,
    ) -> (StatusCode, Option<String>, String) {
        let mut request = Request::post(uri)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &session.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin_host {
            request = request.header(header::ORIGIN, format!("http://{origin}"));
        }
        self.send(request.body(Body::from(form.to_owned())).expect("request"))
            .await
    }

    /// Takes the open step's action through the API, expecting it to be accepted.
    async fn act(&self, id: &str, action: &str) -> Value {
        let (status, case) = self
            .post_json(
                &format!("/api/cases/{id}/actions"),
                &json!({ "action": action }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {case}");
        case
    }
}

/// Signs a person in with the test password.
async fn sign_in(signin: &Signin, login: &str) -> Session {
    let (id, signed_in) = signin
        .sign_in(login, PASSWORD, Some("127.0.0.1"))
        .await
        .expect("signed in");
    Session {
        cookie: format!("egov-backoffice-session={id}"),
        csrf: signed_in.csrf,
    }
}

#[tokio::test]
async fn worklist_lists_the_role_s_tasks_overdue_first_and_marked() {
    let office = Office::start().await;
    office.open(systems::ESOBES.id, "C", "ESOBES-W1").await;
    office.clock.advance(Duration::from_secs(10 * 60)).await;
    office.open(systems::LABOR.id, "B", "LABOR-W1").await;
    // B's clerk has 2 min, C's 15: three minutes on, B is overdue and C is not.
    office.clock.advance(Duration::from_secs(3 * 60)).await;

    let (status, page) = office.get("/worklist?role=clerk&lang=ru").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Сотрудник канцелярии: мои задачи"), "{page}");
    assert!(page.contains("2 задачи"), "{page}");
    assert!(page.contains("Просрочено"), "{page}");
    let b = page.find("LABOR-W1").expect("B listed");
    let c = page.find("ESOBES-W1").expect("C listed");
    assert!(b < c, "the overdue task comes first");
    assert_eq!(page.matches("<tr class=\"overdue\">").count(), 1, "{page}");

    let (_, tasks) = office.get_json("/api/tasks?role=clerk").await;
    assert_eq!(tasks["role"], "clerk");
    let listed: Vec<(&str, bool)> = tasks["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| {
            (
                case["registration_number"].as_str().expect("number"),
                case["overdue"].as_bool().expect("overdue"),
            )
        })
        .collect();
    assert_eq!(listed, [("LABOR-W1", true), ("ESOBES-W1", false)]);

    let (_, page) = office.get("/worklist?role=head&lang=en").await;
    assert!(page.contains("No tasks"), "{page}");
}

#[tokio::test]
async fn worklist_without_a_role_picks_among_the_signed_in_person_s_roles() {
    let office = Office::start().await;
    let (status, page) = office.get("/worklist?lang=kk").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Жұмыс істейтін рөлді таңдаңыз"), "{page}");
    for id in ["pick-role-clerk", "pick-role-head", "pick-role-executor"] {
        assert!(page.contains(id), "{id} in {page}");
    }
    assert!(page.contains("id=\"signed-in-as\">Офис Барлық<"), "{page}");
    assert!(page.contains("id=\"signout\""), "{page}");
    assert!(
        page.contains("Жұмыс тізімінің есептік жазбасымен кірдіңіз"),
        "the footer says how sign-in works: {page}"
    );
    let (status, _, _) = office
        .send(Request::get("/").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_person_with_one_role_sees_that_role_s_worklist_and_only_that_role() {
    let office = Office::start().await;
    let head = office.session("bota").await;
    let (status, page) = office.get_as(&head, "/worklist?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Head: my tasks"), "{page}");
    assert!(
        !page.contains("role-clerk"),
        "no other role to switch to: {page}"
    );
    let (status, page) = office.get_as(&head, "/worklist?role=clerk&lang=en").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("You do not have the role for this"), "{page}");
}

#[tokio::test]
async fn every_page_and_call_needs_a_signed_in_caller() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-S1").await;
    let nobody = Session {
        cookie: "egov-backoffice-session=forged".into(),
        csrf: String::new(),
    };
    let (status, location, _) = office
        .send(
            Request::get(format!("/cases/{id}?lang=ru"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location
            .expect("to login")
            .starts_with("/login?lang=ru&next=/cases/")
    );
    let (status, _) = office.get_as(&nobody, "/api/tasks?role=clerk").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = office.get_as(&nobody, &format!("/api/cases/{id}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = office
        .post_form_as(
            &nobody,
            &format!("/cases/{id}/actions"),
            "action=register",
            Some(HOST),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, page) = office
        .get_as(&office.session("auditor").await, "/worklist")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no office role: {page}");
    assert!(
        office.workflow.case(&id).await.expect("case").steps[0]
            .ended_at
            .is_none()
    );
}

#[tokio::test]
async fn a_form_without_its_csrf_token_or_from_another_site_is_refused_and_the_case_is_unchanged() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-S2").await;
    let clerk = office.session("aigul").await;
    let uri = format!("/cases/{id}/actions");
    let (status, _, page) = office
        .post_form_as(&clerk, &uri, "lang=en&action=register", Some(HOST))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Form refused"), "{page}");
    let wrong = "lang=en&action=register&csrf=00";
    let (status, _, _) = office.post_form_as(&clerk, &uri, wrong, Some(HOST)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cross_site = format!("lang=en&action=register&csrf={}", clerk.csrf);
    let (status, _, _) = office
        .post_form_as(&clerk, &uri, &cross_site, Some("evil.example"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        office.workflow.case(&id).await.expect("case").steps[0]
            .ended_at
            .is_none()
    );
    let (status, _, _) = office
        .post_form_as(&clerk, &uri, &cross_site, Some(HOST))
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the same form from the worklist is taken"
    );
}

#[tokio::test]
async fn a_step_is_refused_with_403_to_a_person_without_its_role_and_the_case_is_unchanged() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-S3").await;
    let executor = office.session("dauren").await;
    let form = format!("lang=en&action=register&csrf={}", executor.csrf);
    let (status, _, page) = office
        .post_form_as(
            &executor,
            &format!("/cases/{id}/actions"),
            &form,
            Some(HOST),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("You do not have the role for this"), "{page}");
    assert!(page.contains("&#34;clerk&#34;"), "names the role: {page}");
    assert!(
        office.workflow.case(&id).await.expect("case").steps[0]
            .ended_at
            .is_none()
    );
    // The form's role is not believed: a `role=clerk` field changes nothing.
    let form = format!("role=clerk&lang=en&action=register&csrf={}", executor.csrf);
    let (status, _, _) = office
        .post_form_as(
            &executor,
            &format!("/cases/{id}/actions"),
            &form,
            Some(HOST),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_step_records_the_signed_in_person_who_took_it() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-S4").await;
    let clerk = office.session("aigul").await;
    let form = format!("lang=en&action=register&csrf={}", clerk.csrf);
    let (status, location, _) = office
        .post_form_as(&clerk, &format!("/cases/{id}/actions"), &form, Some(HOST))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = office.get_as(&clerk, &location.expect("to the case")).await;
    assert!(
        page.contains("<td class=\"actor\">Айгүл Серікова (aigul)</td>"),
        "{page}"
    );
    let case = office.act(&id, "assign").await;
    assert_eq!(case["steps"][0]["actor"], "Айгүл Серікова (aigul)");
    assert_eq!(case["steps"][1]["actor"], "Офис Барлық (office)");
}

#[tokio::test]
async fn an_api_token_acts_as_its_account_with_its_roles() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-S5").await;
    let (_, token) = office
        .signin
        .issue_token("aigul", "intake")
        .await
        .expect("token");
    let call = |method: &str, uri: String, body: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    let (status, _, body) = office.send(call("GET", "/api/tasks".into(), "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("LABOR-S5"), "{body}");
    let actions = format!("/api/cases/{id}/actions");
    let (status, _, body) = office
        .send(call("POST", actions.clone(), r#"{"action":"register"}"#))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = office
        .send(call("POST", actions, r#"{"action":"assign"}"#))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the clerk's token cannot assign: {body}"
    );
    assert!(body.contains("\"forbidden\""), "{body}");
}

#[tokio::test]
async fn case_page_shows_documents_and_steps_and_the_form_only_to_the_step_s_role() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-W2").await;

    let (status, page) = office.get(&format!("/cases/{id}?role=clerk&lang=kk")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Жұмыссыз азаматтарға анықтама беру"),
        "{page}"
    );
    assert!(page.contains("Құжаттар (Стандарттың 9-тармағы)"), "{page}");
    assert!(page.contains("850102300131"), "the recipient's IIN");
    assert!(page.contains("id=\"do-register\""), "{page}");
    // On the portal the identity document is not asked for: listed, not required, not there.
    assert!(page.contains("міндетті емес"), "{page}");
    assert!(page.contains("Жоқ"), "{page}");

    let (_, page) = office.get(&format!("/cases/{id}?role=head&lang=kk")).await;
    assert!(!page.contains("id=\"do-register\""), "{page}");
    assert!(page.contains("Рөліңізді ауыстырыңыз"), "{page}");
}

#[tokio::test]
async fn form_post_takes_the_action_and_redirects_to_the_case() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-W3").await;
    let (status, location, _) = office
        .post_form(
            &format!("/cases/{id}/actions"),
            "lang=ru&action=register&comment=%D0%BF%D1%80%D0%B8%D0%BD%D1%8F%D1%82%D0%BE",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.expect("a Location");
    assert_eq!(
        location,
        format!("/cases/{id}?role=clerk&lang=ru&done=register")
    );
    let (_, page) = office.get(&location).await;
    assert!(page.contains("Шаг выполнен: Зарегистрировано"), "{page}");
    assert!(
        page.contains("принято"),
        "the comment is in the history: {page}"
    );
}

#[tokio::test]
async fn refusal_without_a_ground_is_shown_on_the_page_and_the_case_is_unchanged() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-W4").await;
    office.act(&id, "register").await;
    office.act(&id, "assign").await;
    let (_, before) = office.get_json(&format!("/api/cases/{id}")).await;

    let (status, _, page) = office
        .post_form(
            &format!("/cases/{id}/actions"),
            "lang=ru&action=refuse&refusal_ground=&comment=",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Не указано или неверно основание для отказа"),
        "{page}"
    );
    assert!(page.contains("a refusal needs an item-10 ground"), "{page}");
    assert!(page.contains("Дело не изменено"), "{page}");
    assert!(page.contains("id=\"do-draft\""), "the form is still there");

    let (status, _, page) = office
        .post_form(&format!("/cases/{id}/actions"), "lang=en&action=sign")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("The action is not the current step&#39;s"),
        "{page}"
    );

    let (_, after) = office.get_json(&format!("/api/cases/{id}")).await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn api_walks_a_case_through_every_step_to_its_certificate() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-W5").await;
    let (status, case) = office.get_json(&format!("/api/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(case["current"]["role"], "clerk");
    assert_eq!(case["current"]["actions"], json!(["register"]));
    assert_eq!(case["documents"][0]["present"], true);

    office.act(&id, "register").await;
    let case = office.act(&id, "assign").await;
    assert_eq!(case["current"]["actions"], json!(["draft", "refuse"]));
    assert_eq!(
        case["current"]["refusal_grounds"][0]["code"],
        "documents_do_not_match_item_9"
    );
    let (status, case) = office
        .post_json(
            &format!("/api/cases/{id}/actions"),
            &json!({ "action": "draft", "comment": "documents in order" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(case["decision"]["decision"], "approve");
    assert_eq!(case["steps"][2]["comment"], "documents in order");
    office.act(&id, "sign").await;
    let case = office.act(&id, "issue").await;
    assert_eq!(case["closed"], true);
    assert_eq!(case["current"], Value::Null);
    assert_eq!(case["result"]["kind"], "certificate");
    assert_eq!(case["result"]["reply_to_system_id"], "labor");
    let roles: Vec<&str> = case["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| step["role"].as_str().expect("role"))
        .collect();
    assert_eq!(roles, ["clerk", "head", "executor", "head", "clerk"]);
}

#[tokio::test]
async fn api_refusals_carry_a_code_and_an_http_status_per_kind() {
    let office = Office::start().await;
    let id = office.open(systems::LABOR.id, "B", "LABOR-W6").await;
    let actions = format!("/api/cases/{id}/actions");
    let refused = |status: StatusCode, body: &Value, expected: StatusCode, code: &str| {
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    };

    let (status, body) = office.get_json("/api/cases/no-such-case").await;
    refused(status, &body, StatusCode::NOT_FOUND, "case_not_found");
    let (status, body) = office
        .post_json(&actions, &json!({ "action": "sign" }))
        .await;
    refused(status, &body, StatusCode::CONFLICT, "wrong_action");
    // The acting role comes from the account, never from the body.
    let (status, body) = office
        .post_json(&actions, &json!({ "role": "head", "action": "register" }))
        .await;
    refused(status, &body, StatusCode::BAD_REQUEST, "invalid_argument");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("unknown field `role`"),
        "{body}"
    );
    let (status, body) = office
        .post_raw_json(&actions, "{\"role\": \"clerk\"}")
        .await;
    refused(status, &body, StatusCode::BAD_REQUEST, "invalid_argument");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("body:")
    );
    let (status, body) = office.get_json("/api/tasks").await;
    refused(status, &body, StatusCode::BAD_REQUEST, "invalid_argument");

    office.act(&id, "register").await;
    office.act(&id, "assign").await;
    let (status, body) = office
        .post_json(&actions, &json!({ "action": "refuse" }))
        .await;
    refused(status, &body, StatusCode::BAD_REQUEST, "refusal_ground");
    let (status, body) = office
        .post_json(
            &actions,
            &json!({ "action": "refuse", "refusal_ground": "documents_do_not_match_item_9" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["decision"]["refusal_ground"],
        "documents_do_not_match_item_9"
    );
    office.act(&id, "sign").await;
    let closed = office.act(&id, "issue").await;
    assert_eq!(closed["result"]["kind"], "refusal");
    let (status, body) = office
        .post_json(&actions, &json!({ "action": "issue" }))
        .await;
    refused(status, &body, StatusCode::CONFLICT, "case_closed");
}

#[tokio::test]
async fn everything_the_application_brings_is_escaped_on_the_pages() {
    let office = Office::start().await;
    let number = "<script>alert(\"x\")</script>";
    let id = office.open(systems::LABOR.id, "B", number).await;
    for uri in [
        format!("/cases/{id}?role=clerk&lang=en"),
        "/worklist?role=clerk&lang=en".to_owned(),
    ] {
        let (_, page) = office.get(&uri).await;
        assert!(!page.contains("<script>"), "{uri}: {page}");
        assert!(page.contains("&#60;script&#62;"), "{uri}: {page}");
    }
}

#[tokio::test]
async fn unknown_case_and_unknown_role_are_named_on_an_error_page() {
    let office = Office::start().await;
    let (status, page) = office.get("/cases/no-such-case?lang=en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Case not found"), "{page}");
    assert!(page.contains("no-such-case"), "{page}");
    let (status, page) = office.get("/worklist?role=director&lang=ru").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Неверный запрос"), "{page}");
    assert!(page.contains("director"), "{page}");
}

/// Sends a bare HTTP/1.0 request and returns the whole answer, head and body.
async fn http(addr: std::net::SocketAddr, line: &str, headers: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{line} HTTP/1.0\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8(answer).expect("UTF-8")
}

#[tokio::test]
async fn worklist_is_served_behind_sign_in_on_the_back_office_s_http_port_beside_health() {
    let stack = Stack::start(
        next_monday_morning(),
        Options {
            manual: vec!["B"],
            ..Options::default()
        },
    )
    .await;
    stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-HTTP-1",
        )
        .await
        .expect("opened through the gateway");
    let page = http(stack.http_addr(), "GET /worklist?lang=en", "", "").await;
    assert!(page.starts_with("HTTP/1.0 303"), "{page}");
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nOrigin: http://{}\r\n",
        stack.http_addr()
    );
    let form = format!(
        "login={}&password={}&next=/worklist",
        crate::common::CLERK.0,
        crate::common::WORKLIST_PASSWORD.replace(' ', "+")
    );
    let answer = http(stack.http_addr(), "POST /login", &headers, &form).await;
    assert!(answer.starts_with("HTTP/1.0 303"), "{answer}");
    let cookie = answer
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|cookie| cookie.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let page = http(
        stack.http_addr(),
        "GET /worklist?lang=en",
        &format!("Cookie: {cookie}\r\n"),
        "",
    )
    .await;
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    assert!(page.contains("LABOR-HTTP-1"), "{page}");
    assert!(page.contains(crate::common::CLERK.1), "{page}");
    let health = http(stack.http_addr(), "GET /health", "", "").await;
    assert!(health.contains("\"backoffice\""), "{health}");
}
