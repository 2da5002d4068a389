//! The OpenAPI 3.1 document, generated from the annotated handlers and DTOs.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    AuthResponse, ChangeEmailBody, ChangePasswordBody, CreateTaskBody, DeleteAccountBody,
    ErrorResponse, EventResponse, EventsResponse, ForgotPasswordBody, MeResponse, MessageResponse,
    PatchTaskBody, PendingSignUpResponse, ReplaceTaskBody, ResetPasswordBody, SessionResponse,
    SessionsResponse, SignInBody, SignOutBody, SignUpBody, SignUpResponse, StatusResponse,
    TaskResponse, UpdateMeBody, UserEnvelope, UserResponse, VerifyEmailBody,
};
use crate::{metrics, routes};

/// The document served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Sign up, sign in and manage your own tasks. Every error has the shape of `ErrorResponse`.",
    ),
    paths(
        routes::auth::sign_up,
        routes::auth::sign_in,
        routes::auth::sign_out,
        routes::auth::me,
        routes::account::update_me,
        routes::account::change_password,
        routes::account::sessions,
        routes::account::end_session,
        routes::account::events,
        routes::account::delete_me,
        routes::mail::forgot_password,
        routes::mail::reset_password,
        routes::mail::request_verification,
        routes::mail::verify_email,
        routes::mail::change_email,
        routes::tasks::list,
        routes::tasks::create,
        routes::tasks::get,
        routes::tasks::replace,
        routes::tasks::patch,
        routes::tasks::delete,
        routes::tasks::toggle,
        routes::tasks::toggle_post,
        routes::ops::health,
        routes::ops::ready,
        metrics::metrics,
    ),
    components(schemas(
        SignUpBody, SignInBody, SignOutBody, CreateTaskBody, ReplaceTaskBody, PatchTaskBody,
        AuthResponse, MeResponse, UserResponse, TaskResponse, MessageResponse, StatusResponse,
        ErrorResponse, UpdateMeBody, ChangePasswordBody, DeleteAccountBody, UserEnvelope,
        SessionResponse, SessionsResponse, EventResponse, EventsResponse, ForgotPasswordBody,
        ResetPasswordBody, VerifyEmailBody, ChangeEmailBody, PendingSignUpResponse, SignUpResponse,
    )),
    modifiers(&BearerSecurity),
    tags(
        (name = "auth", description = "Signup, signin, signout and the signed-in user"),
        (name = "account", description = "The caller's name, password, sessions, security events and account"),
        (name = "mail", description = "Password reset, email verification and change of email, by mailed links"),
        (name = "tasks", description = "The caller's own tasks"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The `token` of a signup or signin answer"))
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::OpenApi;

    use super::ApiDoc;
    use crate::ROUTES;

    fn documented() -> BTreeSet<(String, String)> {
        let doc = ApiDoc::openapi();
        let mut found = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let methods = [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("put", item.put.is_some()),
                ("patch", item.patch.is_some()),
                ("delete", item.delete.is_some()),
                ("head", item.head.is_some()),
                ("options", item.options.is_some()),
                ("trace", item.trace.is_some()),
            ];
            for (method, present) in methods {
                if present {
                    found.insert((method.to_owned(), path.clone()));
                }
            }
        }
        found
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let registered: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        let documented = documented();
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from the document: {undocumented:?}"
        );
        assert!(
            phantom.is_empty(),
            "documented routes that do not exist: {phantom:?}"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_bearer_scheme() {
        let json = match ApiDoc::openapi().to_json() {
            Ok(json) => json,
            Err(e) => panic!("{e}"),
        };
        let value: serde_json::Value = match serde_json::from_str(&json) {
            Ok(value) => value,
            Err(e) => panic!("{e}"),
        };
        assert!(
            value["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1"))
        );
        assert_eq!(
            value["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let create = &value["paths"]["/api/{user_id}/tasks"]["post"]["responses"];
        for status in ["201", "400", "401", "403", "413", "415", "500", "503"] {
            assert!(create.get(status).is_some(), "task creation lacks {status}");
        }
    }

    /// Every status `CONTRACT.md` names for a route, as (method, path, statuses): the
    /// route's own table, its body errors (400, 408, 413, 415) where it takes a body, the
    /// guard's 401 and the 403 of `{user_id}`, the limits' 429 and quota's 409, and the
    /// 503 of storage or hashing where it reaches either.
    const CONTRACT_STATUSES: &[(&str, &str, &[&str])] = &[
        ("get", "/health", &["200"]),
        ("get", "/ready", &["200", "503"]),
        ("get", "/metrics", &["200", "404"]),
        (
            "post",
            "/api/auth/signup",
            &["201", "400", "408", "413", "415", "429", "503"],
        ),
        (
            "post",
            "/api/auth/signin",
            &["200", "400", "403", "408", "413", "415", "429", "503"],
        ),
        (
            "post",
            "/api/auth/password/forgot",
            &["202", "400", "408", "413", "415", "429", "503"],
        ),
        (
            "post",
            "/api/auth/password/reset",
            &["200", "400", "408", "413", "415", "503"],
        ),
        (
            "post",
            "/api/auth/email/verification",
            &["202", "401", "409", "429", "503"],
        ),
        (
            "post",
            "/api/auth/email/verify",
            &["200", "400", "408", "413", "415", "503"],
        ),
        (
            "post",
            "/api/auth/email",
            &["202", "400", "401", "408", "413", "415", "429", "503"],
        ),
        (
            "post",
            "/api/auth/signout",
            &["200", "400", "408", "413", "415", "503"],
        ),
        ("get", "/api/auth/me", &["200", "401", "503"]),
        (
            "patch",
            "/api/auth/me",
            &["200", "400", "401", "408", "413", "415", "503"],
        ),
        (
            "delete",
            "/api/auth/me",
            &["200", "400", "401", "408", "413", "415", "429", "503"],
        ),
        (
            "post",
            "/api/auth/password",
            &["200", "400", "401", "408", "413", "415", "429", "503"],
        ),
        ("get", "/api/auth/sessions", &["200", "401", "503"]),
        (
            "delete",
            "/api/auth/sessions/{session_id}",
            &["200", "401", "404", "503"],
        ),
        ("get", "/api/auth/events", &["200", "400", "401", "503"]),
        (
            "get",
            "/api/{user_id}/tasks",
            &["200", "400", "401", "403", "503"],
        ),
        (
            "post",
            "/api/{user_id}/tasks",
            &[
                "201", "400", "401", "403", "408", "409", "413", "415", "429", "503",
            ],
        ),
        (
            "get",
            "/api/{user_id}/tasks/{task_id}",
            &["200", "401", "403", "404", "503"],
        ),
        (
            "put",
            "/api/{user_id}/tasks/{task_id}",
            &[
                "200", "400", "401", "403", "404", "408", "413", "415", "429", "503",
            ],
        ),
        (
            "patch",
            "/api/{user_id}/tasks/{task_id}",
            &[
                "200", "400", "401", "403", "404", "408", "413", "415", "429", "503",
            ],
        ),
        (
            "delete",
            "/api/{user_id}/tasks/{task_id}",
            &["200", "401", "403", "404", "429", "503"],
        ),
        (
            "patch",
            "/api/{user_id}/tasks/{task_id}/complete",
            &["200", "401", "403", "404", "429", "503"],
        ),
        (
            "post",
            "/api/{user_id}/tasks/{task_id}/complete",
            &["200", "401", "403", "404", "429", "503"],
        ),
    ];

    #[test]
    fn every_status_the_contract_names_for_a_route_is_documented() {
        let value = match ApiDoc::openapi().to_json() {
            Ok(json) => serde_json::from_str::<serde_json::Value>(&json).unwrap_or_default(),
            Err(e) => panic!("{e}"),
        };
        let routes: BTreeSet<(String, String)> = CONTRACT_STATUSES
            .iter()
            .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        assert_eq!(routes, documented(), "the table names every route, once");
        let mut missing = Vec::new();
        for (method, path, statuses) in CONTRACT_STATUSES {
            let responses = &value["paths"][path][method]["responses"];
            for status in *statuses {
                if responses.get(status).is_none() {
                    missing.push(format!("{} {path}: {status}", method.to_uppercase()));
                }
            }
        }
        assert!(missing.is_empty(), "undocumented statuses: {missing:#?}");
    }
}
