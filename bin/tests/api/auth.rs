//! Signup, signin, signout and `me`.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::helpers::{
    ForgedToken, TestApp, app_with_user, assert_error, assert_error_in, assert_keys,
    assert_missing_token, assert_unauthorized, assert_validation, expect_status, header, now, send,
    spawn_app, spawn_app_with, string_at, tasks_path, timestamp, unique_email, unique_password,
};

const SIGNUP: &str = "/api/auth/signup";
const SIGNIN: &str = "/api/auth/signin";
const SIGNOUT: &str = "/api/auth/signout";
const SIGNED_OUT: &str = "Signed out successfully";
const DEFAULT_TTL_SECONDS: i64 = 604_800;

/// Asserts the body of a successful signup or signin and returns its token.
fn assert_auth_body(body: &Value, email: &str, name: &str) -> String {
    assert_keys(body, &["expires_at", "token", "token_type", "user"]);
    assert_keys(&body["user"], &["created_at", "email", "id", "name"]);
    let id = string_at(body, "/user/id");
    let uuid = Uuid::parse_str(&id).unwrap_or_else(|error| panic!("user.id {id}: {error}"));
    assert_eq!(uuid.get_version_num(), 4, "user.id is a UUID v4: {id}");
    assert_eq!(body["user"]["email"], email, "user.email; body: {body}");
    assert_eq!(body["user"]["name"], name, "user.name; body: {body}");
    assert!(
        timestamp(&body["user"]["created_at"]) <= now() + 60,
        "created_at is not in the future: {body}"
    );
    assert_eq!(body["token_type"], "Bearer", "token_type; body: {body}");
    let token = string_at(body, "/token");
    assert_eq!(token.split('.').count(), 3, "token is a JWT: {token}");
    let lifetime = timestamp(&body["expires_at"]) - now();
    assert!(
        (DEFAULT_TTL_SECONDS - 60..=DEFAULT_TTL_SECONDS + 60).contains(&lifetime),
        "expires_at is about 7 days from now: {body}"
    );
    token
}

/// Asserts `Cache-Control: no-store` on a successful auth response.
fn assert_no_store(response: &reqwest::Response) {
    let cache_control = header(response, "cache-control").unwrap_or_default();
    assert!(
        cache_control.contains("no-store"),
        "Cache-Control is {cache_control:?}"
    );
}

/// The `jti` (session id) of a token.
fn jti(token: &str) -> String {
    string_at(&ForgedToken::parse(token).claims, "/jti")
}

async fn assert_signed_out(response: reqwest::Response) {
    let body = expect_status(response, StatusCode::OK).await;
    assert_eq!(body, json!({"message": SIGNED_OUT}));
}

async fn assert_revoked(app: &TestApp, token: &str) {
    assert_unauthorized(
        app.me(token).await,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

async fn assert_active(app: &TestApp, token: &str) {
    expect_status(app.me(token).await, StatusCode::OK).await;
}

// ----- signup -----

#[tokio::test]
async fn signup_returns_201_with_the_user_a_bearer_token_and_no_store() {
    let app = spawn_app().await;
    let email = unique_email();
    let response = app
        .signup("Alice Johnson", &email, &unique_password())
        .await;
    assert_no_store(&response);
    let body = expect_status(response, StatusCode::CREATED).await;
    let token = assert_auth_body(&body, &email, "Alice Johnson");
    assert_active(&app, &token).await;
}

#[tokio::test]
async fn signup_trims_and_lowercases_the_email_and_trims_the_name() {
    let app = spawn_app().await;
    let unique = Uuid::new_v4().simple().to_string();
    let typed = format!("  Alice.{unique}@Example.COM  ");
    let stored = format!("alice.{unique}@example.com");
    let response = app
        .signup("  Alice Johnson  ", &typed, &unique_password())
        .await;
    let body = expect_status(response, StatusCode::CREATED).await;
    assert_auth_body(&body, &stored, "Alice Johnson");
}

#[tokio::test]
async fn signup_token_is_an_hs256_jwt_with_the_contract_claims() {
    let app = spawn_app().await;
    let email = unique_email();
    let response = app
        .signup("Claims Checker", &email, &unique_password())
        .await;
    let body = expect_status(response, StatusCode::CREATED).await;
    let token = string_at(&body, "/token");

    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["tessera"]);
    validation.set_audience(&["tessera"]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = decode::<Value>(
        token.as_str(),
        &DecodingKey::from_secret(app.secret.as_bytes()),
        &validation,
    )
    .expect("the token verifies with the server secret");
    let claims = data.claims;

    assert_eq!(data.header.alg, Algorithm::HS256);
    assert_eq!(claims["sub"], body["user"]["id"], "sub; claims: {claims}");
    assert_eq!(
        claims["user_id"], body["user"]["id"],
        "user_id; claims: {claims}"
    );
    assert_eq!(claims["email"], email.as_str(), "email; claims: {claims}");
    assert_eq!(claims["name"], "Claims Checker", "name; claims: {claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()),
        "jti; claims: {claims}"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert!((iat - now()).abs() <= 60, "iat is now; claims: {claims}");
    assert_eq!(exp - iat, DEFAULT_TTL_SECONDS, "lifetime; claims: {claims}");
    assert!(
        (timestamp(&body["expires_at"]) - exp).abs() <= 1,
        "expires_at matches exp; body: {body}, claims: {claims}"
    );
}

#[tokio::test]
async fn signup_without_a_name_or_with_a_blank_one_returns_name_is_required() {
    let app = spawn_app().await;
    for name in [None, Some(""), Some("   ")] {
        let mut body = json!({"email": unique_email(), "password": unique_password()});
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, "name", "Name is required").await;
    }
}

#[tokio::test]
async fn signup_accepts_a_name_of_100_multibyte_characters() {
    let app = spawn_app().await;
    let name = "é".repeat(100);
    let email = unique_email();
    let padded = format!(" {name} ");
    let response = app.signup(&padded, &email, &unique_password()).await;
    let body = expect_status(response, StatusCode::CREATED).await;
    assert_auth_body(&body, &email, &name);
}

#[tokio::test]
async fn signup_with_a_name_of_101_characters_returns_name_too_long() {
    let app = spawn_app().await;
    let response = app
        .signup(&"é".repeat(101), &unique_email(), &unique_password())
        .await;
    assert_validation(response, "name", "Name must be 100 characters or less").await;
}

#[tokio::test]
async fn signup_without_an_email_or_with_a_blank_one_returns_email_is_required() {
    let app = spawn_app().await;
    for email in [None, Some(""), Some("   ")] {
        let mut body = json!({"name": "Alice", "password": unique_password()});
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, "email", "Email is required").await;
    }
}

#[tokio::test]
async fn signup_with_an_invalid_email_returns_please_enter_a_valid_email() {
    let app = spawn_app().await;
    for email in [
        "plainaddress",
        "a@b",
        "@example.com",
        "alice@",
        "alice@example",
    ] {
        let response = app.signup("Alice", email, &unique_password()).await;
        let body = assert_error_in(
            email,
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "Please enter a valid email",
        )
        .await;
        assert_eq!(
            body["fields"]["email"], "Please enter a valid email",
            "{email}"
        );
    }
}

/// A valid, unique address of exactly `length` characters (labels of 60, local part
/// under 64).
fn email_of_length(length: usize) -> String {
    let domain = format!(
        "{}.{}.{}.example.com",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60)
    );
    let unique = Uuid::new_v4().simple().to_string();
    let local_length = length - domain.len() - 1;
    let local = format!("{unique}{}", "x".repeat(local_length - unique.len()));
    let email = format!("{local}@{domain}");
    assert_eq!(email.len(), length);
    email
}

#[tokio::test]
async fn signup_accepts_an_email_of_254_characters() {
    let app = spawn_app().await;
    let email = email_of_length(254);
    let response = app.signup("Long Email", &email, &unique_password()).await;
    let body = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(body["user"]["email"], email.as_str());
}

#[tokio::test]
async fn signup_with_an_email_over_254_characters_returns_email_too_long() {
    let app = spawn_app().await;
    let response = app
        .signup("Long Email", &email_of_length(255), &unique_password())
        .await;
    assert_validation(response, "email", "Email must be 254 characters or less").await;
}

#[tokio::test]
async fn signup_without_a_password_or_with_one_under_8_characters_returns_too_short() {
    let app = spawn_app().await;
    // "é" x 7 is 14 bytes but 7 characters: the minimum counts characters.
    let seven_multibyte = "é".repeat(7);
    for password in [
        None,
        Some(""),
        Some("abcdefg"),
        Some(seven_multibyte.as_str()),
    ] {
        let mut body = json!({"name": "Alice", "email": unique_email()});
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(
            response,
            "password",
            "Password must be at least 8 characters",
        )
        .await;
    }
}

#[tokio::test]
async fn signup_accepts_a_password_of_exactly_8_characters() {
    let app = spawn_app().await;
    for password in ["Tz9#kq2!", "ééééééé€"] {
        let response = app.signup("Alice", &unique_email(), password).await;
        expect_status(response, StatusCode::CREATED).await;
    }
}

#[tokio::test]
async fn signup_with_a_password_over_72_bytes_returns_password_too_long() {
    let app = spawn_app().await;
    let multibyte = format!("{}a", "é".repeat(36));
    assert_eq!(multibyte.len(), 73);
    for password in [multibyte, "x".repeat(73)] {
        let response = app.signup("Alice", &unique_email(), &password).await;
        assert_validation(response, "password", "Password must be at most 72 bytes").await;
    }
}

#[tokio::test]
async fn password_of_exactly_72_bytes_is_accepted_and_every_byte_counts() {
    let app = spawn_app().await;
    let password = "é".repeat(36);
    assert_eq!(password.len(), 72);
    let email = unique_email();
    let response = app.signup("Byte Counter", &email, &password).await;
    expect_status(response, StatusCode::CREATED).await;

    let response = app.signin(&email, &password).await;
    assert_auth_body(
        &expect_status(response, StatusCode::OK).await,
        &email,
        "Byte Counter",
    );

    let shorter = "é".repeat(35);
    let response = app.signin(&email, &shorter).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
}

#[tokio::test]
async fn signup_with_a_common_password_returns_too_common_whatever_its_case() {
    let app = spawn_app().await;
    for password in ["password123", "PASSWORD123", "Password123"] {
        let response = app.signup("Alice", &unique_email(), password).await;
        assert_validation(
            response,
            "password",
            "This password is too common, please choose another",
        )
        .await;
    }
}

#[tokio::test]
async fn signup_with_several_invalid_fields_reports_the_first_and_lists_them_all() {
    let app = spawn_app().await;
    let body = json!({"name": "", "email": "not-an-email", "password": "short"});
    let response = app.post_json(SIGNUP, &body, None).await;
    let error = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        "Name is required",
    )
    .await;
    assert_eq!(
        error["fields"],
        json!({
            "name": "Name is required",
            "email": "Please enter a valid email",
            "password": "Password must be at least 8 characters",
        })
    );

    let body = json!({"name": "Alice", "email": "", "password": "short"});
    let response = app.post_json(SIGNUP, &body, None).await;
    let error = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        "Email is required",
    )
    .await;
    assert_eq!(
        error["fields"],
        json!({
            "email": "Email is required",
            "password": "Password must be at least 8 characters",
        })
    );
}

#[tokio::test]
async fn signup_with_a_registered_email_in_another_case_returns_email_taken() {
    let app = spawn_app().await;
    let email = unique_email();
    let response = app.signup("First", &email, &unique_password()).await;
    expect_status(response, StatusCode::CREATED).await;

    let shouted = format!(" {} ", email.to_uppercase());
    let response = app.signup("Second", &shouted, &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_signups_with_one_email_create_exactly_one_account() {
    // Room for all 30 hashes to wait: this test is about the race, not about saturation.
    let app = spawn_app_with(&[("HASH_QUEUE", "32")]).await;
    let email = unique_email();
    let mut requests = JoinSet::new();
    for attempt in 0..30 {
        let request = app.request(Method::POST, SIGNUP, None).json(&json!({
            "name": format!("Racer {attempt}"),
            "email": email,
            "password": unique_password(),
        }));
        requests.spawn(send(request));
    }
    let mut created = 0;
    while let Some(joined) = requests.join_next().await {
        let response = joined.expect("the request task completes");
        if response.status() == StatusCode::CREATED {
            created += 1;
            expect_status(response, StatusCode::CREATED).await;
        } else {
            assert_error(
                response,
                StatusCode::BAD_REQUEST,
                "email_taken",
                "Email already registered",
            )
            .await;
        }
    }
    assert_eq!(created, 1, "exactly one signup succeeds");
}

#[tokio::test]
async fn signup_with_a_nul_character_returns_a_validation_error_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"name": "Ali\u{0}ce", "email": unique_email(), "password": unique_password()}),
            "name",
            "Name contains an invalid character",
        ),
        (
            json!({"name": "Alice", "email": format!("ali\u{0}{}", unique_email()), "password": unique_password()}),
            "email",
            "Please enter a valid email",
        ),
        (
            json!({"name": "Alice", "email": unique_email(), "password": format!("{}\u{0}x", unique_password())}),
            "password",
            "Password contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app.post_json(SIGNUP, &body, None).await;
        assert_validation(response, field, message).await;
    }
}

// ----- signin -----

#[tokio::test]
async fn signin_returns_200_with_a_new_valid_token_each_time() {
    let (app, user) = app_with_user().await;
    let first = app.signin(&user.email, &user.password).await;
    assert_no_store(&first);
    let first = assert_auth_body(
        &expect_status(first, StatusCode::OK).await,
        &user.email,
        &user.name,
    );
    let second = app.signin(&user.email, &user.password).await;
    let second = assert_auth_body(
        &expect_status(second, StatusCode::OK).await,
        &user.email,
        &user.name,
    );

    assert_ne!(jti(&first), jti(&second), "each signin is a new session");
    assert_ne!(
        jti(&first),
        jti(&user.token),
        "signin is not the signup session"
    );
    for token in [&user.token, &first, &second] {
        let body = expect_status(app.me(token).await, StatusCode::OK).await;
        assert_eq!(body["user"]["id"], user.id.as_str());
    }
}

#[tokio::test]
async fn signin_email_is_case_insensitive_and_trimmed() {
    let (app, user) = app_with_user().await;
    let typed = format!("  {}  ", user.email.to_uppercase());
    let response = app.signin(&typed, &user.password).await;
    let body = expect_status(response, StatusCode::OK).await;
    assert_auth_body(&body, &user.email, &user.name);
    assert_eq!(body["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn signin_without_an_email_or_with_an_empty_one_returns_email_is_required() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({"password": user.password}),
        json!({"email": "", "password": user.password}),
    ] {
        let response = app.post_json(SIGNIN, &body, None).await;
        assert_validation(response, "email", "Email is required").await;
    }
}

#[tokio::test]
async fn signin_without_a_password_or_with_an_empty_one_returns_password_is_required() {
    let (app, user) = app_with_user().await;
    for body in [
        json!({"email": user.email}),
        json!({"email": user.email, "password": ""}),
    ] {
        let response = app.post_json(SIGNIN, &body, None).await;
        assert_validation(response, "password", "Password is required").await;
    }
}

#[tokio::test]
async fn signin_with_unknown_email_returns_invalid_credentials() {
    let app = spawn_app().await;
    let response = app.signin(&unique_email(), &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
}

#[tokio::test]
async fn signin_with_wrong_password_returns_the_same_body_as_an_unknown_email() {
    let (app, user) = app_with_user().await;
    let wrong_password = app.signin(&user.email, &unique_password()).await;
    let wrong_password = assert_error(
        wrong_password,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    let unknown_email = app.signin(&unique_email(), &user.password).await;
    let unknown_email = assert_error(
        unknown_email,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;
    assert_eq!(wrong_password, unknown_email);
}

#[tokio::test]
async fn signin_with_a_password_over_72_bytes_is_never_truncated() {
    let app = spawn_app().await;
    let password = format!("{}{}", Uuid::new_v4().simple(), "k".repeat(40));
    assert_eq!(password.len(), 72);
    let email = unique_email();
    let response = app.signup("Truncation", &email, &password).await;
    expect_status(response, StatusCode::CREATED).await;

    let longer = format!("{password}extra");
    let response = app.signin(&email, &longer).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_credentials",
        "Invalid email or password",
    )
    .await;

    let response = app.signin(&email, &password).await;
    expect_status(response, StatusCode::OK).await;
}

// ----- signout -----

#[tokio::test]
async fn signout_without_a_token_returns_200() {
    let app = spawn_app().await;
    assert_signed_out(app.signout(None, &json!({})).await).await;
    assert_signed_out(app.raw(Method::POST, SIGNOUT, "", None, None).await).await;
}

#[tokio::test]
async fn signout_with_a_garbage_token_returns_200() {
    let app = spawn_app().await;
    let response = app
        .signout(Some("not.a.token"), &json!({"scope": "global"}))
        .await;
    assert_signed_out(response).await;
}

#[tokio::test]
async fn signout_with_an_expired_token_returns_200() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["iat"] = json!(now() - 3_600);
    forged.claims["exp"] = json!(now() - 120);
    let expired = app.sign(&forged);
    assert_signed_out(app.signout(Some(&expired), &json!({})).await).await;
    assert_active(&app, &user.token).await;
}

#[tokio::test]
async fn signout_twice_returns_200_both_times() {
    let (app, user) = app_with_user().await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(&app, &user.token).await;
}

#[tokio::test]
async fn signout_with_an_empty_body_and_no_content_type_ends_this_session() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let response = app.raw(Method::POST, SIGNOUT, "", None, user.auth()).await;
    assert_signed_out(response).await;
    assert_revoked(&app, &user.token).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_with_an_empty_object_ends_this_session() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(&app, &user.token).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_local_ends_only_this_token() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let response = app.signout(user.auth(), &json!({"scope": "local"})).await;
    assert_signed_out(response).await;
    assert_revoked(&app, &user.token).await;
    assert_active(&app, &other).await;
}

#[tokio::test]
async fn signout_global_ends_every_session_of_the_user() {
    let (app, user) = app_with_user().await;
    let other = app.new_token(&user).await;
    let stranger = app.signed_up_user().await;
    let response = app.signout(user.auth(), &json!({"scope": "global"})).await;
    assert_signed_out(response).await;
    assert_revoked(&app, &user.token).await;
    assert_revoked(&app, &other).await;
    assert_active(&app, &stranger.token).await;
}

#[tokio::test]
async fn signout_others_ends_every_session_but_this_one() {
    let (app, user) = app_with_user().await;
    let second = app.new_token(&user).await;
    let third = app.new_token(&user).await;
    let response = app.signout(user.auth(), &json!({"scope": "others"})).await;
    assert_signed_out(response).await;
    assert_active(&app, &user.token).await;
    assert_revoked(&app, &second).await;
    assert_revoked(&app, &third).await;
}

#[tokio::test]
async fn signed_out_token_returns_token_revoked_on_every_protected_route() {
    let (app, user) = app_with_user().await;
    assert_signed_out(app.signout(user.auth(), &json!({})).await).await;
    assert_revoked(&app, &user.token).await;
    let response = app.get(&tasks_path(&user.id), user.auth()).await;
    assert_unauthorized(
        response,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
}

#[tokio::test]
async fn signout_with_an_unknown_scope_returns_a_validation_error_and_ends_nothing() {
    let (app, user) = app_with_user().await;
    let response = app.signout(user.auth(), &json!({"scope": "bogus"})).await;
    assert_validation(
        response,
        "scope",
        "Scope must be one of local, global, others",
    )
    .await;
    assert_active(&app, &user.token).await;
}

// ----- me -----

#[tokio::test]
async fn me_returns_the_user_and_expiry_with_no_store() {
    let (app, user) = app_with_user().await;
    let response = app.me(&user.token).await;
    assert_no_store(&response);
    let body = expect_status(response, StatusCode::OK).await;
    assert_keys(&body, &["expires_at", "user"]);
    assert_keys(&body["user"], &["created_at", "email", "id", "name"]);
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_eq!(body["user"]["email"], user.email.as_str());
    assert_eq!(body["user"]["name"], user.name.as_str());
    timestamp(&body["user"]["created_at"]);
    let exp = ForgedToken::parse(&user.token).claims["exp"]
        .as_i64()
        .expect("exp is a number");
    assert!(
        (timestamp(&body["expires_at"]) - exp).abs() <= 1,
        "expires_at is the token's exp: {body}"
    );
}

#[tokio::test]
async fn me_without_a_token_returns_missing_token_with_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    let response = app.get("/api/auth/me", None).await;
    assert_missing_token("GET /api/auth/me", response).await;
}

#[tokio::test]
async fn me_with_a_non_bearer_authorization_returns_missing_token() {
    let (app, user) = app_with_user().await;
    let basic = app
        .request(Method::GET, "/api/auth/me", None)
        .header("Authorization", "Basic xyz");
    assert_missing_token_challenged(send(basic).await).await;
    // A real token under another scheme is still not a bearer token.
    let token_scheme = app
        .request(Method::GET, "/api/auth/me", None)
        .header("Authorization", format!("Token {}", user.token));
    assert_missing_token_challenged(send(token_scheme).await).await;
}

#[tokio::test]
async fn me_with_an_empty_bearer_token_returns_missing_token() {
    let app = spawn_app().await;
    for value in ["Bearer", "Bearer "] {
        let request = app
            .request(Method::GET, "/api/auth/me", None)
            .header("Authorization", value);
        assert_missing_token_challenged(send(request).await).await;
    }
}

/// The `missing_token` 401 to a request that sent an Authorization header: the
/// challenge is a Bearer one (whether it carries an error parameter is not fixed).
async fn assert_missing_token_challenged(response: reqwest::Response) {
    let challenge = header(&response, "www-authenticate").unwrap_or_default();
    assert_error(
        response,
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "Authentication required",
    )
    .await;
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate is {challenge:?}"
    );
}

#[tokio::test]
async fn signin_with_a_nul_character_in_the_email_is_a_validation_error() {
    let (app, user) = app_with_user().await;
    let email = format!("{}\u{0}", user.email);
    let response = app.signin(&email, &user.password).await;
    assert_validation(response, "email", "Please enter a valid email").await;
}
