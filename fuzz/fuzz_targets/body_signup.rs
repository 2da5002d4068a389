//! Fuzzes the signup body (`POST /api/auth/signup`): bytes are read as
//! `Object<SignUpBody>` the ways the service reads bodies, turned into the
//! `SignUpCommand`, and each field is validated as the signup use case validates it
//! (`UserName::parse`, `EmailAddress::parse`, `Password::parse`).
//!
//! Invariants: both readings agree; an accepted body is a strict JSON object and each
//! command field is that object's member of the same name (absent or `null` is none);
//! a parsed name is trimmed, 1 to 100 characters, without control or bidirectional
//! characters, and parses to itself; a parsed email is at most 254 characters, lower
//! case, with one `@` and an ASCII domain, parses to itself and is what signin's
//! normalisation makes of the raw text; a parsed password is the raw text, 8 characters
//! to 72 bytes, without NUL, not a common password; each refusal has its stated cause.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::SignUpCommand;
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::{check_email, check_name, check_password};
use tessera_http::dto::SignUpBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<SignUpBody>(data) else {
        return;
    };
    let command = SignUpCommand::from(body.strict);
    let extractor = SignUpCommand::from(body.extractor);
    for (name, field, other) in [
        ("name", &command.name, &extractor.name),
        ("email", &command.email, &extractor.email),
        ("password", &command.password, &extractor.password),
    ] {
        assert_eq!(field, other, "both readings give one {name}");
        assert_eq!(
            field,
            &text_field(&body.object, name),
            "{name} is the body's {name}"
        );
    }
    check_name(command.name.as_deref().unwrap_or_default());
    check_email(command.email.as_deref().unwrap_or_default());
    check_password(command.password.as_deref().unwrap_or_default());
});
