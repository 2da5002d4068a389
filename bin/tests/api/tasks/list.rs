//! `GET /api/{user_id}/tasks`: order, filter, paging and the total count.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{TASK_KEYS, titles, toggle};
use crate::helpers::{
    TestApp, TestUser, app_with_user, assert_keys, assert_validation_of, expect_status, header,
    task_id, tasks_path,
};

/// Lists `user`'s tasks with a query string, returning the body and `X-Total-Count`.
async fn list(app: &TestApp, user: &TestUser, query: &str) -> (Value, String) {
    let path = format!("{}?{query}", tasks_path(&user.id));
    let response = app.get(&path, user.auth()).await;
    let total = header(&response, "x-total-count").unwrap_or_default();
    (expect_status(response, StatusCode::OK).await, total)
}

#[tokio::test]
async fn list_tasks_of_a_new_user_is_empty_with_a_total_of_zero() {
    let (app, user) = app_with_user().await;
    let (tasks, total) = list(&app, &user, "").await;
    assert_eq!(tasks, json!([]));
    assert_eq!(total, "0");
}

#[tokio::test]
async fn list_tasks_returns_them_newest_first_with_the_total_count() {
    let (app, user) = app_with_user().await;
    for title in ["first", "second", "third"] {
        app.create_task(&user, title).await;
    }
    let (tasks, total) = list(&app, &user, "").await;
    assert_eq!(titles(&tasks), ["third", "second", "first"]);
    assert_eq!(total, "3");
    for task in tasks.as_array().expect("an array") {
        assert_keys(task, &TASK_KEYS);
    }
}

#[tokio::test]
async fn list_tasks_filters_by_status_and_counts_the_matching_tasks() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "one").await;
    let done = app.create_task(&user, "two").await;
    app.create_task(&user, "three").await;
    toggle(&app, &user, Method::PATCH, task_id(&done)).await;

    let (pending, total) = list(&app, &user, "status=pending").await;
    assert_eq!(titles(&pending), ["three", "one"]);
    assert_eq!(total, "2");

    let (completed, total) = list(&app, &user, "status=completed").await;
    assert_eq!(titles(&completed), ["two"]);
    assert_eq!(completed[0]["completed"], json!(true));
    assert_eq!(total, "1");

    let (all, total) = list(&app, &user, "status=all").await;
    assert_eq!(titles(&all), ["three", "two", "one"]);
    assert_eq!(total, "3");

    let (paged, total) = list(&app, &user, "status=pending&limit=1&offset=1").await;
    assert_eq!(titles(&paged), ["one"]);
    assert_eq!(total, "2");
}

#[tokio::test]
async fn list_tasks_pages_with_limit_and_offset() {
    let (app, user) = app_with_user().await;
    for title in ["first", "second", "third"] {
        app.create_task(&user, title).await;
    }
    let (page, total) = list(&app, &user, "limit=1&offset=1").await;
    assert_eq!(titles(&page), ["second"]);
    assert_eq!(total, "3");

    let (page, total) = list(&app, &user, "limit=2").await;
    assert_eq!(titles(&page), ["third", "second"]);
    assert_eq!(total, "3");

    let (page, total) = list(&app, &user, "offset=3").await;
    assert_eq!(page, json!([]));
    assert_eq!(total, "3");
}

#[tokio::test]
async fn list_tasks_accepts_the_limit_bounds_1_and_500() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "only").await;
    for query in ["limit=1", "limit=500", "limit=500&offset=0"] {
        let (tasks, total) = list(&app, &user, query).await;
        assert_eq!(titles(&tasks), ["only"], "{query}");
        assert_eq!(total, "1", "{query}");
    }
}

#[tokio::test]
async fn list_tasks_with_a_bad_query_value_returns_a_validation_error_naming_it() {
    let (app, user) = app_with_user().await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("status=bogus", "status"),
    ];
    for (query, field) in cases {
        let path = format!("{}?{query}", tasks_path(&user.id));
        let response = app.get(&path, user.auth()).await;
        assert_validation_of(query, response, field).await;
    }
}
