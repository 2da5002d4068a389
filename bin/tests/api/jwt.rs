//! Forged, altered and expired tokens against the guard.
//!
//! Each attack starts from a real token, decoded without verification, changed, and
//! signed again; the first test proves that an unchanged re-signed copy is accepted, so
//! a refusal in the others is due to the change alone.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    ForgedToken, app_with_user, assert_invalid_token, assert_unauthorized, expect_status, now,
    tasks_path,
};

const ANOTHER_SECRET: &[u8] = b"another-secret-that-is-also-long-enough-0123456789";

#[tokio::test]
async fn re_signed_copy_of_a_real_token_is_accepted() {
    let (app, user) = app_with_user().await;
    let forged = ForgedToken::parse(&user.token);
    let token = app.sign(&forged);
    let body = expect_status(app.me(&token).await, StatusCode::OK).await;
    assert_eq!(body["user"]["id"], user.id.as_str());
    let response = app.get(&tasks_path(&user.id), Some(token.as_str())).await;
    expect_status(response, StatusCode::OK).await;
}

#[tokio::test]
async fn garbage_token_returns_invalid_token() {
    let (app, _user) = app_with_user().await;
    for token in ["garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9.e30."] {
        assert_invalid_token(token, app.me(token).await).await;
    }
}

#[tokio::test]
async fn token_with_alg_none_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    for alg in ["none", "None", "NONE", "nOnE"] {
        forged.header = json!({"alg": alg, "typ": "JWT"});
        let token = forged.unsigned();
        assert_invalid_token(alg, app.me(&token).await).await;
    }
}

#[tokio::test]
async fn token_with_alg_none_returns_invalid_token_on_task_routes_too() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.header = json!({"alg": "none", "typ": "JWT"});
    let token = forged.unsigned();
    let response = app.get(&tasks_path(&user.id), Some(token.as_str())).await;
    assert_invalid_token("GET tasks", response).await;
}

#[tokio::test]
async fn token_with_another_hmac_algorithm_returns_invalid_token_even_with_the_right_secret() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    for (name, algorithm) in [("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)] {
        forged.header["alg"] = json!(name);
        let token = forged.signed_with(app.secret.as_bytes(), algorithm);
        assert_invalid_token(name, app.me(&token).await).await;
    }
}

#[tokio::test]
async fn token_whose_header_says_rs256_over_an_hmac_signature_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        forged.header["alg"] = json!(alg);
        let token = app.sign(&forged);
        assert_invalid_token(alg, app.me(&token).await).await;
    }
}

#[tokio::test]
async fn token_with_a_jku_header_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.header["jku"] = json!("http://evil.example/jwks.json");
    let token = app.sign(&forged);
    assert_invalid_token("jku", app.me(&token).await).await;
}

#[tokio::test]
async fn token_with_an_x5u_header_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.header["x5u"] = json!("http://evil.example/cert.pem");
    let token = app.sign(&forged);
    assert_invalid_token("x5u", app.me(&token).await).await;
}

#[tokio::test]
async fn token_with_a_jwk_header_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.header["jwk"] = json!({"kty": "oct", "k": "YXR0YWNrZXIta2V5"});
    let token = app.sign(&forged);
    assert_invalid_token("jwk", app.me(&token).await).await;
}

#[tokio::test]
async fn token_with_a_tampered_payload_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["name"] = json!("Mallory");
    let token = forged.with_original_signature();
    assert_invalid_token("tampered name", app.me(&token).await).await;
}

#[tokio::test]
async fn token_signed_with_another_secret_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let forged = ForgedToken::parse(&user.token);
    let token = forged.signed_with(ANOTHER_SECRET, Algorithm::HS256);
    assert_invalid_token("another secret", app.me(&token).await).await;
}

#[tokio::test]
async fn token_with_a_wrong_issuer_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["iss"] = json!("someone-else");
    let token = app.sign(&forged);
    assert_invalid_token("iss", app.me(&token).await).await;
}

#[tokio::test]
async fn token_with_a_wrong_audience_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["aud"] = json!("someone-else");
    let token = app.sign(&forged);
    assert_invalid_token("aud", app.me(&token).await).await;
}

#[tokio::test]
async fn token_missing_any_claim_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    for claim in [
        "sub", "user_id", "email", "name", "iat", "exp", "jti", "iss", "aud",
    ] {
        let mut forged = ForgedToken::parse(&user.token);
        forged.remove_claim(claim);
        let token = app.sign(&forged);
        assert_invalid_token(claim, app.me(&token).await).await;
    }
}

#[tokio::test]
async fn token_over_8_kib_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["padding"] = json!("a".repeat(7_000));
    let token = app.sign(&forged);
    assert!(token.len() > 8 * 1024, "the token is {} bytes", token.len());
    assert_invalid_token("over 8 KiB", app.me(&token).await).await;
}

#[tokio::test]
async fn token_whose_sub_differs_from_user_id_returns_invalid_token() {
    let (app, user) = app_with_user().await;
    let other = app.signed_up_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    for sub in [Uuid::new_v4().to_string(), other.id.clone()] {
        forged.claims["sub"] = json!(sub);
        let token = app.sign(&forged);
        assert_invalid_token(&sub, app.me(&token).await).await;
    }
}

#[tokio::test]
async fn token_expired_beyond_the_leeway_returns_token_expired() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["iat"] = json!(now() - 3_600);
    forged.claims["exp"] = json!(now() - 120);
    let token = app.sign(&forged);
    assert_unauthorized(
        app.me(&token).await,
        "token_expired",
        "Token expired, please log in again",
    )
    .await;
}

#[tokio::test]
async fn token_expired_within_the_60_second_leeway_is_accepted() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["iat"] = json!(now() - 3_600);
    forged.claims["exp"] = json!(now() - 30);
    let token = app.sign(&forged);
    let body = expect_status(app.me(&token).await, StatusCode::OK).await;
    assert_eq!(body["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn tokens_with_x5c_or_crit_headers_or_an_audience_array_are_invalid() {
    let (app, user) = app_with_user().await;
    let mut x5c = ForgedToken::parse(&user.token);
    x5c.header["x5c"] = json!(["MIIBszCCAVmgAwIBAgIU"]);
    assert_invalid_token("x5c", app.me(&app.sign(&x5c)).await).await;
    let mut crit = ForgedToken::parse(&user.token);
    crit.header["crit"] = json!(["exp"]);
    assert_invalid_token("crit", app.me(&app.sign(&crit)).await).await;
    let mut audiences = ForgedToken::parse(&user.token);
    audiences.claims["aud"] = json!(["tessera", "another-service"]);
    assert_invalid_token("aud array", app.me(&app.sign(&audiences)).await).await;
}

#[tokio::test]
async fn a_validly_signed_token_whose_session_does_not_exist_is_revoked() {
    let (app, user) = app_with_user().await;
    let mut forged = ForgedToken::parse(&user.token);
    forged.claims["jti"] = json!(Uuid::new_v4().to_string());
    let token = app.sign(&forged);
    assert_unauthorized(
        app.me(&token).await,
        "token_revoked",
        "Session has ended, please log in again",
    )
    .await;
    // Another user's session under this user's id: not a token this service issued.
    let other = app.signed_up_user().await;
    let mut borrowed = ForgedToken::parse(&user.token);
    borrowed.claims["jti"] = ForgedToken::parse(&other.token).claims["jti"].clone();
    assert_invalid_token("another user's session", app.me(&app.sign(&borrowed)).await).await;
}

#[tokio::test]
async fn bytes_that_are_not_utf8_inside_a_token_make_it_invalid() {
    use base64::Engine as _;
    let (app, user) = app_with_user().await;
    let forged = ForgedToken::parse(&user.token);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims = forged.claims.to_string().into_bytes();
    // A lone continuation byte inside the name's string.
    let at = claims.len() - 2;
    claims.insert(at, 0x80);
    let message = format!(
        "{}.{}",
        engine.encode(forged.header.to_string()),
        engine.encode(&claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(app.secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing works");
    let token = format!("{message}.{signature}");
    assert_invalid_token("not UTF-8", app.me(&token).await).await;
}
