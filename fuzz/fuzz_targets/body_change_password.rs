//! Fuzzes the password change body (`POST /api/auth/password`): bytes are read as the
//! service reads bodies and turned into the `ChangePassword` command at the edge: the
//! current password to check (`PasswordCandidate::parse`) and the new one
//! (`Password::parse`, signup's rules).
//!
//! Invariants: an accepted body is a strict JSON object; the command is made exactly when
//! both fields pass their checks, otherwise the refused fields are named in body order;
//! both passwords are the raw text; the password invariants of `tessera_fuzz::text` hold
//! of the new one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::ChangePassword;
use tessera_domain::{Password, PasswordCandidate};
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_fuzz::text::check_password;
use tessera_http::dto::ChangePasswordBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<ChangePasswordBody>(data) else {
        return;
    };
    let current = text(&read.object, "current_password");
    let new = text(&read.object, "new_password");
    check_password(&new);
    let converted = ChangePassword::try_from(read.body);
    check_conversion(
        &converted,
        &[
            ("current_password", PasswordCandidate::parse(&current).is_ok()),
            ("new_password", Password::parse(&new).is_ok()),
        ],
    );
    if let Ok(change) = converted {
        assert_eq!(change.current.as_str(), current);
        assert_eq!(change.new.as_str(), new);
    }
});
