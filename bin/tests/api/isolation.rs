//! One user can never see or change another's tasks.
//!
//! Alice and Bob each have a task. Alice's token on Bob's path is a 403 on every route,
//! whatever the task id; Alice's token on her own path with Bob's task id is a 404. After
//! every attempt Bob's tasks are exactly as before and nothing was created.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestUser, assert_error_in, assert_invalid_token, assert_missing_token,
    assert_task_not_found, expect_status, spawn_app, task_id, task_path, tasks_path,
};

struct World {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    alice_task: Value,
    bob_task: Value,
}

async fn world() -> World {
    let app = spawn_app().await;
    let alice = app.signed_up_user().await;
    let bob = app.signed_up_user().await;
    let alice_task = app.create_task(&alice, "Alice's task").await;
    let bob_task = app.create_task(&bob, "Bob's task").await;
    World {
        app,
        alice,
        bob,
        alice_task,
        bob_task,
    }
}

/// A route: method, path and JSON body (if any).
type Route = (Method, String, Option<Value>);

/// The routes on one task.
fn item_routes(owner_id: &str, id: &str) -> Vec<Route> {
    let task = task_path(owner_id, id);
    let complete = format!("{task}/complete");
    vec![
        (Method::GET, task.clone(), None),
        (
            Method::PUT,
            task.clone(),
            Some(json!({"title": "Hijacked", "description": "pwned", "completed": true})),
        ),
        (
            Method::PATCH,
            task.clone(),
            Some(json!({"title": "Hijacked", "completed": true})),
        ),
        (Method::PATCH, complete.clone(), None),
        (Method::POST, complete, None),
        (Method::DELETE, task, None),
    ]
}

/// Every task route: list, create and the routes on task `id`.
fn all_routes(owner_id: &str, id: &str) -> Vec<Route> {
    let tasks = tasks_path(owner_id);
    let mut routes = vec![
        (Method::GET, tasks.clone(), None),
        (Method::POST, tasks, Some(json!({"title": "Intruder"}))),
    ];
    routes.extend(item_routes(owner_id, id));
    routes
}

async fn send_route(app: &TestApp, route: Route, token: Option<&str>) -> Response {
    let (method, path, body) = route;
    match body {
        Some(body) => app.json_request(method, &path, &body, token).await,
        None => app.call(method, &path, token).await,
    }
}

fn describe(route: &Route) -> String {
    format!("{} {}", route.0, route.1)
}

impl World {
    /// Asserts that neither user's tasks changed since `world()`.
    async fn assert_nothing_changed(&self) {
        assert_eq!(
            self.app.list_tasks(&self.bob).await,
            json!([self.bob_task]),
            "Bob's tasks"
        );
        assert_eq!(
            self.app.list_tasks(&self.alice).await,
            json!([self.alice_task]),
            "Alice's tasks"
        );
    }

    fn bob_task_id(&self) -> String {
        task_id(&self.bob_task).to_string()
    }
}

#[tokio::test]
async fn another_users_path_returns_forbidden_on_every_task_route_and_changes_nothing() {
    let world = world().await;
    for route in all_routes(&world.bob.id, &world.bob_task_id()) {
        let context = describe(&route);
        let response = send_route(&world.app, route, world.alice.auth()).await;
        assert_error_in(
            &context,
            response,
            StatusCode::FORBIDDEN,
            "forbidden",
            "Access denied to this resource",
        )
        .await;
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn another_users_path_returns_forbidden_whatever_the_task_id() {
    let world = world().await;
    let alice_id = task_id(&world.alice_task).to_string();
    for id in ["999999", "abc", "99999999999999999999", alice_id.as_str()] {
        for route in item_routes(&world.bob.id, id) {
            let context = describe(&route);
            let response = send_route(&world.app, route, world.alice.auth()).await;
            assert_error_in(
                &context,
                response,
                StatusCode::FORBIDDEN,
                "forbidden",
                "Access denied to this resource",
            )
            .await;
        }
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn own_path_with_another_users_task_id_returns_task_not_found_and_changes_nothing() {
    let world = world().await;
    for route in item_routes(&world.alice.id, &world.bob_task_id()) {
        let context = describe(&route);
        let response = send_route(&world.app, route, world.alice.auth()).await;
        assert_task_not_found(&context, response).await;
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn listing_shows_only_the_callers_own_tasks() {
    let world = world().await;
    let response = world
        .app
        .get(&tasks_path(&world.alice.id), world.alice.auth())
        .await;
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let tasks = expect_status(response, StatusCode::OK).await;
    assert_eq!(tasks, json!([world.alice_task]));
    assert_eq!(total.as_deref(), Some("1"));
    let response = world
        .app
        .get(&tasks_path(&world.bob.id), world.bob.auth())
        .await;
    assert_eq!(
        expect_status(response, StatusCode::OK).await,
        json!([world.bob_task])
    );
}

#[tokio::test]
async fn a_user_id_that_is_not_a_uuid_returns_forbidden() {
    let world = world().await;
    let alice_id = task_id(&world.alice_task).to_string();
    for owner in ["not-a-uuid", "123", "me"] {
        for route in all_routes(owner, &alice_id) {
            let context = describe(&route);
            let response = send_route(&world.app, route, world.alice.auth()).await;
            assert_error_in(
                &context,
                response,
                StatusCode::FORBIDDEN,
                "forbidden",
                "Access denied to this resource",
            )
            .await;
        }
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn task_routes_without_a_token_return_missing_token() {
    let world = world().await;
    let alice_id = task_id(&world.alice_task).to_string();
    let bob_id = world.bob_task_id();
    let mut routes = all_routes(&world.alice.id, &alice_id);
    routes.extend(all_routes(&world.bob.id, &bob_id));
    for route in routes {
        let context = describe(&route);
        let response = send_route(&world.app, route, None).await;
        assert_missing_token(&context, response).await;
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn task_routes_with_an_invalid_token_return_invalid_token_before_forbidden() {
    let world = world().await;
    for route in all_routes(&world.bob.id, &world.bob_task_id()) {
        let context = describe(&route);
        let response = send_route(&world.app, route, Some("not-a-token")).await;
        assert_invalid_token(&context, response).await;
    }
    world.assert_nothing_changed().await;
}

#[tokio::test]
async fn authentication_is_checked_before_the_body() {
    let world = world().await;
    let alice_tasks = tasks_path(&world.alice.id);
    let alice_task = task_path(&world.alice.id, task_id(&world.alice_task));
    let requests = [
        (Method::POST, alice_tasks.as_str(), "{not json"),
        (Method::POST, alice_tasks.as_str(), r#"{"title": true}"#),
        (Method::POST, alice_tasks.as_str(), r#"{"title": ""}"#),
        (Method::PUT, alice_task.as_str(), "{not json"),
        (Method::PATCH, alice_task.as_str(), r#"{"title": ""}"#),
    ];
    for (method, path, body) in requests {
        let context = format!("{method} {path} {body}");
        let response = world
            .app
            .raw(method, path, body, Some("application/json"), None)
            .await;
        assert_missing_token(&context, response).await;
    }
    world.assert_nothing_changed().await;
}
