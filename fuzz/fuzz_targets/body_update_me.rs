//! Fuzzes the name change body (`PATCH /api/auth/me`): bytes are read as the service
//! reads bodies and turned into a `UserName` at the edge, by signup's rule.
//!
//! Invariants: an accepted body is a strict JSON object; the name is made exactly when
//! `UserName::parse` takes the body's `name` (absent or `null` is empty), and is what it
//! made; otherwise `name` is named; the name invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_domain::UserName;
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_fuzz::text::check_name;
use tessera_http::dto::UpdateMeBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<UpdateMeBody>(data) else {
        return;
    };
    let name = text(&read.object, "name");
    check_name(&name);
    let converted = UserName::try_from(read.body);
    check_conversion(&converted, &[("name", UserName::parse(&name).is_ok())]);
    if let Ok(parsed) = converted {
        assert_eq!(Ok(parsed), UserName::parse(&name));
    }
});
