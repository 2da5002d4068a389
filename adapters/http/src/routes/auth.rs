//! `/api/auth/*`.

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_application::{AuthService, SignIn, SignInError, SignOut, SignUp, SignedUp};
use tessera_domain::{AccessToken, SignOutScope};

use crate::client::client_info;
use crate::dto::{
    AuthResponse, ErrorResponse, MeResponse, MessageResponse, PendingSignUpResponse, SignInBody,
    SignOutBody, SignUpBody, SignUpResponse, from_json,
};
use crate::error::{ApiError, ErrorKind};
use crate::extract::{AuthUser, Bearer, JsonBody, bearer, is_json};
use crate::metrics::{Metrics, SigninOutcome};
use crate::openapi_responses::{BodyTooLargeOrNotJson, RateLimited, ServerErrors, Unauthenticated};

#[utoipa::path(post, path = "/api/auth/signup", tag = "auth",
    request_body = SignUpBody,
    responses(
        (status = 201, description = "Account created and signed in; with `EMAIL_VERIFICATION=required`, created with no token until the address is verified (`verification_required`)", body = SignUpResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Invalid JSON, or invalid fields (`invalid_json`, `validation_failed`, `email_taken`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, RateLimited, ServerErrors
    )
)]
/// Create an account and sign it in.
///
/// # Errors
/// The contract's signup errors.
pub async fn sign_up(
    req: HttpRequest,
    auth: web::Data<AuthService>,
    body: JsonBody<SignUpBody>,
) -> Result<HttpResponse, ApiError> {
    let command = SignUp::try_from(body.0)?;
    let answer = match auth.sign_up(command, &client_info(&req)).await? {
        SignedUp::Session(session) => SignUpResponse::SignedIn(AuthResponse::from(&session)),
        SignedUp::VerificationRequired(user) => SignUpResponse::Pending(PendingSignUpResponse {
            user: (&user).into(),
            verification_required: true,
        }),
    };
    Ok(HttpResponse::Created().json(answer))
}

#[utoipa::path(post, path = "/api/auth/signin", tag = "auth",
    request_body = SignInBody,
    responses(
        (status = 200, description = "Signed in: a new token and session", body = AuthResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Invalid JSON, or invalid fields (`invalid_json`, `validation_failed`, `invalid_credentials`)", body = ErrorResponse),
        (status = 403, description = "The right password, but the address is not verified and `EMAIL_VERIFICATION=required` (`email_not_verified`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, RateLimited, ServerErrors
    )
)]
/// Sign in with an email and a password: a new token and session.
///
/// # Errors
/// The contract's signin errors.
pub async fn sign_in(
    req: HttpRequest,
    auth: web::Data<AuthService>,
    metrics: web::Data<Metrics>,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let command = SignIn::try_from(body.0)?;
    let result = auth.sign_in(command, &client_info(&req)).await;
    metrics.observe_signin(match &result {
        Ok(_) => SigninOutcome::Success,
        Err(SignInError::InvalidCredentials) => SigninOutcome::InvalidCredentials,
        Err(SignInError::Throttled(_)) => SigninOutcome::RateLimited,
        Err(SignInError::EmailNotVerified) => SigninOutcome::EmailNotVerified,
        Err(_) => SigninOutcome::Error,
    });
    let session = result?;
    Ok(HttpResponse::Ok().json(AuthResponse::from(&session)))
}

#[utoipa::path(post, path = "/api/auth/signout", tag = "auth",
    request_body(content = Option<SignOutBody>, description = "Empty, `{}` or a scope"),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Signed out (also when there was nothing to end)", body = MessageResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Unknown scope or invalid JSON (`validation_failed`, `invalid_json`)", body = ErrorResponse),
        BodyTooLargeOrNotJson, ServerErrors
    )
)]
/// End this session, every session (`global`) or all others (`others`).
///
/// The body may be empty, `{}` or `{"scope": ...}`.
///
/// # Errors
/// 400 for an unknown scope or a body that is not JSON; 503 if sessions cannot be ended.
pub async fn sign_out(
    req: HttpRequest,
    auth: web::Data<AuthService>,
    metrics: web::Data<Metrics>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let scope = if body.iter().all(u8::is_ascii_whitespace) {
        SignOutScope::default()
    } else if !is_json(&req) {
        return Err(ErrorKind::UnsupportedMediaType.into());
    } else {
        from_json::<SignOutBody>(&body)
            .map_err(|_| ErrorKind::InvalidJson)?
            .try_into()?
    };
    let token = match bearer(&req) {
        Bearer::Token(token) => Some(AccessToken::new(token.to_owned())),
        Bearer::Missing => None,
    };
    let ended = auth
        .sign_out(SignOut { token, scope }, &client_info(&req))
        .await?;
    metrics.observe_sessions_ended(ended);
    Ok(HttpResponse::Ok().json(MessageResponse {
        message: "Signed out successfully",
    }))
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeResponse, headers(("Cache-Control" = String, description = "`no-store`"))),
        Unauthenticated, ServerErrors
    )
)]
/// The signed-in user and when the token expires.
///
/// # Errors
/// The guard's 401s.
pub async fn me(user: AuthUser, auth: web::Data<AuthService>) -> Result<HttpResponse, ApiError> {
    let account = auth.me(user.principal()).await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        user: (&account).into(),
        expires_at: user.0.expires_at,
    }))
}
