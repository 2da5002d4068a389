//! `/api/{user_id}/tasks*`.
//!
//! Bodies and queries are taken as `Result`s so that their errors surface only after the
//! guard (401) and the ownership check (403): a stranger learns nothing from a body.

use actix_web::{HttpResponse, web};
use tessera_application::{ListTasksQuery, TaskService};

use crate::dto::{
    CreateTaskBody, ListTasksParams, MessageResponse, Object, PatchTaskBody, ReplaceTaskBody,
    TaskResponse,
};
use crate::error::ApiError;
use crate::extract::{AuthUser, TaskPath};

type Body<T> = Result<web::Json<Object<T>>, ApiError>;

/// The header carrying the number of tasks matching a listing's filter.
pub const TOTAL_COUNT_HEADER: &str = "X-Total-Count";

/// `GET /api/{user_id}/tasks`.
///
/// # Errors
/// 401, 403, 400 for a bad query value, 503.
pub async fn list(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    query: Result<web::Query<ListTasksParams>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let params = query?.into_inner();
    let query = ListTasksQuery {
        status: params.status,
        limit: params.limit,
        offset: params.offset,
    };
    let list = tasks.list(owner, query).await?;
    let body: Vec<TaskResponse> = list.tasks.iter().map(TaskResponse::from).collect();
    Ok(HttpResponse::Ok()
        .insert_header((TOTAL_COUNT_HEADER, list.total.to_string()))
        .json(body))
}

/// `POST /api/{user_id}/tasks`.
///
/// # Errors
/// 401, 403, 400, 413, 415, 503.
pub async fn create(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<CreateTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks.create(owner, body?.into_inner().0.into()).await?;
    Ok(HttpResponse::Created().json(TaskResponse::from(&task)))
}

/// `GET /api/{user_id}/tasks/{task_id}`.
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn get(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks.get(owner, path.task_id).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

/// `PUT /api/{user_id}/tasks/{task_id}`.
///
/// # Errors
/// 401, 403, 400, 404, 413, 415, 503.
pub async fn replace(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<ReplaceTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks
        .replace(owner, path.task_id, body?.into_inner().0.into())
        .await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

/// `PATCH /api/{user_id}/tasks/{task_id}`.
///
/// # Errors
/// 401, 403, 400, 404, 413, 415, 503.
pub async fn patch(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<PatchTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks
        .patch(owner, path.task_id, body?.into_inner().0.into())
        .await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

/// `PATCH` or `POST /api/{user_id}/tasks/{task_id}/complete`: flips `completed`.
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn toggle(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks.toggle(owner, path.task_id).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

/// `DELETE /api/{user_id}/tasks/{task_id}`.
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn delete(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    tasks.delete(owner, path.task_id).await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: "Task deleted successfully",
    }))
}
