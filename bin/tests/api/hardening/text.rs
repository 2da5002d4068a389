//! The text rules of names, titles and descriptions: controls, bidi and invisible
//! characters.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    ForgedToken, app_with_user, assert_validation, expect_status, spawn_app, string_at, tasks_path,
    unique_password,
};

#[tokio::test]
async fn names_refuse_controls_and_bidi_and_count_invisible_only_as_empty() {
    let app = spawn_app().await;
    for name in ["\u{200b}", "\u{feff}", " \u{200b}\u{2060} "] {
        let response = app.signup(name, &email("blank"), &unique_password()).await;
        assert_validation(response, "name", "Name is required").await;
    }
    for name in [
        "Bob\r\nSet-Cookie: x=1",
        "\u{1b}[31mred\u{1b}[0m",
        "Bob\u{202e}gnp.exe",
    ] {
        let response = app.signup(name, &email("ctl"), &unique_password()).await;
        assert_validation(response, "name", "Name contains an invalid character").await;
    }
    let family = "Ann \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let body = expect_status(
        app.signup(family, &email("emoji"), &unique_password())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["user"]["name"], family);
    let claims = ForgedToken::parse(&string_at(&body, "/token")).claims;
    assert_eq!(claims["name"], family);
}

#[tokio::test]
async fn titles_and_descriptions_follow_the_text_rules() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    let cases = [
        (json!({"title": "\u{200b}"}), "title", "Title is required"),
        (json!({"title": "\u{feff} "}), "title", "Title is required"),
        (
            json!({"title": "\u{1b}[2Jclear"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "a\u{2066}b"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "line\nbreak"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "ok", "description": "bell\u{7}"}),
            "description",
            "Description contains an invalid character",
        ),
        (
            json!({"title": "ok", "description": "x\u{202e}y"}),
            "description",
            "Description contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app.post_json(&tasks, &body, user.auth()).await;
        assert_validation(response, field, message).await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
    let kept = json!({"title": "Shopping", "description": "milk\neggs\r\n\tbread"});
    let task = expect_status(
        app.post_json(&tasks, &kept, user.auth()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(task["description"], "milk\neggs\r\n\tbread");
    let invisible = json!({"title": "Quiet", "description": "\u{200b} \u{feff}"});
    let task = expect_status(
        app.post_json(&tasks, &invisible, user.auth()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(task["description"], Value::Null);
}

/// A fresh local part, so that each run's addresses are its own.
fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", Uuid::new_v4().simple())
}
