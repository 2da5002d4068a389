//! Input and answer hardening: a key twice in a JSON object, media types, invisible and
//! control characters, look-alike emails, duplicate token members, security headers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    ForgedToken, app_with_user, assert_error, assert_error_in, assert_invalid_json,
    assert_validation, expect_status, header, spawn_app, spawn_app_with, string_at, task_path,
    tasks_path, unique_password,
};

const SIGNUP: &str = "/api/auth/signup";
const SIGNIN: &str = "/api/auth/signin";
const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn a_key_twice_is_invalid_json_on_every_body_and_changes_nothing() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    for body in [
        r#"{"title":"a","title":"b"}"#,
        r#"{"title":"a","\u0074itle":"b"}"#,
        r#"{"title":"a","description":"x","description":"y"}"#,
        r#"{"title":"a","extra":{"k":1,"k":2}}"#,
    ] {
        let response = app.raw(Method::POST, &tasks, body, JSON, user.auth()).await;
        assert_invalid_json(body, response).await;
    }
    let listed = app.list_tasks(&user).await;
    assert_eq!(listed, json!([]), "no task may have been created");

    let task = app.create_task(&user, "kept").await;
    let id = task["id"].as_i64().unwrap_or_default();
    for (method, body) in [
        (Method::PUT, r#"{"title":"x","title":"y"}"#),
        (Method::PATCH, r#"{"completed":true,"completed":false}"#),
        (Method::PATCH, r#"{"title":"x","t\u0069tle":"y"}"#),
    ] {
        let response = app
            .raw(
                method.clone(),
                &task_path(&user.id, id),
                body,
                JSON,
                user.auth(),
            )
            .await;
        assert_invalid_json(&format!("{method} {body}"), response).await;
    }
    assert_eq!(
        app.get_task(&user, id).await,
        task,
        "the task must be unchanged"
    );

    // A proxy reading the first password would see a wrong one: never act on the last.
    let signin = format!(
        r#"{{"email":"{}","password":"wrong-password","password":"{}"}}"#,
        user.email, user.password
    );
    assert_invalid_json(
        "signin",
        app.raw(Method::POST, SIGNIN, signin, JSON, None).await,
    )
    .await;
    let signup =
        r#"{"name":"A","name":"B","email":"dup-key@example.com","password":"securepassword123"}"#;
    assert_invalid_json(
        "signup",
        app.raw(Method::POST, SIGNUP, signup, JSON, None).await,
    )
    .await;
    let again = app
        .signup("A", "dup-key@example.com", "securepassword123")
        .await;
    expect_status(again, StatusCode::CREATED).await;
    let signout = r#"{"scope":"local","scope":"global"}"#;
    let response = app
        .raw(
            Method::POST,
            "/api/auth/signout",
            signout,
            JSON,
            user.auth(),
        )
        .await;
    assert_invalid_json("signout", response).await;
    expect_status(app.me(&user.token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn only_application_json_and_plus_json_media_types_are_read() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    let body = r#"{"title":"typed"}"#;
    for content_type in [
        "text/json",
        "multipart/x+json",
        "text/plain",
        "application/jsonx",
    ] {
        let response = app
            .raw(Method::POST, &tasks, body, Some(content_type), user.auth())
            .await;
        assert_error_in(
            content_type,
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type must be application/json",
        )
        .await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
    for content_type in [
        "application/vnd.api+json",
        "application/json; charset=utf-8",
    ] {
        let response = app
            .raw(Method::POST, &tasks, body, Some(content_type), user.auth())
            .await;
        expect_status(response, StatusCode::CREATED).await;
    }
    let response = app
        .raw(
            Method::POST,
            "/api/auth/signout",
            r#"{"scope":"local"}"#,
            Some("text/json"),
            user.auth(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn names_refuse_controls_and_bidi_and_count_invisible_only_as_empty() {
    let app = spawn_app().await;
    for name in ["\u{200b}", "\u{feff}", " \u{200b}\u{2060} "] {
        let response = app.signup(name, &email("blank"), &unique_password()).await;
        assert_validation(response, "name", "Name is required").await;
    }
    for name in [
        "Bob\r\nSet-Cookie: x=1",
        "\u{1b}[31mred\u{1b}[0m",
        "Bob\u{202e}gnp.exe",
    ] {
        let response = app.signup(name, &email("ctl"), &unique_password()).await;
        assert_validation(response, "name", "Name contains an invalid character").await;
    }
    let family = "Ann \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
    let body = expect_status(
        app.signup(family, &email("emoji"), &unique_password())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["user"]["name"], family);
    let claims = ForgedToken::parse(&string_at(&body, "/token")).claims;
    assert_eq!(claims["name"], family);
}

#[tokio::test]
async fn titles_and_descriptions_follow_the_text_rules() {
    let (app, user) = app_with_user().await;
    let tasks = tasks_path(&user.id);
    let cases = [
        (json!({"title": "\u{200b}"}), "title", "Title is required"),
        (json!({"title": "\u{feff} "}), "title", "Title is required"),
        (
            json!({"title": "\u{1b}[2Jclear"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "a\u{2066}b"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "line\nbreak"}),
            "title",
            "Title contains an invalid character",
        ),
        (
            json!({"title": "ok", "description": "bell\u{7}"}),
            "description",
            "Description contains an invalid character",
        ),
        (
            json!({"title": "ok", "description": "x\u{202e}y"}),
            "description",
            "Description contains an invalid character",
        ),
    ];
    for (body, field, message) in cases {
        let response = app.post_json(&tasks, &body, user.auth()).await;
        assert_validation(response, field, message).await;
    }
    assert_eq!(app.list_tasks(&user).await, json!([]));
    let kept = json!({"title": "Shopping", "description": "milk\neggs\r\n\tbread"});
    let task = expect_status(
        app.post_json(&tasks, &kept, user.auth()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(task["description"], "milk\neggs\r\n\tbread");
    let invisible = json!({"title": "Quiet", "description": "\u{200b} \u{feff}"});
    let task = expect_status(
        app.post_json(&tasks, &invisible, user.auth()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(task["description"], Value::Null);
}

/// A fresh local part, so that each run's addresses are its own.
fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", Uuid::new_v4().simple())
}

#[tokio::test]
async fn look_alike_emails_are_one_account() {
    let app = spawn_app().await;
    let id = Uuid::new_v4().simple().to_string();
    let password = unique_password();
    let body = expect_status(
        app.signup(
            "Alice",
            &format!("ALICE-{id}@ｅｘａｍｐｌｅ.com"),
            &password,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["user"]["email"], format!("alice-{id}@example.com"));
    for twin in [
        format!("ａｌｉｃｅ-{id}@example.com"),
        format!("alice-{id}＠example.com"),
        format!("Alice-{id}@EXAMPLE.com"),
    ] {
        let response = app.signup("Twin", &twin, &unique_password()).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "email_taken",
            "Email already registered",
        )
        .await;
        expect_status(app.signin(&twin, &password).await, StatusCode::OK).await;
    }

    let body = expect_status(
        app.signup("Idn", &format!("idn-{id}@exämple.com"), &password)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        body["user"]["email"],
        format!("idn-{id}@xn--exmple-cua.com")
    );
    let ascii = format!("idn-{id}@xn--exmple-cua.com");
    let response = app.signup("Idn", &ascii, &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;
    expect_status(app.signin(&ascii, &password).await, StatusCode::OK).await;
    expect_status(
        app.signin(&format!("IDN-{id}@EXÄMPLE.COM"), &password)
            .await,
        StatusCode::OK,
    )
    .await;

    // NFC and NFD spellings of one name.
    let nfc = format!("jos\u{e9}-{id}@example.com");
    let nfd = format!("jose\u{301}-{id}@example.com");
    expect_status(
        app.signup("José", &nfc, &password).await,
        StatusCode::CREATED,
    )
    .await;
    let response = app.signup("José", &nfd, &unique_password()).await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "email_taken",
        "Email already registered",
    )
    .await;

    for invalid in [
        format!("al\u{200b}ice-{id}@example.com"),
        format!("alice-{id}\u{feff}@example.com"),
        format!("alice-{id}@exa\u{200d}mple.com"),
        format!("alice-{id}@example.com\u{202e}"),
        format!("al\u{378}ice-{id}@example.com"),
    ] {
        let response = app.signup("Ghost", &invalid, &unique_password()).await;
        assert_validation(response, "email", "Please enter a valid email").await;
    }
    let response = app.signup("Ghost", "\u{200b}", &unique_password()).await;
    assert_validation(response, "email", "Email is required").await;
}

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

fn assert_common_headers(context: &str, response: &Response) {
    assert_eq!(
        header(response, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{context}"
    );
    assert_eq!(
        header(response, "referrer-policy").as_deref(),
        Some("no-referrer"),
        "{context}"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (app, user) = app_with_user().await;
    let answers = [
        ("health", app.get("/health", None).await),
        ("unknown route", app.get("/nowhere", None).await),
        (
            "task list",
            app.get(&tasks_path(&user.id), user.auth()).await,
        ),
        (
            "unknown task",
            app.get(&task_path(&user.id, 999_999), user.auth()).await,
        ),
        ("no token", app.get("/api/auth/me", None).await),
        (
            "bad json",
            app.raw(Method::POST, SIGNUP, "{", JSON, None).await,
        ),
        (
            "unknown api route",
            app.get("/api/nothing/here/at/all", None).await,
        ),
    ];
    for (context, response) in &answers {
        assert_common_headers(context, response);
        assert_eq!(
            header(response, "strict-transport-security"),
            None,
            "{context}: no HSTS unless set"
        );
        if response.url().path().starts_with("/api/") {
            assert_eq!(
                header(response, "cache-control").as_deref(),
                Some("no-store"),
                "{context}"
            );
        }
        let policy = header(response, "content-security-policy").unwrap_or_default();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{context}: {policy}"
        );
    }

    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        header(&docs, "content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert_common_headers("docs", &docs);
    let policy = header(&docs, "content-security-policy").unwrap_or_default();
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    assert!(directives.contains(&"frame-ancestors 'none'"), "{policy}");
    assert!(directives.contains(&"default-src 'self'"), "{policy}");
    assert!(directives.contains(&"script-src 'self'"), "{policy}");
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    assert!(
        !policy.contains("http:") && !policy.contains("https:") && !policy.contains('*'),
        "{policy}"
    );
    // The page itself holds no inline script for the policy to block.
    let page = docs.text().await.unwrap_or_default();
    for script in page.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(
            tag.contains("src="),
            "an inline script in /docs/: <script{tag}>"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_on_every_answer_when_configured() {
    let app = spawn_app_with(&[("HSTS_MAX_AGE_SECONDS", "31536000")]).await;
    for (context, response) in [
        ("health", app.get("/health", None).await),
        ("not found", app.get("/nowhere", None).await),
        ("no token", app.get("/api/auth/me", None).await),
        ("docs", app.get("/docs/", None).await),
    ] {
        assert_eq!(
            header(&response, "strict-transport-security").as_deref(),
            Some("max-age=31536000"),
            "{context}"
        );
    }
}
