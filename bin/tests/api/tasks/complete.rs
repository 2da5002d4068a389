//! `PATCH` and `POST /api/{user_id}/tasks/{id}/complete`: completion toggles.

use reqwest::Method;
use serde_json::json;

use super::toggle;
use crate::helpers::{app_with_user, task_id, wait_for_new_timestamp};

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
