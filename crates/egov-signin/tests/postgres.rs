//! Sign-in on PostgreSQL: the same tables and queries as on SQLite, through a throw-away
//! cluster from egov-testkit, beside a service's own migrations in the same database.

use std::time::Duration;

use egov_core::clock::VirtualClock;
use egov_signin::{Settings, Signin};
use egov_store::StoreOptions;
use egov_testkit::PostgresServer;
use time::macros::datetime;

#[tokio::test]
async fn accounts_sessions_and_tokens_work_on_postgresql_and_survive_a_reopen() {
    let postgres = PostgresServer::start().expect("postgres starts");
    let url = postgres.create_database("signin").expect("database");
    let pool = StoreOptions::new("database_url", &url)
        .open(None)
        .await
        .expect("open the pool");
    let clock = VirtualClock::new(datetime!(2026-12-07 09:00 UTC));
    let settings = Settings::new("office", "Office");
    let signin = Signin::open(pool.clone(), settings.clone(), clock.shared())
        .await
        .expect("open sign-in");
    signin
        .add_account(
            "aigul",
            "Айгүл Серікова",
            &["clerk".into(), "head".into()],
            "clerk password",
        )
        .await
        .expect("add");
    let (session, signed_in) = signin
        .sign_in("aigul", "clerk password", Some("10.0.0.1"))
        .await
        .expect("signed in");
    assert_eq!(signed_in.person.roles, ["clerk", "head"]);
    let (id, token) = signin.issue_token("aigul", "sync").await.expect("token");

    // Opening again applies no migration twice and keeps everything.
    let signin = Signin::open(pool, settings, clock.shared())
        .await
        .expect("reopen");
    assert_eq!(
        signin
            .session(&session)
            .await
            .expect("read")
            .map(|s| s.csrf),
        Some(signed_in.csrf)
    );
    assert_eq!(
        signin
            .token_caller(&token)
            .await
            .expect("read")
            .map(|c| c.token_id),
        Some(id.clone())
    );
    signin.revoke_token(&id).await.expect("revoke");
    assert!(signin.token_caller(&token).await.expect("read").is_none());
    assert!(signin.tokens().await.expect("list")[0].revoked_at.is_some());

    clock.advance(Duration::from_secs(3600)).await;
    assert_eq!(
        signin.sweep().await.expect("sweep"),
        1,
        "the idle session is deleted"
    );
    assert!(signin.session(&session).await.expect("read").is_none());
}
