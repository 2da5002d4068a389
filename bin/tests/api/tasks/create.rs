//! `POST /api/{user_id}/tasks`: the stored task, its limits, and what the client may not
//! set.

use serde_json::{Value, json};

use super::{TASK_KEYS, create};
use crate::helpers::{
    app_with_user, assert_keys, assert_validation, task_id, tasks_path, timestamp,
};

#[tokio::test]
async fn create_task_returns_201_with_the_trimmed_task_and_equal_timestamps() {
    let (app, user) = app_with_user().await;
    let body = json!({"title": "  Buy groceries  ", "description": "  Milk, eggs, bread  "});
    let task = create(&app, &user, &body).await;
    assert_keys(&task, &TASK_KEYS);
    assert!(task["id"].is_i64(), "id is an integer: {task}");
    assert_eq!(task["user_id"], user.id.as_str());
    assert_eq!(task["title"], "Buy groceries");
    assert_eq!(task["description"], "Milk, eggs, bread");
    assert_eq!(task["completed"], json!(false));
    timestamp(&task["created_at"]);
    assert_eq!(task["created_at"], task["updated_at"]);
    assert_eq!(app.get_task(&user, task_id(&task)).await, task);
}

#[tokio::test]
async fn create_task_without_a_description_or_with_a_blank_one_stores_null() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({"title": "No description"}),
        json!({"title": "Empty description", "description": ""}),
        json!({"title": "Blank description", "description": "   "}),
        json!({"title": "Null description", "description": null}),
    ] {
        let task = create(&app, &user, &body).await;
        assert_eq!(task["description"], Value::Null, "{body}");
    }
}

#[tokio::test]
async fn create_task_without_a_title_or_with_a_blank_one_returns_title_is_required() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({}),
        json!({"description": "no title"}),
        json!({"title": ""}),
        json!({"title": "   "}),
    ] {
        let response = app
            .post_json(&tasks_path(&user.id), &body, user.auth())
            .await;
        assert_validation(response, "title", "Title is required").await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
}

#[tokio::test]
async fn create_task_accepts_a_title_of_200_multibyte_characters_and_refuses_201() {
    let (app, user) = app_with_user().await;
    let title = "é".repeat(200);
    let task = app.create_task(&user, &title).await;
    assert_eq!(task["title"], title.as_str());

    let body = json!({"title": "é".repeat(201)});
    let response = app
        .post_json(&tasks_path(&user.id), &body, user.auth())
        .await;
    assert_validation(response, "title", "Title must be 200 characters or less").await;
}

#[tokio::test]
async fn create_task_accepts_a_description_of_1000_characters_and_refuses_1001() {
    let (app, user) = app_with_user().await;
    let description = "ü".repeat(1_000);
    let task = create(
        &app,
        &user,
        &json!({"title": "Long", "description": description}),
    )
    .await;
    assert_eq!(task["description"], description.as_str());

    let body = json!({"title": "Too long", "description": "d".repeat(1_001)});
    let response = app
        .post_json(&tasks_path(&user.id), &body, user.auth())
        .await;
    assert_validation(
        response,
        "description",
        "Description must be 1000 characters or less",
    )
    .await;
}

#[tokio::test]
async fn create_task_ignores_a_client_supplied_id_owner_and_timestamps() {
    let (app, user) = app_with_user().await;
    let other = app.signed_up_user().await;
    let body = json!({
        "title": "Mine",
        "id": 424_242,
        "user_id": other.id,
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "unknown": "ignored",
    });
    let task = create(&app, &user, &body).await;
    assert_keys(&task, &TASK_KEYS);
    assert_ne!(task["id"], json!(424_242));
    assert_eq!(task["user_id"], user.id.as_str());
    assert_ne!(task["created_at"], "2000-01-01T00:00:00Z");
    assert_ne!(task["updated_at"], "2000-01-01T00:00:00Z");
    assert_eq!(app.list_tasks(&user).await, json!([task]));
    assert_eq!(app.list_tasks(&other).await, json!([]));
}

#[tokio::test]
async fn create_task_with_a_nul_character_returns_a_validation_error_naming_the_field() {
    let (app, user) = app_with_user().await;
    let cases = [
        (
            json!({"title": "Bad\u{0}title"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "Fine", "description": "Bad\u{0}description"}),
            "description",
            "Description contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app
            .post_json(&tasks_path(&user.id), &body, user.auth())
            .await;
        assert_validation(response, field, message).await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
}
