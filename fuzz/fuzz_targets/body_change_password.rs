//! Fuzzes the password change body (`POST /api/auth/password`): bytes are read as
//! `Object<ChangePasswordBody>` the ways the service reads bodies, turned into the
//! `ChangePasswordCommand`, and the new password is put through the signup policy the use
//! case runs (`Password::parse`).
//!
//! Invariants: both readings agree; each command field is the body's member of the same
//! name; a new password the policy accepts satisfies every password invariant of
//! `tessera_fuzz::text` (kept exactly, at most 72 bytes, no NUL, not common).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::ChangePasswordCommand;
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::check_password;
use tessera_http::dto::ChangePasswordBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<ChangePasswordBody>(data) else {
        return;
    };
    let command = ChangePasswordCommand::from(body.strict);
    let extractor = ChangePasswordCommand::from(body.extractor);
    for (name, field, other) in [
        (
            "current_password",
            &command.current_password,
            &extractor.current_password,
        ),
        (
            "new_password",
            &command.new_password,
            &extractor.new_password,
        ),
    ] {
        assert_eq!(field, other, "both readings give one {name}");
        assert_eq!(
            field,
            &text_field(&body.object, name),
            "{name} is the body's {name}"
        );
    }
    check_password(command.new_password.as_deref().unwrap_or_default());
});
