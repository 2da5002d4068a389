//! Fuzzes token verification (`JwtTokens::verify`, the guard's first step) with arbitrary
//! text: whatever the bearer sends, `verify` returns an answer without panicking, gives
//! the same answer twice, and accepts a token only when every invariant of an accepted
//! token holds (size limit, HS256 signature by a known key and the key its `kid` names,
//! strict JSON header and payload, no header pointing at another key, claims equal to the
//! payload's, configured issuer and audience, `exp` within the leeway; see
//! `tessera_fuzz::token`). Seeds include valid tokens, so mutations start from one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_fuzz::token::verify_and_check;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verify_and_check(token);
});
