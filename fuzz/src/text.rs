//! The invariants of the domain's text values, checked on whatever a fuzzed body carries:
//! each `parse` either refuses for the reason it gives, or returns a value that is
//! trimmed, within its length limit, free of the characters the contract forbids, and
//! that parses again to itself.

use tessera_domain::{
    EmailAddress, EmailError, Password, PasswordError, SignOutScope, TaskDescription,
    TaskDescriptionError, TaskTitle, TaskTitleError, UserName, UserNameError, is_common_password,
};

/// The bidirectional formatting characters the contract refuses in every text.
#[must_use]
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Forbidden in a one-line text (name, title, email): a control or bidirectional control.
#[must_use]
pub fn forbidden_in_line(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Forbidden in a description: the same, less line feed, carriage return and tab.
#[must_use]
pub fn forbidden_in_description(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c)
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Whether the shared rules call `raw` blank (empty, or only white space and invisible
/// characters): every text type must agree on that.
fn is_blank(raw: &str) -> bool {
    TaskTitle::parse(raw) == Err(TaskTitleError::Required)
}

/// A name: 1 to 100 characters, trimmed, one line, no bidirectional control; refused
/// for the reason given; a valid name is also a valid title.
pub fn check_name(raw: &str) {
    let trimmed = raw.trim();
    match UserName::parse(raw) {
        Ok(name) => {
            let text = name.as_str();
            assert_eq!(text, trimmed, "a name is the raw text trimmed");
            assert!(!text.is_empty(), "a name is not empty");
            assert!(
                chars(text) <= UserName::MAX_CHARS,
                "a name is at most 100 characters"
            );
            assert!(
                !text.chars().any(forbidden_in_line),
                "a name has no control character"
            );
            assert_eq!(
                UserName::parse(text),
                Ok(name.clone()),
                "a name parses to itself"
            );
            assert_eq!(
                TaskTitle::parse(raw).map(|title| title.as_str().to_owned()),
                Ok(text.to_owned()),
                "a valid name is a valid title"
            );
        }
        Err(UserNameError::Required) => assert!(is_blank(raw), "name and title agree on blank"),
        Err(UserNameError::TooLong) => assert!(chars(trimmed) > UserName::MAX_CHARS),
        Err(UserNameError::InvalidCharacter) => {
            assert!(trimmed.chars().any(forbidden_in_line));
        }
    }
}

/// A title: 1 to 200 characters, trimmed, one line, no bidirectional control.
pub fn check_title(raw: &str) {
    let trimmed = raw.trim();
    match TaskTitle::parse(raw) {
        Ok(title) => {
            let text = title.as_str();
            assert_eq!(text, trimmed, "a title is the raw text trimmed");
            assert!(!text.is_empty(), "a title is not empty");
            assert!(
                chars(text) <= TaskTitle::MAX_CHARS,
                "a title is at most 200 characters"
            );
            assert!(
                !text.chars().any(forbidden_in_line),
                "a title has no control character"
            );
            assert_eq!(
                TaskTitle::parse(text),
                Ok(title.clone()),
                "a title parses to itself"
            );
        }
        Err(TaskTitleError::Required) => {
            assert_eq!(
                TaskDescription::parse(raw),
                Ok(None),
                "a blank title is an empty description"
            );
        }
        Err(TaskTitleError::TooLong) => assert!(chars(trimmed) > TaskTitle::MAX_CHARS),
        Err(TaskTitleError::InvalidCharacter) => {
            assert!(trimmed.chars().any(forbidden_in_line));
        }
    }
}

/// A description: none when blank, else trimmed, at most 1000 characters, with no
/// control character but line breaks and tabs.
pub fn check_description(raw: &str) {
    let trimmed = raw.trim();
    match TaskDescription::parse(raw) {
        Ok(Some(description)) => {
            let text = description.as_str();
            assert_eq!(text, trimmed, "a description is the raw text trimmed");
            assert!(!is_blank(raw), "a blank description is none");
            assert!(
                chars(text) <= TaskDescription::MAX_CHARS,
                "a description is at most 1000 characters"
            );
            assert!(
                !text.chars().any(forbidden_in_description),
                "a description has no control character but line breaks and tabs"
            );
            assert_eq!(
                TaskDescription::parse(text),
                Ok(Some(description.clone())),
                "a description parses to itself"
            );
        }
        Ok(None) => assert!(is_blank(raw), "only a blank description is none"),
        Err(TaskDescriptionError::TooLong) => {
            assert!(chars(trimmed) > TaskDescription::MAX_CHARS);
        }
        Err(TaskDescriptionError::InvalidCharacter) => {
            assert!(trimmed.chars().any(forbidden_in_description));
        }
    }
}

/// An email address: at most 254 characters, one `@` between a non-empty local part and
/// a lower-case ASCII domain of two labels or more, no white space or control
/// character, lower case; it parses to itself, and signin's normalisation of the raw
/// text finds it.
pub fn check_email(raw: &str) {
    match EmailAddress::parse(raw) {
        Ok(email) => {
            let text = email.as_str();
            assert!(
                chars(text) <= EmailAddress::MAX_CHARS,
                "an email is at most 254 characters"
            );
            let Some((local, domain)) = text.split_once('@') else {
                panic!("an email holds an @");
            };
            assert!(!domain.contains('@'), "an email holds one @");
            assert!(!local.is_empty(), "an email has a local part");
            assert!(domain.is_ascii(), "an email's domain is ASCII (IDNA)");
            assert_eq!(
                domain,
                domain.to_ascii_lowercase(),
                "an email's domain is lower case"
            );
            assert!(
                domain.split('.').count() >= 2,
                "an email's domain has two labels"
            );
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_whitespace() || forbidden_in_line(c)),
                "an email has no white space or control character"
            );
            assert_eq!(text, text.to_lowercase(), "an email is lower case");
            assert_eq!(
                EmailAddress::parse(text),
                Ok(email.clone()),
                "an email parses to itself"
            );
            assert_eq!(
                EmailAddress::normalise(raw),
                text,
                "signin's normalisation of the typed text finds the stored address"
            );
            assert_eq!(
                EmailAddress::normalise(text),
                text,
                "a stored address is already normal"
            );
        }
        Err(EmailError::Required) => assert!(is_blank(raw), "email and title agree on blank"),
        Err(EmailError::TooLong | EmailError::Invalid) => {
            // Signin still normalises any text it is given.
            let _ = EmailAddress::normalise(raw);
        }
    }
}

/// A new password: kept exactly as given, 8 characters to 72 bytes, no NUL, not common.
pub fn check_password(raw: &str) {
    match Password::parse(raw) {
        Ok(password) => {
            assert_eq!(
                password.as_str(),
                raw,
                "a password is kept exactly as given"
            );
            assert!(
                chars(raw) >= Password::MIN_CHARS,
                "a password is 8 characters or more"
            );
            assert!(
                raw.len() <= Password::MAX_BYTES,
                "a password is 72 bytes or fewer"
            );
            assert!(!raw.contains('\0'), "a password holds no NUL");
            assert!(!is_common_password(raw), "a password is not a common one");
        }
        Err(PasswordError::TooShort) => assert!(chars(raw) < Password::MIN_CHARS),
        Err(PasswordError::TooLong) => assert!(raw.len() > Password::MAX_BYTES),
        Err(PasswordError::InvalidCharacter) => assert!(raw.contains('\0')),
        Err(PasswordError::TooCommon) => assert!(is_common_password(raw)),
    }
}

/// A signout scope: exactly `local`, `global` or `others`.
pub fn check_scope(raw: &str) {
    let expected = match raw {
        "local" => Some(SignOutScope::Local),
        "global" => Some(SignOutScope::Global),
        "others" => Some(SignOutScope::Others),
        _ => None,
    };
    assert_eq!(
        SignOutScope::parse(raw).ok(),
        expected,
        "only the three scopes parse"
    );
}
