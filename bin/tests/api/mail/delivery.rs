//! Delivery: a mail server that is down, refuses for now or for good; the metrics; the
//! token in no log line; deleted accounts' mail.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_test_kit::{Answer, MailCatcher};

use super::{VERIFY, forgot, sending_to};
use crate::helpers::{TestApp, expect_status};

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics", None)
        .await
        .text()
        .await
        .expect("a text body")
}

fn metric(page: &str, name_and_labels: &str) -> u64 {
    page.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_mail_queued_while_the_server_is_down_arrives_once_it_is_back() {
    let mut catcher = MailCatcher::stopped().await;
    let app = sending_to(&catcher).start().await;
    let user = app.signed_up_user().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = metrics(&app).await;
    assert!(
        metric(
            &page,
            "tessera_mail_failed_total{kind=\"verify_email\",reason=\"unreachable\"}"
        ) >= 1,
        "{page}"
    );
    catcher.resume().await;
    catcher.wait_for(&user.email, VERIFY).await;
    assert_eq!(
        catcher
            .count_after(&user.email, VERIFY, Duration::from_secs(1))
            .await,
        1
    );
    let page = metrics(&app).await;
    assert_eq!(
        metric(&page, "tessera_mail_sent_total{kind=\"verify_email\"}"),
        1,
        "{page}"
    );
    assert_eq!(metric(&page, "tessera_mail_queue"), 0, "{page}");
}

#[tokio::test]
async fn a_451_is_tried_again_and_the_mail_arrives() {
    let catcher = MailCatcher::start(Answer::RefuseForNow(1)).await;
    let app = sending_to(&catcher).start().await;
    let user = app.signed_up_user().await;
    catcher.wait_for(&user.email, VERIFY).await;
    assert_eq!(catcher.refused(), vec![451]);
    let page = metrics(&app).await;
    assert_eq!(
        metric(
            &page,
            "tessera_mail_failed_total{kind=\"verify_email\",reason=\"temporary\"}"
        ),
        1,
        "{page}"
    );
}

#[tokio::test]
async fn a_550_drops_the_mail_for_good() {
    let catcher = MailCatcher::start(Answer::RefuseForGood).await;
    let app = sending_to(&catcher).start().await;
    let user = app.signed_up_user().await;
    forgot(&app, &user.email).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Refused once each, never tried again.
    assert_eq!(catcher.refused(), vec![550, 550]);
    assert!(catcher.caught().is_empty());
    let page = metrics(&app).await;
    for kind in ["verify_email", "reset_password"] {
        assert_eq!(
            metric(
                &page,
                &format!("tessera_mail_failed_total{{kind=\"{kind}\",reason=\"permanent\"}}")
            ),
            1,
            "{page}"
        );
    }
    assert_eq!(metric(&page, "tessera_mail_queue"), 0, "{page}");
}

#[tokio::test]
async fn a_deleted_account_s_queued_mail_is_never_sent() {
    let mut catcher = MailCatcher::stopped().await;
    let app = sending_to(&catcher).start().await;
    let user = app.signed_up_user().await;
    expect_status(
        app.json_request(
            Method::DELETE,
            "/api/auth/me",
            &json!({"password": user.password}),
            user.auth(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    catcher.resume().await;
    assert_eq!(
        catcher
            .count_after(&user.email, VERIFY, Duration::from_secs(4))
            .await,
        0
    );
}
