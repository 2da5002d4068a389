//! Fuzzes the account deletion body (`DELETE /api/auth/me`): bytes are read as the
//! service reads bodies and turned into the `DeleteAccount` command at the edge, whose
//! password is one to check (`PasswordCandidate::parse`).
//!
//! Invariants: an accepted body is a strict JSON object; the command is made exactly when
//! the password passes its check, and holds the raw text; otherwise `password` is named.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::DeleteAccount;
use tessera_domain::PasswordCandidate;
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_http::dto::DeleteAccountBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<DeleteAccountBody>(data) else {
        return;
    };
    let password = text(&read.object, "password");
    let converted = DeleteAccount::try_from(read.body);
    check_conversion(
        &converted,
        &[("password", PasswordCandidate::parse(&password).is_ok())],
    );
    if let Ok(deletion) = converted {
        assert_eq!(deletion.password.as_str(), password);
    }
});
