//! Fuzzes the claim parsing behind the signature check: the input is a flag byte, a JWT
//! header and a payload (`<flags><header JSON>\0<payload JSON>`); the harness encodes
//! both in base64url and signs them HS256 with the key the flags choose (the verifier's
//! current or previous secret, an unknown secret, or no signature), so that mutations
//! reach the header checks, the claim parsing, the `kid` lookup and the strict
//! duplicate-key check.
//!
//! Invariants: a token signed by an unknown key or not signed at all is refused as
//! invalid (never as expired); an accepted token satisfies every check of
//! `tessera_fuzz::token` (strict JSON, HS256, no foreign key pointers, claims equal to the
//! payload's, issuer, audience, expiry, and the claims issued again verify to themselves).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::ports::TokenError;
use tessera_fuzz::token::{Signer, sign, verify_and_check};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (header, payload) = match rest.iter().position(|&byte| byte == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let signer = Signer::from_flags(flags);
    let token = sign(header, payload, signer);
    let verified = verify_and_check(&token);
    if matches!(signer, Signer::Foreign | Signer::Unsigned) {
        assert_eq!(
            verified.err(),
            Some(TokenError::Invalid),
            "a token not signed by a key the verifier holds is invalid"
        );
    }
});
