//! `PUT /api/{user_id}/tasks/{id}`: title and description replaced, completion kept unless
//! given.

use reqwest::Method;
use serde_json::{Value, json};

use super::{create, toggle, update};
use crate::helpers::{
    app_with_user, assert_validation, task_id, task_path, timestamp, wait_for_new_timestamp,
};

#[tokio::test]
async fn put_task_replaces_title_and_description_and_keeps_completed_when_absent() {
    let (app, user) = app_with_user().await;
    let created = create(
        &app,
        &user,
        &json!({"title": "Old", "description": "Old description"}),
    )
    .await;
    let id = task_id(&created);
    let completed = toggle(&app, &user, Method::PATCH, id).await;
    assert_eq!(completed["completed"], json!(true));
    wait_for_new_timestamp(&completed["updated_at"]).await;

    let replaced = update(
        &app,
        &user,
        Method::PUT,
        id,
        &json!({"title": "  New  ", "description": "  New description  "}),
    )
    .await;
    assert_eq!(replaced["title"], "New");
    assert_eq!(replaced["description"], "New description");
    assert_eq!(replaced["completed"], json!(true));
    assert_eq!(replaced["id"], created["id"]);
    assert_eq!(replaced["user_id"], created["user_id"]);
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_ne!(replaced["updated_at"], completed["updated_at"]);
    assert!(timestamp(&replaced["updated_at"]) >= timestamp(&created["created_at"]));

    let without_description =
        update(&app, &user, Method::PUT, id, &json!({"title": "Newer"})).await;
    assert_eq!(without_description["title"], "Newer");
    assert_eq!(without_description["description"], Value::Null);
    assert_eq!(without_description["completed"], json!(true));
    assert_eq!(app.get_task(&user, id).await, without_description);
}

#[tokio::test]
async fn put_task_sets_completed_when_given() {
    let (app, user) = app_with_user().await;
    let id = task_id(&app.create_task(&user, "Task").await);
    let done = update(
        &app,
        &user,
        Method::PUT,
        id,
        &json!({"title": "Task", "completed": true}),
    )
    .await;
    assert_eq!(done["completed"], json!(true));
    let undone = update(
        &app,
        &user,
        Method::PUT,
        id,
        &json!({"title": "Task", "completed": false}),
    )
    .await;
    assert_eq!(undone["completed"], json!(false));
}

#[tokio::test]
async fn put_task_with_an_invalid_title_returns_a_validation_error_and_changes_nothing() {
    let (app, user) = app_with_user().await;
    let task = app.create_task(&user, "Keep me").await;
    let id = task_id(&task);
    let path = task_path(&user.id, id);
    let cases = [
        (json!({"description": "no title"}), "Title is required"),
        (json!({"title": "  "}), "Title is required"),
        (
            json!({"title": "t".repeat(201)}),
            "Title must be 200 characters or less",
        ),
    ];
    for (body, message) in cases {
        let response = app
            .json_request(Method::PUT, &path, &body, user.auth())
            .await;
        assert_validation(response, "title", message).await;
    }
    assert_eq!(app.get_task(&user, id).await, task);
}
