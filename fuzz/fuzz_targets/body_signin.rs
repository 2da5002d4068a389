//! Fuzzes the signin body (`POST /api/auth/signin`): bytes are read as the service reads
//! bodies and turned into the `SignIn` command at the edge: an account key
//! (`EmailKey::parse`: not blank, no NUL, normalised) and a password to check
//! (`PasswordCandidate::parse`: not empty, no NUL).
//!
//! Invariants: an accepted body is a strict JSON object; the command is made exactly when
//! both fields pass their checks, otherwise the refused fields are named in body order; a
//! key holds no NUL and is what `EmailAddress::normalise` makes of the raw text, so that
//! signin finds the address signup stored; the password is the raw text; the email
//! invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::SignIn;
use tessera_domain::{EmailAddress, EmailKey, PasswordCandidate};
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_fuzz::text::check_email;
use tessera_http::dto::SignInBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<SignInBody>(data) else {
        return;
    };
    let (email, password) = (text(&read.object, "email"), text(&read.object, "password"));
    check_email(&email);
    let converted = SignIn::try_from(read.body);
    check_conversion(
        &converted,
        &[
            ("email", EmailKey::parse(&email).is_ok()),
            ("password", PasswordCandidate::parse(&password).is_ok()),
        ],
    );
    if let Ok(signin) = converted {
        let key = signin.email.as_str();
        assert!(!key.contains('\0'), "the account key reaching storage holds no NUL");
        assert_eq!(key, EmailAddress::normalise(&email));
        assert_eq!(signin.password.as_str(), password, "the password as given");
    }
});
