//! A token whose header or claims hold a member twice.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ForgedToken, app_with_user, assert_error_in, expect_status};

/// A token made of exactly these header and claims texts, signed with `secret`.
fn signed_raw(secret: &str, header: &str, claims: &str) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
    )
    .expect("HMAC signing works");
    format!("{message}.{signature}")
}

#[tokio::test]
async fn a_token_with_a_member_twice_is_invalid() {
    let (app, user) = app_with_user().await;
    let forged = ForgedToken::parse(&user.token);
    let header = forged.header.to_string();
    let claims = forged.claims.to_string();
    // The unchanged texts, signed again, are accepted: only the duplicates differ below.
    expect_status(
        app.me(&signed_raw(&app.secret, &header, &claims)).await,
        StatusCode::OK,
    )
    .await;
    let with = |text: &str, extra: &str| format!("{},{extra}}}", &text[..text.len() - 1]);
    let other = Uuid::new_v4();
    for (header, claims) in [
        (
            header.clone(),
            with(&claims, &format!(r#""sub":"{other}""#)),
        ),
        (header.clone(), with(&claims, r#""x":1,"x":2"#)),
        (header.clone(), with(&claims, r#""nested":{"k":1,"k":2}"#)),
        (with(&header, r#""alg":"HS256""#), claims.clone()),
        (with(&header, r#""typ":"JWT""#), claims.clone()),
    ] {
        let token = signed_raw(&app.secret, &header, &claims);
        let response = app.me(&token).await;
        assert_error_in(
            &format!("{header} {claims}"),
            response,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Invalid or malformed token",
        )
        .await;
    }
}
