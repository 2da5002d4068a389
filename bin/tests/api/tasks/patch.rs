//! `PATCH /api/{user_id}/tasks/{id}`: only the fields given change.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create, update};
use crate::helpers::{
    app_with_user, assert_validation, task_id, task_path, wait_for_new_timestamp,
};

#[tokio::test]
async fn patch_task_changes_only_the_given_fields() {
    let (app, user) = app_with_user().await;
    let created = create(
        &app,
        &user,
        &json!({"title": "Old", "description": "Keep this"}),
    )
    .await;
    let id = task_id(&created);
    wait_for_new_timestamp(&created["updated_at"]).await;

    let renamed = update(&app, &user, Method::PATCH, id, &json!({"title": "  New  "})).await;
    assert_eq!(renamed["title"], "New");
    assert_eq!(renamed["description"], "Keep this");
    assert_eq!(renamed["completed"], json!(false));
    assert_eq!(renamed["created_at"], created["created_at"]);
    assert_ne!(renamed["updated_at"], created["updated_at"]);

    let completed = update(&app, &user, Method::PATCH, id, &json!({"completed": true})).await;
    assert_eq!(completed["title"], "New");
    assert_eq!(completed["description"], "Keep this");
    assert_eq!(completed["completed"], json!(true));

    let described = update(
        &app,
        &user,
        Method::PATCH,
        id,
        &json!({"description": " Changed "}),
    )
    .await;
    assert_eq!(described["title"], "New");
    assert_eq!(described["description"], "Changed");
    assert_eq!(described["completed"], json!(true));
    assert_eq!(app.get_task(&user, id).await, described);
}

#[tokio::test]
async fn patch_task_with_a_null_description_clears_it() {
    let (app, user) = app_with_user().await;
    let created = create(
        &app,
        &user,
        &json!({"title": "Title", "description": "Clear me"}),
    )
    .await;
    let id = task_id(&created);
    let cleared = update(
        &app,
        &user,
        Method::PATCH,
        id,
        &json!({"description": null}),
    )
    .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["title"], "Title");
}

#[tokio::test]
async fn patch_task_with_an_empty_object_leaves_it_unchanged() {
    let (app, user) = app_with_user().await;
    let created = create(
        &app,
        &user,
        &json!({"title": "Stay", "description": "Same"}),
    )
    .await;
    let id = task_id(&created);
    let patched = update(&app, &user, Method::PATCH, id, &json!({})).await;
    for key in [
        "id",
        "user_id",
        "title",
        "description",
        "completed",
        "created_at",
    ] {
        assert_eq!(patched[key], created[key], "{key}");
    }
}

#[tokio::test]
async fn patch_task_with_invalid_values_returns_a_validation_error_and_changes_nothing() {
    let (app, user) = app_with_user().await;
    let task = app.create_task(&user, "Keep me").await;
    let id = task_id(&task);
    let path = task_path(&user.id, id);
    let cases = [
        (json!({"title": ""}), "title", "Title is required"),
        (json!({"title": "   "}), "title", "Title is required"),
        (
            json!({"title": "t".repeat(201)}),
            "title",
            "Title must be 200 characters or less",
        ),
        (
            json!({"description": "d".repeat(1_001)}),
            "description",
            "Description must be 1000 characters or less",
        ),
        (
            json!({"title": "Bad\u{0}"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"description": "Bad\u{0}"}),
            "description",
            "Description contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app
            .json_request(Method::PATCH, &path, &body, user.auth())
            .await;
        assert_validation(response, field, message).await;
    }
    assert_eq!(app.get_task(&user, id).await, task);
}
