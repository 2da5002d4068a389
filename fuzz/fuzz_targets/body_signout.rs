//! Fuzzes the signout body (`POST /api/auth/signout`) the way its handler reads it: a
//! body of only ASCII white space is no body; anything else is read as the service reads
//! bodies, and its scope turned into a `SignOutScope` at the edge.
//!
//! Invariants: an accepted body is a strict JSON object; an absent or `null` scope is
//! `local`; a scope is made exactly when `SignOutScope::parse` takes the body's text,
//! otherwise `scope` is named; only `local`, `global` and `others` parse as a scope, each
//! to its own variant.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_domain::SignOutScope;
use tessera_fuzz::body::{check_conversion, read, text_field};
use tessera_fuzz::text::check_scope;
use tessera_http::dto::SignOutBody;

fuzz_target!(|data: &[u8]| {
    if data.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let Some(read) = read::<SignOutBody>(data) else {
        return;
    };
    let scope = text_field(&read.object, "scope");
    if let Some(scope) = scope.as_deref() {
        check_scope(scope);
    }
    let converted = SignOutScope::try_from(read.body);
    let parsed = scope.as_deref().map(SignOutScope::parse);
    check_conversion(&converted, &[("scope", parsed.is_none_or(|p| p.is_ok()))]);
    if let Ok(chosen) = converted {
        assert_eq!(
            chosen,
            parsed.and_then(Result::ok).unwrap_or(SignOutScope::Local)
        );
    }
});
