//! The task routes, used by their owner.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestUser, app_with_user, assert_keys, assert_task_not_found, assert_validation,
    assert_validation_of, expect_status, header, task_id, task_path, tasks_path, timestamp,
    wait_for_new_timestamp,
};

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

/// Lists `user`'s tasks with a query string, returning the body and `X-Total-Count`.
async fn list(app: &TestApp, user: &TestUser, query: &str) -> (Value, String) {
    let path = format!("{}?{query}", tasks_path(&user.id));
    let response = app.get(&path, user.auth()).await;
    let total = header(&response, "x-total-count").unwrap_or_default();
    (expect_status(response, StatusCode::OK).await, total)
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

// ----- create -----

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

// ----- list -----

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

// ----- get -----

#[tokio::test]
async fn get_task_returns_the_task() {
    let (app, user) = app_with_user().await;
    let task = create(
        &app,
        &user,
        &json!({"title": "Read", "description": "A book"}),
    )
    .await;
    let response = app
        .get(&task_path(&user.id, task_id(&task)), user.auth())
        .await;
    assert_eq!(expect_status(response, StatusCode::OK).await, task);
}

#[tokio::test]
async fn get_task_with_an_unknown_or_non_integer_id_returns_task_not_found() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "exists").await;
    for id in ["999999", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        let response = app.get(&task_path(&user.id, id), user.auth()).await;
        assert_task_not_found(id, response).await;
    }
}

// ----- put -----

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

// ----- patch -----

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

// ----- complete -----

#[tokio::test]
async fn patch_complete_toggles_completed_back_and_forth() {
    let (app, user) = app_with_user().await;
    let created = app.create_task(&user, "Toggle").await;
    let id = task_id(&created);
    wait_for_new_timestamp(&created["updated_at"]).await;

    let done = toggle(&app, &user, Method::PATCH, id).await;
    assert_eq!(done["completed"], json!(true));
    assert_eq!(done["title"], "Toggle");
    assert_ne!(done["updated_at"], created["updated_at"]);

    let undone = toggle(&app, &user, Method::PATCH, id).await;
    assert_eq!(undone["completed"], json!(false));
    assert_eq!(app.get_task(&user, id).await, undone);
}

#[tokio::test]
async fn post_complete_also_toggles_completed() {
    let (app, user) = app_with_user().await;
    let id = task_id(&app.create_task(&user, "Toggle").await);
    let done = toggle(&app, &user, Method::POST, id).await;
    assert_eq!(done["completed"], json!(true));
    let undone = toggle(&app, &user, Method::POST, id).await;
    assert_eq!(undone["completed"], json!(false));
}

// ----- delete -----

#[tokio::test]
async fn delete_task_returns_a_message_and_the_task_is_gone() {
    let (app, user) = app_with_user().await;
    let kept = app.create_task(&user, "Keep").await;
    let doomed = app.create_task(&user, "Delete").await;
    let path = task_path(&user.id, task_id(&doomed));

    let response = app.call(Method::DELETE, &path, user.auth()).await;
    let body = expect_status(response, StatusCode::OK).await;
    assert_eq!(body, json!({"message": "Task deleted successfully"}));

    assert_task_not_found("GET after DELETE", app.get(&path, user.auth()).await).await;
    let again = app.call(Method::DELETE, &path, user.auth()).await;
    assert_task_not_found("DELETE again", again).await;
    assert_eq!(app.list_tasks(&user).await, json!([kept]));
}

#[tokio::test]
async fn modifying_an_unknown_or_non_integer_task_id_returns_task_not_found() {
    let (app, user) = app_with_user().await;
    app.create_task(&user, "exists").await;
    for id in ["999999", "abc", "99999999999999999999"] {
        let path = task_path(&user.id, id);
        let complete = format!("{path}/complete");
        let body = json!({"title": "Whatever", "completed": true});
        let put = app
            .json_request(Method::PUT, &path, &body, user.auth())
            .await;
        assert_task_not_found(&format!("PUT {id}"), put).await;
        let patch = app
            .json_request(Method::PATCH, &path, &body, user.auth())
            .await;
        assert_task_not_found(&format!("PATCH {id}"), patch).await;
        let toggle_patch = app.call(Method::PATCH, &complete, user.auth()).await;
        assert_task_not_found(&format!("PATCH complete {id}"), toggle_patch).await;
        let toggle_post = app.call(Method::POST, &complete, user.auth()).await;
        assert_task_not_found(&format!("POST complete {id}"), toggle_post).await;
        let delete = app.call(Method::DELETE, &path, user.auth()).await;
        assert_task_not_found(&format!("DELETE {id}"), delete).await;
    }
    assert_eq!(titles(&app.list_tasks(&user).await), ["exists"]);
}
