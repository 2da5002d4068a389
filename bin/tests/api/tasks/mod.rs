//! The task routes, used by their owner.

mod complete;
mod create;
mod delete;
mod get;
mod list;
mod patch;
mod replace;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, TestUser, expect_status, task_path, tasks_path};

const TASK_KEYS: [&str; 7] = [
    "completed",
    "created_at",
    "description",
    "id",
    "title",
    "updated_at",
    "user_id",
];

/// Creates a task from a full body and returns it.
async fn create(app: &TestApp, user: &TestUser, body: &Value) -> Value {
    let response = app
        .post_json(&tasks_path(&user.id), body, user.auth())
        .await;
    expect_status(response, StatusCode::CREATED).await
}

/// Sends a JSON body to one of `user`'s tasks and returns the 200 body.
async fn update(app: &TestApp, user: &TestUser, method: Method, id: i64, body: &Value) -> Value {
    let response = app
        .json_request(method, &task_path(&user.id, id), body, user.auth())
        .await;
    expect_status(response, StatusCode::OK).await
}

/// Toggles completion with `method` (PATCH or POST) and returns the task.
async fn toggle(app: &TestApp, user: &TestUser, method: Method, id: i64) -> Value {
    let path = format!("{}/complete", task_path(&user.id, id));
    let response = app.call(method, &path, user.auth()).await;
    expect_status(response, StatusCode::OK).await
}

fn titles(tasks: &Value) -> Vec<String> {
    tasks
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {tasks}"))
        .iter()
        .map(|task| {
            task["title"]
                .as_str()
                .unwrap_or_else(|| panic!("title is not a string: {task}"))
                .to_owned()
        })
        .collect()
}
