//! The worklist in a real browser: the back office in-process on port 0 behind the sandbox
//! gateway (service B under the manual policy), Debian's `chromedriver` started as a child
//! on a free port, and headless Chromium driven through fantoccini by hand through every step
//! — the clerk signs in (after a wrong password is refused) and registers, signs out; the
//! head signs in and assigns; the executor drafts (after a refusal without a ground is shown
//! on the page); the head signs; the clerk issues — each person with their own account, in
//! Kazakh then Russian, and the history names who took each step. Needs
//! `apt-get install chromium chromium-driver` (`./dev` installs them); fails, never skips.

#[path = "backoffice/common.rs"]
#[allow(dead_code)] // shared with the `backoffice` test binary, which uses the rest of it
mod common;

use std::time::Duration;

use egov_core::systems;
use egov_proto::v1::{Channel, ResultKind};
use egov_testkit::browser;
use fantoccini::{Client, Locator};

use common::{
    CLERK, EXECUTOR, HEAD, Options, Stack, WORKLIST_PASSWORD, application, next_monday_morning,
    service_result,
};

/// How long chromedriver may take to listen, and a page to show an element.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Waits for an element and returns its text.
async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} on the page: {error}"))
        .text()
        .await
        .unwrap_or_else(|error| panic!("no text of {css}: {error}"))
}

/// Clicks an element once it is there.
async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to click: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css} failed: {error}"));
}

/// Returns the whole page's text, as a person reads it.
async fn page_text(client: &Client) -> String {
    text_of(client, "body").await
}

/// Types into a field once it is there, replacing what it held.
async fn fill(client: &Client, css: &str, text: &str) {
    let field = client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to fill: {error}"));
    field.clear().await.expect("clear the field");
    field.send_keys(text).await.expect("type into the field");
}

/// Submits the login form on the page.
async fn submit_login(client: &Client, login: &str, password: &str) {
    fill(client, "#login", login).await;
    fill(client, "#password", password).await;
    click(client, "#signin-submit").await;
}

/// Opens the login page in `lang`, signs in and opens the case from the person's worklist.
async fn sign_in_and_open(client: &Client, base: &str, login: &str, lang: &str, number: &str) {
    client
        .goto(&format!(
            "{base}/login?lang={lang}&next=%2Fworklist%3Flang%3D{lang}"
        ))
        .await
        .expect("the login page opens");
    submit_login(client, login, WORKLIST_PASSWORD).await;
    text_of(client, "#worklist-heading").await;
    client
        .find(Locator::LinkText(number))
        .await
        .unwrap_or_else(|error| panic!("{number} is not in {login}'s worklist: {error}"))
        .click()
        .await
        .expect("the case opens");
}

/// Walks the case through every step by hand, as the three people do.
async fn walk_every_step(client: Client, base: String, number: &'static str) {
    // The worklist sends a visitor to the login page; a wrong password is refused there.
    client
        .goto(&format!("{base}/worklist?lang=kk"))
        .await
        .expect("the worklist opens");
    assert_eq!(text_of(&client, "h1").await, "Жүйеге кіру");
    submit_login(&client, CLERK.0, "not the password").await;
    assert_eq!(
        text_of(&client, "#signin-error").await,
        "Авторизациядан бас тарту. Логин немесе құпиясөз қате."
    );

    // The clerk signs in and lands on their own worklist in Kazakh.
    submit_login(&client, CLERK.0, WORKLIST_PASSWORD).await;
    assert_eq!(
        text_of(&client, "#worklist-heading").await,
        "Кеңсе маманы: менің тапсырмаларым"
    );
    assert_eq!(text_of(&client, "#signed-in-as").await, CLERK.1);
    client
        .find(Locator::LinkText(number))
        .await
        .expect("the case is in the clerk's worklist")
        .click()
        .await
        .expect("the case opens");
    assert_eq!(text_of(&client, "#do-register").await, "Тіркеу");
    click(&client, "#do-register").await;
    assert_eq!(text_of(&client, "#done").await, "Қадам орындалды: Тіркелді");
    click(&client, "#signout").await;
    assert_eq!(
        text_of(&client, "#signin-notice").await,
        "Сіз жүйеден шықтыңыз."
    );

    // The head assigns the executor.
    sign_in_and_open(&client, &base, HEAD.0, "kk", number).await;
    assert!(
        text_of(&client, "#form-assign")
            .await
            .contains("Дәурен Омаров")
    );
    click(&client, "#do-assign").await;
    text_of(&client, "#done").await;

    // Russian from here on; the executor first refuses without a ground.
    click(&client, "#lang-ru").await;
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css("html[lang='ru']"))
        .await
        .expect("the page switches to Russian");
    assert!(page_text(&client).await.contains("Руководитель"));
    click(&client, "#signout").await;
    assert_eq!(
        text_of(&client, "#signin-notice").await,
        "Вы вышли из системы."
    );
    sign_in_and_open(&client, &base, EXECUTOR.0, "ru", number).await;
    assert_eq!(
        text_of(&client, "#do-draft").await,
        "Подготовить проект результата"
    );
    click(&client, "#do-refuse").await;
    let error = text_of(&client, "#error").await;
    assert!(
        error.contains("Не указано или неверно основание для отказа")
            && error.contains("a refusal needs an item-10 ground")
            && error.contains("Дело не изменено"),
        "{error}"
    );
    click(&client, "#do-draft").await;
    assert_eq!(
        text_of(&client, "#done").await,
        "Шаг выполнен: Проект подготовлен"
    );
    click(&client, "#signout").await;

    // The head signs what the executor drafted, the clerk issues it.
    sign_in_and_open(&client, &base, HEAD.0, "ru", number).await;
    assert!(
        text_of(&client, "#decision")
            .await
            .contains("Справка о регистрации в качестве безработного")
    );
    click(&client, "#do-sign").await;
    text_of(&client, "#done").await;
    click(&client, "#signout").await;
    sign_in_and_open(&client, &base, CLERK.0, "ru", number).await;
    click(&client, "#do-issue").await;
    assert_eq!(
        text_of(&client, "#case-closed").await,
        "Дело закрыто, результат выдан"
    );
    assert_eq!(
        text_of(&client, "#result-kind").await,
        "Справка о регистрации в качестве безработного"
    );

    // The history names the person who took each step.
    let history = text_of(&client, "#history").await;
    for (login, name) in [CLERK, HEAD, EXECUTOR] {
        assert!(
            history.contains(&format!("{name} ({login})")),
            "{name} in the history: {history}"
        );
    }

    // Nothing is left in the clerk's worklist.
    click(&client, "#my-tasks").await;
    assert_eq!(text_of(&client, "#no-tasks").await, "Задач нет");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_head_and_executor_walk_a_case_in_the_browser_to_a_delivered_certificate() {
    let chromium = browser::chromium();
    let mut driver = browser::ChromeDriver::start();
    let webdriver = driver.ready().await;

    let stack = Stack::start(
        next_monday_morning(),
        Options {
            manual: vec!["B"],
            ..Options::default()
        },
    )
    .await;
    const NUMBER: &str = "LABOR-UI-1";
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            NUMBER,
        )
        .await
        .expect("opened through the gateway");

    let client = browser::session(&webdriver, &chromium, 1200, 900).await;
    // The walk runs as its own task so that a failed assertion still closes the browser.
    let walked = tokio::spawn(walk_every_step(
        client.clone(),
        format!("http://{}", stack.http_addr()),
        NUMBER,
    ))
    .await;
    let _ = client.close().await;
    if let Err(error) = walked {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the browser walk did not finish: {error}"),
        }
    }

    let case = stack.case(&opened.id).await;
    assert!(case.closed);
    assert_eq!(
        case.result.expect("a result").kind(),
        ResultKind::Certificate
    );
    let received = stack.wait_received(systems::LABOR.id, 1).await;
    let delivered = service_result(&received[0]);
    assert_eq!(delivered.kind(), ResultKind::Certificate);
    assert_eq!(delivered.registration_number, NUMBER);
}
