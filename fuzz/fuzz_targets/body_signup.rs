//! Fuzzes the signup body (`POST /api/auth/signup`): bytes are read as the service reads
//! bodies and turned into the `SignUp` command at the edge, whose field checks are
//! `UserName::parse`, `EmailAddress::parse` and `Password::parse`.
//!
//! Invariants: an accepted body is a strict JSON object; the command is made exactly when
//! each field passes its check, of the body's member of the same name (absent or `null`
//! is empty), and holds what the check made; otherwise the refused fields are named in
//! body order; the name, email and password invariants of `tessera_fuzz::text` hold of
//! the raw text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::SignUp;
use tessera_domain::{EmailAddress, Password, UserName};
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_fuzz::text::{check_email, check_name, check_password};
use tessera_http::dto::SignUpBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<SignUpBody>(data) else {
        return;
    };
    let (name, email, password) = (
        text(&read.object, "name"),
        text(&read.object, "email"),
        text(&read.object, "password"),
    );
    check_name(&name);
    check_email(&email);
    check_password(&password);
    let converted = SignUp::try_from(read.body);
    check_conversion(
        &converted,
        &[
            ("name", UserName::parse(&name).is_ok()),
            ("email", EmailAddress::parse(&email).is_ok()),
            ("password", Password::parse(&password).is_ok()),
        ],
    );
    if let Ok(signup) = converted {
        assert_eq!(Ok(signup.name), UserName::parse(&name));
        assert_eq!(Ok(signup.email), EmailAddress::parse(&email));
        assert_eq!(signup.password.as_str(), password, "the password as given");
    }
});
