//! Fuzzes the account deletion body (`DELETE /api/auth/me`): bytes are read as
//! `Object<DeleteAccountBody>` the ways the service reads bodies and turned into the
//! `DeleteAccountCommand`.
//!
//! Invariants: both readings agree, and the command's password is the body's `password`
//! member, exactly (never trimmed or changed: it is compared with the stored hash).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::DeleteAccountCommand;
use tessera_fuzz::body::{read, text_field};
use tessera_http::dto::DeleteAccountBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<DeleteAccountBody>(data) else {
        return;
    };
    let command = DeleteAccountCommand::from(body.strict);
    let extractor = DeleteAccountCommand::from(body.extractor);
    assert_eq!(
        command.password, extractor.password,
        "both readings give one password"
    );
    assert_eq!(
        command.password,
        text_field(&body.object, "password"),
        "password is the body's password"
    );
});
