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

use egov_core::systems;
use egov_proto::v1::{Channel, ResultKind};
use egov_testkit::browser;
use egov_testkit::browser::Page;

use common::{
    CLERK, EXECUTOR, HEAD, Options, Stack, WORKLIST_PASSWORD, application, next_monday_morning,
    service_result,
};

/// Submits the login form on the page.
async fn submit_login(page: &Page, login: &str, password: &str) {
    page.fill("#login", login).await;
    page.fill("#password", password).await;
    page.submit("#signin-submit").await;
}

/// Opens the login page in `lang`, signs in and opens the case from the person's worklist.
async fn sign_in_and_open(page: &Page, base: &str, login: &str, lang: &str, number: &str) {
    page.goto(&format!(
        "{base}/login?lang={lang}&next=%2Fworklist%3Flang%3D{lang}"
    ))
    .await;
    submit_login(page, login, WORKLIST_PASSWORD).await;
    page.text_of("#worklist-heading").await;
    // The case is in the person's worklist.
    page.follow_link(number).await;
}

/// Walks the case through every step by hand, as the three people do.
async fn walk_every_step(page: Page, base: String, number: &'static str) {
    // The worklist sends a visitor to the login page; a wrong password is refused there.
    page.goto(&format!("{base}/worklist?lang=kk")).await;
    assert_eq!(page.text_of("h1").await, "Жүйеге кіру");
    submit_login(&page, CLERK.0, "not the password").await;
    assert_eq!(
        page.text_of("#signin-error").await,
        "Авторизациядан бас тарту. Логин немесе құпиясөз қате."
    );

    // The clerk signs in and lands on their own worklist in Kazakh.
    submit_login(&page, CLERK.0, WORKLIST_PASSWORD).await;
    assert_eq!(
        page.text_of("#worklist-heading").await,
        "Кеңсе маманы: менің тапсырмаларым"
    );
    assert_eq!(page.text_of("#signed-in-as").await, CLERK.1);
    // The case is in the clerk's worklist.
    page.follow_link(number).await;
    assert_eq!(page.text_of("#do-register").await, "Тіркеу");
    page.submit("#do-register").await;
    assert_eq!(page.text_of("#done").await, "Қадам орындалды: Тіркелді");
    page.submit("#signout").await;
    assert_eq!(
        page.text_of("#signin-notice").await,
        "Сіз жүйеден шықтыңыз."
    );

    // The head assigns the executor.
    sign_in_and_open(&page, &base, HEAD.0, "kk", number).await;
    assert!(page.text_of("#form-assign").await.contains("Дәурен Омаров"));
    page.submit("#do-assign").await;
    page.text_of("#done").await;

    // Russian from here on; the executor first refuses without a ground.
    page.submit("#lang-ru").await;
    page.element("html[lang='ru']").await;
    assert!(page.text_of("body").await.contains("Руководитель"));
    page.submit("#signout").await;
    assert_eq!(page.text_of("#signin-notice").await, "Вы вышли из системы.");
    sign_in_and_open(&page, &base, EXECUTOR.0, "ru", number).await;
    assert_eq!(
        page.text_of("#do-draft").await,
        "Подготовить проект результата"
    );
    page.submit("#do-refuse").await;
    let error = page.text_of("#error").await;
    assert!(
        error.contains("Не указано или неверно основание для отказа")
            && error.contains("a refusal needs an item-10 ground")
            && error.contains("Дело не изменено"),
        "{error}"
    );
    page.submit("#do-draft").await;
    assert_eq!(
        page.text_of("#done").await,
        "Шаг выполнен: Проект подготовлен"
    );
    page.submit("#signout").await;

    // The head signs what the executor drafted, the clerk issues it.
    sign_in_and_open(&page, &base, HEAD.0, "ru", number).await;
    assert!(
        page.text_of("#decision")
            .await
            .contains("Справка о регистрации в качестве безработного")
    );
    page.submit("#do-sign").await;
    page.text_of("#done").await;
    page.submit("#signout").await;
    sign_in_and_open(&page, &base, CLERK.0, "ru", number).await;
    page.submit("#do-issue").await;
    assert_eq!(
        page.text_of("#case-closed").await,
        "Дело закрыто, результат выдан"
    );
    assert_eq!(
        page.text_of("#result-kind").await,
        "Справка о регистрации в качестве безработного"
    );

    // The history names the person who took each step.
    let history = page.text_of("#history").await;
    for (login, name) in [CLERK, HEAD, EXECUTOR] {
        assert!(
            history.contains(&format!("{name} ({login})")),
            "{name} in the history: {history}"
        );
    }

    // Nothing is left in the clerk's worklist.
    page.submit("#my-tasks").await;
    assert_eq!(page.text_of("#no-tasks").await, "Задач нет");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_head_and_executor_walk_a_case_in_the_browser_to_a_delivered_certificate() {
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

    let (_driver, page) = browser::open(1200, 900, env!("CARGO_TARGET_TMPDIR")).await;
    // The walk runs as its own task so that a failed assertion still closes the browser.
    let walked = tokio::spawn(walk_every_step(
        page.clone(),
        format!("http://{}", stack.http_addr()),
        NUMBER,
    ))
    .await;
    page.close().await;
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
