//! Fuzzes the signout body (`POST /api/auth/signout`) the way its handler reads it: a
//! body of only ASCII white space is no body; anything else is read as
//! `Object<SignOutBody>` with `tessera_json::from_slice`, and its scope is validated as
//! the signout use case validates it (`SignOutScope::parse`).
//!
//! Invariants: the two ways of reading a body agree; an accepted body is a strict JSON
//! object whose `scope` member (absent or `null` is none) is the command's scope; only
//! `local`, `global` and `others` parse as a scope, each to its own variant.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::SignOutCommand;
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::check_scope;
use tessera_http::dto::SignOutBody;

fuzz_target!(|data: &[u8]| {
    if data.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let Some(body) = read::<SignOutBody>(data) else {
        return;
    };
    assert_eq!(
        body.strict.scope, body.extractor.scope,
        "both readings give one scope"
    );
    let command = SignOutCommand {
        token: None,
        scope: body.strict.scope,
        client: Default::default(),
    };
    assert_eq!(
        command.scope,
        text_field(&body.object, "scope"),
        "scope is the body's scope"
    );
    if let Some(scope) = command.scope.as_deref() {
        check_scope(scope);
    }
});
