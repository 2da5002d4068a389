//! The routes of mail: `POST /api/auth/password/forgot` and `/password/reset`,
//! `/api/auth/email/verification` and `/email/verify`, and `/api/auth/email`.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_application::{AccountService, AuthService, RecoveryService};
use tessera_domain::EmailKey;

use crate::client::client_info;
use crate::dto::{
    AuthResponse, ChangeEmailBody, ErrorResponse, ForgotPasswordBody, MessageResponse,
    ResetPasswordBody, UserEnvelope, VerifyEmailBody,
};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{AuthUser, JsonBody};
use crate::openapi_responses::{BodyTooLargeOrNotJson, RateLimited, ServerErrors, Unauthenticated};

/// Most password reset requests handled at once, all workers together.
pub const RESET_REQUESTS_IN_FLIGHT: usize = 64;

static RESET_SLOTS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| {
        std::sync::Arc::new(tokio::sync::Semaphore::new(RESET_REQUESTS_IN_FLIGHT))
    });

#[utoipa::path(post, path = "/api/auth/password/forgot", tag = "mail",
    request_body = ForgotPasswordBody,
    responses(
        (status = 202, description = "Always, for an address with an account or without: a reset link is queued for an account (within its mail quota)", body = MessageResponse),
        (status = 400, description = "Invalid JSON, or an invalid email (`invalid_json`, `validation_failed`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, RateLimited, ServerErrors
    )
)]
/// Ask for a password reset link by mail.
///
/// The answer does not wait for the lookup: the same body, status and time whether the
/// address has an account or not.
///
/// # Errors
/// The email's 400s, the per-address 429.
pub async fn forgot_password(
    req: HttpRequest,
    recovery: web::Data<RecoveryService>,
    body: Result<JsonBody<ForgotPasswordBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let email = EmailKey::try_from(body?.0)?;
    let client = client_info(&req);
    let recovery = recovery.into_inner();
    // Off the request's path: a known address costs the answer no more than an unknown.
    // At most `RESET_REQUESTS_IN_FLIGHT` wait at once: past that a flood's requests are
    // dropped, answered alike, rather than piling up for the database.
    match RESET_SLOTS.clone().try_acquire_owned() {
        Ok(slot) => {
            actix_web::rt::spawn(async move {
                if let Err(fault) = recovery.request_reset(&email, &client).await {
                    tracing::warn!(error = %fault, "a password reset request could not be handled");
                }
                drop(slot);
            });
        }
        Err(_) => tracing::warn!("too many password reset requests in flight; one was dropped"),
    }
    Ok(HttpResponse::Accepted().json(MessageResponse {
        message: "If an account exists for this email, a reset link has been sent",
    }))
}

#[utoipa::path(post, path = "/api/auth/password/reset", tag = "mail",
    request_body = ResetPasswordBody,
    responses(
        (status = 200, description = "Password replaced: every session ended; the address counts as verified; a new token and session", body = AuthResponse),
        (status = 400, description = "Invalid JSON, an invalid new password, or a link that does not work (`invalid_json`, `validation_failed`, `invalid_link`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, ServerErrors
    )
)]
/// Set a new password through the link of a reset mail.
///
/// # Errors
/// The new password's 400s, then `invalid_link`.
pub async fn reset_password(
    req: HttpRequest,
    recovery: web::Data<RecoveryService>,
    body: Result<JsonBody<ResetPasswordBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (token, password) = body?.0.parse()?;
    let token = token.ok_or(ErrorKind::InvalidLink)?;
    let session = recovery
        .reset(&token, &password, &client_info(&req))
        .await?;
    Ok(HttpResponse::Ok().json(AuthResponse::from(&session)))
}

#[utoipa::path(post, path = "/api/auth/email/verification", tag = "mail", security(("bearer" = [])),
    responses(
        (status = 202, description = "A verification mail is queued", body = MessageResponse),
        (status = 409, description = "The address is verified already (`already_verified`)", body = ErrorResponse),
        (status = 429, description = "Within 60 seconds of the last verification mail, or past the account's hourly mail quota (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
        Unauthenticated, ServerErrors
    )
)]
/// Send the verification mail again.
///
/// # Errors
/// The guard's 401s, 409 when verified, 429 within the mail quota's wait.
pub async fn request_verification(
    user: AuthUser,
    accounts: web::Data<AccountService>,
) -> Result<HttpResponse, ApiError> {
    accounts.request_verification(user.principal()).await?;
    Ok(HttpResponse::Accepted().json(MessageResponse {
        message: "Verification email sent",
    }))
}

#[utoipa::path(post, path = "/api/auth/email/verify", tag = "mail",
    request_body = VerifyEmailBody,
    responses(
        (status = 200, description = "The address is verified, or the account's email is the new one (verified)", body = UserEnvelope),
        (status = 400, description = "Invalid JSON, a link that does not work, or a new address taken meanwhile (`invalid_json`, `invalid_link`, `email_taken`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, ServerErrors
    )
)]
/// Open the link of a verification or email-change mail.
///
/// # Errors
/// `invalid_link`, or `email_taken` for a change whose address was taken meanwhile.
pub async fn verify_email(
    req: HttpRequest,
    recovery: web::Data<RecoveryService>,
    body: Result<JsonBody<VerifyEmailBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let token = body?.0.token().ok_or(ErrorKind::InvalidLink)?;
    let user = recovery.verify(&token, &client_info(&req)).await?;
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: (&user).into(),
    }))
}

#[utoipa::path(post, path = "/api/auth/email", tag = "mail", security(("bearer" = [])),
    request_body = ChangeEmailBody,
    responses(
        (status = 202, description = "A confirmation link is sent to the new address; nothing changes until it is opened", body = MessageResponse),
        (status = 400, description = "Invalid JSON, invalid fields, a wrong password, or a registered address (`invalid_json`, `validation_failed`, `invalid_credentials`, `email_taken`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, Unauthenticated, RateLimited, ServerErrors
    )
)]
/// Change the account's email, once the new address confirms it.
///
/// # Errors
/// The guard's 401s, the fields' 400s, a wrong password, a taken address, the 429s.
pub async fn change_email(
    req: HttpRequest,
    user: AuthUser,
    auth: web::Data<AuthService>,
    accounts: web::Data<AccountService>,
    body: Result<JsonBody<ChangeEmailBody>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let body = body?.0;
    let current = auth.me(user.principal()).await?;
    let command = body.parse(&current.email)?;
    accounts
        .request_email_change(user.principal(), command, &client_info(&req))
        .await?;
    Ok(HttpResponse::Accepted().json(MessageResponse {
        message: "Check your new email to confirm the change",
    }))
}
