//! The account routes: `PATCH`/`DELETE /api/auth/me`, `/api/auth/password`,
//! `/api/auth/sessions` and `/api/auth/events`.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_application::{AccountError, AccountService, ChangePassword, DeleteAccount};
use tessera_domain::{SessionId, UserName};

use crate::client::client_info;
use crate::dto::{
    AuthResponse, ChangePasswordBody, DeleteAccountBody, ErrorResponse, EventResponse,
    EventsResponse, ListEventsParams, MessageResponse, SessionResponse, SessionsResponse,
    UpdateMeBody, UserEnvelope,
};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{AuthUser, JsonBody};
use crate::openapi_responses::{
    BodyTooLargeOrNotJson, QueryError, RateLimited, ServerErrors, Unauthenticated,
};

#[utoipa::path(patch, path = "/api/auth/me", tag = "account", security(("bearer" = [])),
    request_body = UpdateMeBody,
    responses(
        (status = 200, description = "The account with its new name; tokens issued later carry it", body = UserEnvelope),
        (status = 400, description = "Invalid JSON, or an invalid name (`invalid_json`, `validation_failed`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, Unauthenticated, ServerErrors
    )
)]
/// Change the display name.
///
/// # Errors
/// The guard's 401s, the name's 400s.
pub async fn update_me(
    req: HttpRequest,
    user: AuthUser,
    accounts: web::Data<AccountService>,
    body: Result<JsonBody<UpdateMeBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let name = UserName::try_from(body?.0)?;
    let account = accounts
        .update_name(user.principal(), &name, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: (&account).into(),
    }))
}

#[utoipa::path(post, path = "/api/auth/password", tag = "account", security(("bearer" = [])),
    request_body = ChangePasswordBody,
    responses(
        (status = 200, description = "Password changed: every other session ended; a new token and session", body = AuthResponse),
        (status = 400, description = "Invalid JSON, invalid fields, or a wrong current password (`invalid_json`, `validation_failed`, `invalid_credentials`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, Unauthenticated, RateLimited, ServerErrors
    )
)]
/// Change the password: ends every session of the account and opens a new one.
///
/// # Errors
/// The guard's 401s, the fields' 400s, a wrong current password, the limits' 429.
pub async fn change_password(
    req: HttpRequest,
    user: AuthUser,
    accounts: web::Data<AccountService>,
    body: Result<JsonBody<ChangePasswordBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let command = ChangePassword::try_from(body?.0)?;
    let session = accounts
        .change_password(user.principal(), command, &client_info(&req))
        .await
        .map_err(|e| match e {
            AccountError::WrongPassword => ErrorKind::CurrentPasswordIncorrect.into(),
            other => ApiError::from(other),
        })?;
    Ok(HttpResponse::Ok().json(AuthResponse::from(&session)))
}

#[utoipa::path(get, path = "/api/auth/sessions", tag = "account", security(("bearer" = [])),
    responses(
        (status = 200, description = "The live sessions, newest first; `current` marks the caller's", body = SessionsResponse),
        Unauthenticated, ServerErrors
    )
)]
/// The account's live sessions.
///
/// # Errors
/// The guard's 401s.
pub async fn sessions(
    user: AuthUser,
    accounts: web::Data<AccountService>,
) -> Result<HttpResponse, ApiError> {
    let sessions = accounts.list_sessions(user.principal()).await?;
    Ok(HttpResponse::Ok().json(SessionsResponse {
        sessions: sessions.iter().map(SessionResponse::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/auth/sessions/{session_id}", tag = "account", security(("bearer" = [])),
    params(("session_id" = String, Path, description = "The session (UUID)")),
    responses(
        (status = 200, description = "Ended", body = MessageResponse),
        (status = 404, description = "No such live session of the caller's (`not_found`)", body = ErrorResponse),
        Unauthenticated, ServerErrors
    )
)]
/// End one of the account's sessions (the caller's own included).
///
/// # Errors
/// The guard's 401s; 404 for a session that is not the caller's live one.
pub async fn end_session(
    req: HttpRequest,
    user: AuthUser,
    accounts: web::Data<AccountService>,
) -> Result<HttpResponse, ApiError> {
    let id = req
        .match_info()
        .get("session_id")
        .and_then(SessionId::parse)
        .ok_or(ErrorKind::SessionNotFound)?;
    accounts
        .end_session(user.principal(), id, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: "Session ended",
    }))
}

#[utoipa::path(get, path = "/api/auth/events", tag = "account", security(("bearer" = [])),
    params(ListEventsParams),
    responses(
        (status = 200, description = "The account's security events, newest first", body = EventsResponse),
        QueryError, Unauthenticated, ServerErrors
    )
)]
/// The account's recent security events.
///
/// # Errors
/// The guard's 401s; 400 for a bad `limit`.
pub async fn events(
    user: AuthUser,
    accounts: web::Data<AccountService>,
    query: Result<web::Query<ListEventsParams>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let limit = query?.limit()?;
    let events = accounts.list_events(user.principal(), limit).await?;
    Ok(HttpResponse::Ok().json(EventsResponse {
        events: events.iter().map(EventResponse::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/auth/me", tag = "account", security(("bearer" = [])),
    request_body = DeleteAccountBody,
    responses(
        (status = 200, description = "The account, its tasks, sessions and events are gone", body = MessageResponse),
        (status = 400, description = "Invalid JSON, a missing or wrong password (`invalid_json`, `validation_failed`, `invalid_credentials`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, Unauthenticated, RateLimited, ServerErrors
    )
)]
/// Delete the account, with its tasks, sessions and events.
///
/// # Errors
/// The guard's 401s, a missing or wrong password, the limits' 429.
pub async fn delete_me(
    req: HttpRequest,
    user: AuthUser,
    accounts: web::Data<AccountService>,
    body: Result<JsonBody<DeleteAccountBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let command = DeleteAccount::try_from(body?.0)?;
    accounts
        .delete_account(user.principal(), command, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: "Account deleted",
    }))
}
