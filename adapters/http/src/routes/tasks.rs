//! `/api/{user_id}/tasks*`.
//!
//! Bodies and queries are taken as `Result`s so that their errors surface only after the
//! guard (401) and the ownership check (403): a stranger learns nothing from a body.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_application::{NewTask, TaskService, TaskWriter};
use tessera_domain::TaskChanges;

use crate::client::client_address;
use crate::dto::{
    CreateTaskBody, ListTasksParams, MessageResponse, PatchTaskBody, ReplaceTaskBody,
    TaskPathParams, TaskResponse,
};
use crate::error::ApiError;
use crate::extract::{AuthUser, JsonBody, TaskPath};
use crate::openapi_responses::{
    BodyErrors, Forbidden, QueryError, QuotaExceeded, ServerErrors, TaskNotFound, Unauthenticated,
    WriteLimited,
};

type Body<T> = Result<JsonBody<T>, ApiError>;

/// The writer of a task route: the owner the caller may act as (403 otherwise), and the
/// request's client address, each with a write budget.
fn writer(user: &AuthUser, path: &TaskPath, req: &HttpRequest) -> Result<TaskWriter, ApiError> {
    Ok(TaskWriter {
        owner: user.acting_as(&path.user_id)?,
        client: client_address(req),
    })
}

/// The header carrying the number of tasks matching a listing's filter.
pub const TOTAL_COUNT_HEADER: &str = "X-Total-Count";

#[utoipa::path(get, path = "/api/{user_id}/tasks", tag = "tasks", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The caller's user id (UUID)"), ListTasksParams),
    responses(
        (status = 200, description = "The caller's tasks, newest first", body = Vec<TaskResponse>,
            headers(("X-Total-Count" = u64, description = "Tasks matching `status`"))),
        QueryError, Unauthenticated, Forbidden, ServerErrors
    )
)]
/// List the caller's tasks, newest first.
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
    let page = query?.page(tasks.max_offset())?;
    let list = tasks.list(owner, page).await?;
    let body: Vec<TaskResponse> = list.tasks.iter().map(TaskResponse::from).collect();
    Ok(HttpResponse::Ok()
        .insert_header((TOTAL_COUNT_HEADER, list.total.to_string()))
        .json(body))
}

#[utoipa::path(post, path = "/api/{user_id}/tasks", tag = "tasks", security(("bearer" = [])),
    params(("user_id" = String, Path, description = "The caller's user id (UUID)")),
    request_body = CreateTaskBody,
    responses(
        (status = 201, description = "The new task", body = TaskResponse),
        BodyErrors, Unauthenticated, Forbidden, QuotaExceeded, WriteLimited, ServerErrors
    )
)]
/// Create a task.
///
/// # Errors
/// 401, 403, 400, 409, 413, 415, 429, 503.
pub async fn create(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<CreateTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let writer = writer(&user, &path, &req)?;
    let task = tasks.create(writer, NewTask::try_from(body?.0)?).await?;
    Ok(HttpResponse::Created().json(TaskResponse::from(&task)))
}

#[utoipa::path(get, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks", security(("bearer" = [])),
    params(TaskPathParams),
    responses(
        (status = 200, description = "The task", body = TaskResponse),
        Unauthenticated, Forbidden, TaskNotFound, ServerErrors
    )
)]
/// Read one task.
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn get(
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let owner = user.acting_as(&path.user_id)?;
    let task = tasks.get(owner, path.task_id()?).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

#[utoipa::path(put, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks", security(("bearer" = [])),
    params(TaskPathParams),
    request_body = ReplaceTaskBody,
    responses(
        (status = 200, description = "The replaced task", body = TaskResponse),
        BodyErrors, Unauthenticated, Forbidden, TaskNotFound, WriteLimited, ServerErrors
    )
)]
/// Replace a task's title and description (and completion, if given).
///
/// # Errors
/// 401, 403, 400, 404, 413, 415, 503.
pub async fn replace(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<ReplaceTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let writer = writer(&user, &path, &req)?;
    let changes = TaskChanges::try_from(body?.0)?;
    let task = tasks.update(writer, path.task_id()?, &changes).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

#[utoipa::path(patch, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks", security(("bearer" = [])),
    params(TaskPathParams),
    request_body = PatchTaskBody,
    responses(
        (status = 200, description = "The updated task", body = TaskResponse),
        BodyErrors, Unauthenticated, Forbidden, TaskNotFound, WriteLimited, ServerErrors
    )
)]
/// Change the given fields of a task.
///
/// # Errors
/// 401, 403, 400, 404, 413, 415, 503.
pub async fn patch(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
    body: Body<PatchTaskBody>,
) -> Result<HttpResponse, ApiError> {
    let writer = writer(&user, &path, &req)?;
    let changes = TaskChanges::try_from(body?.0)?;
    let task = tasks.update(writer, path.task_id()?, &changes).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

#[utoipa::path(patch, path = "/api/{user_id}/tasks/{task_id}/complete", tag = "tasks", security(("bearer" = [])),
    operation_id = "toggle_task",
    params(TaskPathParams),
    responses(
        (status = 200, description = "The task with `completed` flipped", body = TaskResponse),
        Unauthenticated, Forbidden, TaskNotFound, WriteLimited, ServerErrors
    )
)]
/// Flip a task's `completed` (PATCH).
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn toggle(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let writer = writer(&user, &path, &req)?;
    let task = tasks.toggle(writer, path.task_id()?).await?;
    Ok(HttpResponse::Ok().json(TaskResponse::from(&task)))
}

#[utoipa::path(post, path = "/api/{user_id}/tasks/{task_id}/complete", tag = "tasks",
    security(("bearer" = [])),
    operation_id = "toggle_task_post",
    params(TaskPathParams),
    responses(
        (status = 200, description = "The task with `completed` flipped", body = TaskResponse),
        Unauthenticated, Forbidden, TaskNotFound, WriteLimited, ServerErrors
    )
)]
/// Flip a task's `completed` (POST, the same as PATCH).
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn toggle_post(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    toggle(req, user, path, tasks).await
}

#[utoipa::path(delete, path = "/api/{user_id}/tasks/{task_id}", tag = "tasks", security(("bearer" = [])),
    params(TaskPathParams),
    responses(
        (status = 200, description = "Deleted", body = MessageResponse),
        Unauthenticated, Forbidden, TaskNotFound, WriteLimited, ServerErrors
    )
)]
/// Delete a task.
///
/// # Errors
/// 401, 403, 404, 503.
pub async fn delete(
    req: HttpRequest,
    user: AuthUser,
    path: TaskPath,
    tasks: web::Data<TaskService>,
) -> Result<HttpResponse, ApiError> {
    let writer = writer(&user, &path, &req)?;
    tasks.delete(writer, path.task_id()?).await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: "Task deleted successfully",
    }))
}
