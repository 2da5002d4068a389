//! `POST /api/auth/signup`: the account, the first token, an email taken, signups at once.

mod fields;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{DEFAULT_TTL_SECONDS, assert_active, assert_auth_body, assert_no_store};
use crate::helpers::{
    assert_error, expect_status, now, send, spawn_app, spawn_app_with, string_at, timestamp,
    unique_email, unique_password,
};

const SIGNUP: &str = "/api/auth/signup";

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
