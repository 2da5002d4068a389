//! What holds for any store that several instances share: each scenario starts two
//! servers on one [`SharedStore`] and checks that what one instance did, the other sees.
//! [`shared_store_tests!`](crate::shared_store_tests) runs every scenario on a store.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::PASSWORD;
use crate::app::TestApp;
use crate::smtp::{Answer, MailCatcher};
use crate::store::SharedStore;

/// Generates one `#[tokio::test]` per scenario of [`two_instances`](crate::two_instances),
/// each on a fresh store from `$store`: an async expression that yields
/// `Option<SharedStore>` (`None` skips the test, for a database that is not there).
#[macro_export]
macro_rules! shared_store_tests {
    ($store:expr) => {
        $crate::shared_store_tests!(@cases $store;
            a_signout_on_one_instance_is_refused_at_once_by_another,
            thirty_concurrent_signups_with_one_email_on_two_instances_make_one_account,
            two_instances_on_one_database_share_the_address_budget_and_the_account_throttle,
            two_instances_on_one_database_let_concurrent_right_signins_through_and_stop_guesses_at_the_limit,
            two_instances_sending_to_one_mail_server_send_each_mail_once,
            a_mail_queued_by_an_instance_that_stops_is_delivered_by_the_next,
        );
    };
    (@cases $store:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(store) = $store.await {
                    $crate::two_instances::$case(store).await;
                }
            }
        )*
    };
}

/// A signout on one instance ends the session for every instance at once.
pub async fn a_signout_on_one_instance_is_refused_at_once_by_another(store: SharedStore) {
    let first = store.app().start().await;
    let second = store.app().start().await;
    let user = first.signed_up_as("shared@example.com").await;
    assert_eq!(second.me(&user.token).await.status(), StatusCode::OK);

    let signout = second
        .exchange(Method::POST, "/api/auth/signout", Some(&user.token), None)
        .await;
    assert_eq!(signout.status, StatusCode::OK);
    let me = first
        .exchange(Method::GET, "/api/auth/me", Some(&user.token), None)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.body["code"], "token_revoked");
}

/// Thirty signups at once with one email (in two cases), split over two instances: one
/// account, and every other attempt is `email_taken`.
pub async fn thirty_concurrent_signups_with_one_email_on_two_instances_make_one_account(
    store: SharedStore,
) {
    let unlimited = [("AUTH_RATE_LIMIT_PER_MINUTE", "0"), ("HASH_QUEUE", "64")];
    let first = store.app().settings(&unlimited).start().await;
    let second = store.app().settings(&unlimited).start().await;
    let attempts = (0..30).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        let email = if n % 3 == 0 {
            "RACE@example.com"
        } else {
            "race@example.com"
        };
        let body = json!({"name": "Sam", "email": email, "password": PASSWORD});
        async move {
            app.exchange(Method::POST, "/api/auth/signup", None, Some(&body))
                .await
        }
    });
    let mut created = 0;
    for reply in join_all(attempts).await {
        match reply.status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => {
                assert_eq!(reply.body["code"], "email_taken", "{}", reply.body);
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(created, 1);
}

/// The address budget, and then the account throttle, each counted over both instances.
pub async fn two_instances_on_one_database_share_the_address_budget_and_the_account_throttle(
    store: SharedStore,
) {
    let by_address = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "3"),
        ("ACCOUNT_FAILURE_LIMIT", "0"),
    ];
    let (a, b) = store.two_apps(&by_address).await;
    for app in [&a, &a, &b] {
        let status = app
            .signin_status("nobody@example.com", "wrong-password-1")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    for app in [&b, &a] {
        let status = app
            .signin_status("nobody@example.com", "wrong-password-1")
            .await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "the budget is shared"
        );
    }

    let by_account = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("ACCOUNT_FAILURE_LIMIT", "2"),
    ];
    let (c, d) = store.two_apps(&by_account).await;
    c.signed_up_as("guarded@example.com").await;
    for app in [&c, &d] {
        let status = app
            .signin_status("guarded@example.com", "wrong-password-1")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let status = c.signin_status("GUARDED@example.com", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the throttle is shared"
    );
}

/// Sixteen signins at once on one account, split over two instances: the outcome of each.
async fn concurrent_signins(apps: [&TestApp; 2], email: &str, password: &str) -> Vec<StatusCode> {
    let attempts = (0..16).map(|i| apps[i % 2].signin_status(email, password));
    join_all(attempts).await
}

/// Sixteen right-password signins at once over two instances all succeed; sixteen wrong
/// guesses at once get the limit's five checks, then 429, and so does the right password.
pub async fn two_instances_on_one_database_let_concurrent_right_signins_through_and_stop_guesses_at_the_limit(
    store: SharedStore,
) {
    // A cost that makes checks overlap, and a hashing queue that holds them all.
    let limits = [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("ACCOUNT_FAILURE_LIMIT", "5"),
        ("HASH_QUEUE", "32"),
        ("BCRYPT_COST", "8"),
    ];
    let (a, b) = store.two_apps(&limits).await;
    a.signed_up_as("owner@example.com").await;
    let right = concurrent_signins([&a, &b], "owner@example.com", PASSWORD).await;
    assert!(right.iter().all(|s| *s == StatusCode::OK), "{right:?}");

    b.signed_up_as("target@example.com").await;
    let wrong = concurrent_signins([&a, &b], "target@example.com", "wrong-password-1").await;
    let checked = wrong
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    let refused = wrong
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 11), "{wrong:?}");
    assert_eq!(
        a.signin_status("target@example.com", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Two instances on one store, both sending to one mail server: every verification mail
/// of the signups on either arrives exactly once.
pub async fn two_instances_sending_to_one_mail_server_send_each_mail_once(store: SharedStore) {
    let catcher = MailCatcher::start(Answer::Accept).await;
    let url = catcher.url();
    let first = store.app().setting("SMTP_URL", &url).start().await;
    let second = store.app().setting("SMTP_URL", &url).start().await;
    let emails: Vec<String> = (0..12).map(|i| format!("once-{i}@example.com")).collect();
    join_all(emails.iter().enumerate().map(|(i, email)| {
        let app = if i % 2 == 0 { &first } else { &second };
        app.signed_up_as(email)
    }))
    .await;
    for email in &emails {
        catcher.wait_for(email, "Verify your email").await;
    }
    // Long enough for a second sender to have sent any mail twice.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let caught = catcher.caught();
    for email in &emails {
        let copies = caught.iter().filter(|mail| &mail.to == email).count();
        assert_eq!(copies, 1, "{email} got {copies} mails");
    }
}

/// A mail queued while the mail server is down, by an instance that then stops, is
/// delivered by an instance started later on the same store: the queue is in the store.
pub async fn a_mail_queued_by_an_instance_that_stops_is_delivered_by_the_next(store: SharedStore) {
    let mut catcher = MailCatcher::stopped().await;
    let url = catcher.url();
    let first = store.app().setting("SMTP_URL", &url).start().await;
    first.signed_up_as("restart@example.com").await;
    // Its first try fails (nothing listens), then it stops before the next.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.halt();
    catcher.resume().await;
    let _second = store.app().setting("SMTP_URL", &url).start().await;
    let mail = catcher
        .wait_for("restart@example.com", "Verify your email")
        .await;
    assert!(mail.token("verify-email").is_some_and(|t| t.len() == 43));
}
