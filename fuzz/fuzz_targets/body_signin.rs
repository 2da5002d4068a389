//! Fuzzes the signin body (`POST /api/auth/signin`): bytes are read as
//! `Object<SignInBody>` the ways the service reads bodies, turned into the
//! `SignInCommand`, and put through the signin use case's checks before any lookup
//! (email required and without NUL, password required), then the normalisation that
//! makes the account and throttle key (`EmailAddress::normalise`).
//!
//! Invariants: both readings agree; an accepted body is a strict JSON object and each
//! command field is that object's member of the same name; a key that reaches the lookup
//! holds no NUL; an email that `EmailAddress::parse` accepts satisfies every email
//! invariant of `tessera_fuzz::text`, its normal form among them, so that signin finds
//! the address signup stored.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::SignInCommand;
use tessera_domain::{EmailAddress, EmailError};
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::check_email;
use tessera_http::dto::SignInBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<SignInBody>(data) else {
        return;
    };
    let command = SignInCommand::from(body.strict);
    let extractor = SignInCommand::from(body.extractor);
    for (name, field, other) in [
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
    let email = command.email.unwrap_or_default();
    let password = command.password.unwrap_or_default();
    check_email(&email);
    let refused = EmailAddress::parse(&email) == Err(EmailError::Required)
        || email.contains('\0')
        || password.is_empty();
    if !refused {
        let key = EmailAddress::normalise(&email);
        assert!(
            !key.contains('\0'),
            "the account key reaching storage holds no NUL"
        );
    }
});
