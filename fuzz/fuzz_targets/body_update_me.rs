//! Fuzzes the rename body (`PATCH /api/auth/me`): bytes are read as
//! `Object<UpdateMeBody>` the ways the service reads bodies, and the name is put through
//! the rule the use case runs (`UserName::parse`).
//!
//! Invariants: both readings agree; `name` is the body's member of that name; a name the
//! rule accepts satisfies every name invariant of `tessera_fuzz::text`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::check_name;
use tessera_http::dto::UpdateMeBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<UpdateMeBody>(data) else {
        return;
    };
    assert_eq!(
        body.strict.name, body.extractor.name,
        "both readings give one name"
    );
    assert_eq!(
        body.strict.name,
        text_field(&body.object, "name"),
        "name is the body's name"
    );
    check_name(body.strict.name.as_deref().unwrap_or_default());
});
