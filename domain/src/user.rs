//! Users and the values a signup is made of.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::UserId;
use crate::text::{
    LineBreaks, char_len, fold, has_forbidden_char, is_blank, is_visible_assigned, non_blank,
};

/// A registered user, without credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The normalised (trimmed, lower-cased) address, unique across users.
    pub email: EmailAddress,
    /// The display name.
    pub name: UserName,
    /// Whether its owner has proven the address, by a verification link or a password
    /// reset through a link.
    pub email_verified: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

/// Everything needed to store a new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user, as it will be stored.
    pub user: User,
    /// The bcrypt hash of the chosen password.
    pub password_hash: PasswordHash,
}

/// Which password of an account is in force. It moves on with every password change
/// (never with a re-hash of the same password), so that what was checked against one
/// password (a signin in flight, a second change) can be refused once another replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CredentialVersion(i64);

impl CredentialVersion {
    /// The version of a new account's first password.
    pub const INITIAL: Self = Self(0);

    /// A version as storage keeps it.
    #[must_use]
    pub fn from_stored(version: i64) -> Self {
        Self(version)
    }

    /// The version as storage keeps it.
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }

    /// The version after a password change.
    #[must_use]
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

/// An account as a password check needs it: the user, the hash to verify against, and
/// which password that hash is of.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// The hash of its password.
    pub hash: PasswordHash,
    /// Which password that is.
    pub version: CredentialVersion,
}

stored_text! {
    /// A user's display name: trimmed, 1 to 100 characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UserName;
}

/// Why a name was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UserNameError {
    /// Missing, empty, or only white space and invisible characters.
    #[error("Name is required")]
    Required,
    /// Over 100 characters after trimming.
    #[error("Name must be 100 characters or less")]
    TooLong,
    /// Holds a control character or a bidirectional control.
    #[error("Name contains an invalid character")]
    InvalidCharacter,
}

impl UserName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks a name.
    ///
    /// # Errors
    /// The [`UserNameError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, UserNameError> {
        let name = non_blank(raw).ok_or(UserNameError::Required)?;
        if char_len(name) > Self::MAX_CHARS {
            return Err(UserNameError::TooLong);
        }
        if has_forbidden_char(name, LineBreaks::Refused) {
            return Err(UserNameError::InvalidCharacter);
        }
        Ok(Self(name.to_owned()))
    }
}

stored_text! {
    /// An email address in its one normal form, the form in which it is stored, compared
    /// and shown: trimmed, NFKC-normalised, lower-cased, its domain in ASCII (IDNA, UTS #46).
    /// So `ＡＬＩＣＥ@ｅｘａｍｐｌｅ.com` and `alice@example.com` are one address, and
    /// `alice@exämple.com` is `alice@xn--exmple-cua.com`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct EmailAddress;
}

/// Why an email address was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EmailError {
    /// Missing, empty, or only white space and invisible characters.
    #[error("Email is required")]
    Required,
    /// Over 254 characters after normalisation.
    #[error("Email must be 254 characters or less")]
    TooLong,
    /// Not of the form `local@domain.tld`, or holding an invisible, unassigned or control
    /// character, or a domain that IDNA refuses.
    #[error("Please enter a valid email")]
    Invalid,
}

impl EmailAddress {
    /// Longest address accepted, in characters (RFC 5321's path limit less the brackets).
    pub const MAX_CHARS: usize = 254;

    /// Normalises then checks an address.
    ///
    /// The check is deliberately plain: one `@`, a non-empty local part of visible,
    /// assigned characters without white space, and a dotted domain that UTS #46 maps to
    /// ASCII labels of letters, digits and inner hyphens. Deliverability is not this
    /// type's business.
    ///
    /// # Errors
    /// The [`EmailError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if Self::is_blank(trimmed) {
            return Err(EmailError::Required);
        }
        let folded = fold(trimmed);
        let ascii = Self::ascii_domain(&folded);
        let email = ascii.as_deref().unwrap_or(&folded);
        if char_len(email) > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        if ascii.is_none() || !is_plausible_address(email) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(email.to_owned()))
    }

    /// Whether `raw` counts as no address at all (`Email is required`): empty, or only
    /// white space and invisible characters.
    #[must_use]
    pub fn is_blank(raw: &str) -> bool {
        is_blank(raw.trim())
    }

    /// Normalises an address the way [`EmailAddress::parse`] does, without judging it.
    /// Used to look up an account (and its throttle) at signin, where any text may be
    /// typed: an address that cannot be normalised fully is kept folded.
    #[must_use]
    pub fn normalise(raw: &str) -> String {
        let folded = fold(raw.trim());
        Self::ascii_domain(&folded).unwrap_or(folded)
    }

    /// `local@domain` with the domain mapped to ASCII by UTS #46, or `None` when the text
    /// has no single `@`, holds a character no address may hold, or has a domain that
    /// IDNA refuses.
    fn ascii_domain(folded: &str) -> Option<String> {
        if !folded.chars().all(is_visible_assigned) {
            return None;
        }
        let (local, domain) = folded.split_once('@')?;
        let domain = idna::uts46::Uts46::new()
            .to_ascii(
                domain.as_bytes(),
                idna::uts46::AsciiDenyList::STD3,
                idna::uts46::Hyphens::CheckFirstLast,
                idna::uts46::DnsLength::Verify,
            )
            .ok()?;
        Some(format!("{local}@{domain}"))
    }
}

/// Checks the shape of a normalised address, whose domain is already ASCII.
fn is_plausible_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !"@()<>[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.starts_with("xn--")
                || (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
        });
    local_ok && domain_ok
}

/// The key an account is looked up and throttled by: a typed address in the normal form
/// of [`EmailAddress`], or as near to it as the text allows. At signin any text may be
/// typed, so a key is not a valid address, only a non-blank one without a NUL (no stored
/// address holds one, and storage may refuse to even compare one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailKey(String);

impl EmailKey {
    /// The key of a typed address.
    ///
    /// # Errors
    /// [`EmailError::Required`] for a blank one, [`EmailError::Invalid`] for one with a
    /// NUL.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        if EmailAddress::is_blank(raw) {
            return Err(EmailError::Required);
        }
        if raw.contains('\0') {
            return Err(EmailError::Invalid);
        }
        Ok(Self(EmailAddress::normalise(raw)))
    }

    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&EmailAddress> for EmailKey {
    /// A stored address is already in its normal form.
    fn from(email: &EmailAddress) -> Self {
        Self(email.as_str().to_owned())
    }
}

/// A password as typed to be checked (at signin, or to confirm a change or a deletion):
/// not empty and without a NUL, otherwise anything. It is never stored or shown: `Debug`
/// prints [`REDACTED`](crate::REDACTED).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordCandidate(String);

/// Why a typed password cannot be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PasswordCandidateError {
    /// Missing or empty.
    #[error("Password is required")]
    Required,
    /// Holds a NUL character, which no stored password holds.
    #[error("Password contains an invalid character")]
    InvalidCharacter,
}

impl PasswordCandidate {
    /// Takes a typed password as it is: no trimming.
    ///
    /// # Errors
    /// The [`PasswordCandidateError`] of the rule broken.
    pub fn parse(raw: &str) -> Result<Self, PasswordCandidateError> {
        if raw.is_empty() {
            return Err(PasswordCandidateError::Required);
        }
        if raw.contains('\0') {
            return Err(PasswordCandidateError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text, to be verified against a hash.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::REDACTED)
    }
}

/// A password that meets the signup policy. It is never stored: only its hash is.
///
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a password was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PasswordError {
    /// Missing or under 8 characters.
    #[error("Password must be at least 8 characters")]
    TooShort,
    /// Over 72 bytes in UTF-8, bcrypt's limit (longer input is refused, never truncated).
    #[error("Password must be at most 72 bytes")]
    TooLong,
    /// On the common-password list, compared case-insensitively.
    #[error("This password is too common, please choose another")]
    TooCommon,
    /// Holds a NUL character, which many bcrypt implementations treat as the end.
    #[error("Password contains an invalid character")]
    InvalidCharacter,
}

/// The common-password list: 19,640 entries from Django's
/// `contrib/auth/common-passwords.txt` (BSD-3-Clause, see `data/common-passwords.LICENSE`).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

impl Password {
    /// Fewest characters accepted.
    pub const MIN_CHARS: usize = 8;
    /// Most bytes accepted: bcrypt reads no further.
    pub const MAX_BYTES: usize = 72;

    /// Checks a new password against the policy. The text is kept exactly as given: no
    /// trimming, every byte counts.
    ///
    /// # Errors
    /// The [`PasswordError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        if char_len(raw) < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(PasswordError::TooLong);
        }
        if raw.contains('\0') {
            return Err(PasswordError::InvalidCharacter);
        }
        if is_common_password(raw) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password's bytes, for hashing.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Whether a password is on the common-password list, ignoring letter case.
#[must_use]
pub fn is_common_password(candidate: &str) -> bool {
    COMMON_PASSWORDS.contains(candidate.to_lowercase().as_str())
}

/// How many entries the common-password list holds.
#[must_use]
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// A password hash in PHC/modular-crypt text form (for bcrypt, `$2b$12$...`).
///
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash produced by a hasher or read back from storage.
    #[must_use]
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The hash as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed_and_counted_in_characters() {
        assert_eq!(
            UserName::parse("  Alice Johnson \t").map(|n| n.as_str().to_owned()),
            Ok("Alice Johnson".to_owned())
        );
        assert!(UserName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            UserName::parse(&"é".repeat(101)),
            Err(UserNameError::TooLong)
        );
        assert!(UserName::parse(&format!("  {}  ", "a".repeat(100))).is_ok());
    }

    #[test]
    fn name_rules_table() {
        let cases = [
            ("", UserNameError::Required),
            ("   ", UserNameError::Required),
            ("\n\t", UserNameError::Required),
            ("Al\0ice", UserNameError::InvalidCharacter),
        ];
        for (raw, expected) in cases {
            assert_eq!(UserName::parse(raw), Err(expected), "{raw:?}");
        }
        assert_eq!(UserNameError::Required.to_string(), "Name is required");
        assert_eq!(
            UserNameError::TooLong.to_string(),
            "Name must be 100 characters or less"
        );
    }

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = EmailAddress::parse("  Alice@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("alice@example.com".to_owned()));
    }

    #[test]
    fn email_rules_table() {
        let invalid = [
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "alice@@example.com",
            "al ice@example.com",
            "alice@exa mple.com",
            "alice@.example.com",
            "alice@example..com",
            "alice@-example.com",
            "alice@example.c",
            "alice@example.123",
            "ali\0ce@example.com",
            ".alice@example.com",
        ];
        for raw in invalid {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailError::Invalid),
                "{raw:?}"
            );
        }
        for raw in ["", "   "] {
            assert_eq!(EmailAddress::parse(raw), Err(EmailError::Required));
        }
        for raw in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "user@xn--bcher-kva.example",
            "josé@exämple.de",
            "a@b.xn--p1ai",
        ] {
            assert!(EmailAddress::parse(raw).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn look_alike_emails_are_one_address() {
        let parsed = |raw: &str| EmailAddress::parse(raw).map(|e| e.as_str().to_owned());
        for raw in [
            "ａｌｉｃｅ@example.com",
            "alice@ｅｘａｍｐｌｅ.com",
            "ＡＬＩＣＥ@ｅｘａｍｐｌｅ.com",
            "alice@EXAMPLE.com",
            " Alice@Example.COM\t",
            "alice＠example.com",
        ] {
            assert_eq!(parsed(raw), Ok("alice@example.com".to_owned()), "{raw:?}");
        }
        assert_eq!(
            parsed("alice@exämple.com"),
            Ok("alice@xn--exmple-cua.com".to_owned())
        );
        assert_eq!(
            parsed("alice@xn--exmple-cua.com"),
            Ok("alice@xn--exmple-cua.com".to_owned())
        );
        assert_eq!(
            parsed("alice@EXA\u{308}MPLE.com"),
            Ok("alice@xn--exmple-cua.com".to_owned())
        );
        // NFC and NFD spellings of one local part.
        assert_eq!(
            parsed("jos\u{e9}@example.com"),
            parsed("jose\u{301}@example.com")
        );
        assert_eq!(
            parsed("josé@пример.рф"),
            Ok("josé@xn--e1afmkfd.xn--p1ai".to_owned())
        );
        for raw in [
            "ALICE@Example.com",
            "alice@exämple.com",
            "ｂｏｂ@ｅｘａｍｐｌｅ.com",
        ] {
            assert_eq!(
                Some(EmailAddress::normalise(raw)),
                EmailAddress::parse(raw).ok().map(|e| e.as_str().to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn invisible_unassigned_and_control_characters_make_an_email_invalid() {
        for raw in [
            "al\u{200b}ice@example.com",
            "alice\u{feff}@example.com",
            "ali\u{ad}ce@example.com",
            "alice@exam\u{200d}ple.com",
            "alice@example.com\u{202e}",
            "al\u{0378}ice@example.com",
            "alice\r\n@example.com",
            "alice@exa_mple.com",
            "alice@example.com.",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailError::Invalid),
                "{raw:?}"
            );
        }
        for raw in ["\u{200b}", " \u{feff} "] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailError::Required),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn names_refuse_controls_and_bidi_and_count_invisible_only_as_empty() {
        for raw in ["\u{200b}", "\u{feff}", " \u{200b}\u{2060} "] {
            assert_eq!(
                UserName::parse(raw),
                Err(UserNameError::Required),
                "{raw:?}"
            );
        }
        for raw in [
            "Bob\r\nSet-Cookie: x=1",
            "\u{1b}[2Jevil",
            "Bob\u{202e}gnp.exe",
        ] {
            assert_eq!(
                UserName::parse(raw),
                Err(UserNameError::InvalidCharacter),
                "{raw:?}"
            );
        }
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        assert_eq!(
            UserName::parse(family).map(|n| n.as_str().to_owned()),
            Ok(family.to_owned())
        );
    }

    #[test]
    fn email_of_254_characters_is_accepted_and_255_refused() {
        let domain = "@example.com";
        let at_limit = format!("{}{domain}", "a".repeat(254 - domain.len()));
        assert_eq!(at_limit.chars().count(), 254);
        assert!(EmailAddress::parse(&at_limit).is_ok());
        let over = format!("b{at_limit}");
        assert_eq!(EmailAddress::parse(&over), Err(EmailError::TooLong));
        // The limit applies after trimming.
        assert!(EmailAddress::parse(&format!("  {at_limit}  ")).is_ok());
    }

    #[test]
    fn password_boundaries_count_bytes_for_the_upper_limit() {
        // 36 two-byte characters: exactly 72 bytes.
        let at_limit = "é".repeat(36);
        assert_eq!(at_limit.len(), 72);
        assert!(Password::parse(&at_limit).is_ok());
        // 35 two-byte characters and two ASCII letters: 72 bytes; one more byte is too much.
        let mixed = format!("{}ab", "é".repeat(35));
        assert!(Password::parse(&mixed).is_ok());
        assert_eq!(
            Password::parse(&format!("{mixed}c")),
            Err(PasswordError::TooLong)
        );
        // 25 three-byte characters: 75 bytes although only 25 characters.
        assert_eq!(
            Password::parse(&"€".repeat(25)),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn password_lower_limit_counts_characters() {
        assert_eq!(Password::parse(""), Err(PasswordError::TooShort));
        assert_eq!(Password::parse("seven77"), Err(PasswordError::TooShort));
        assert!(Password::parse("ééééééé!").is_ok());
        // Not trimmed: spaces count.
        assert!(Password::parse("  zq9 x7  ").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(common_password_count() >= 3000);
        for raw in ["password", "PASSWORD123", "Qwertyuiop", "12345678"] {
            assert_eq!(Password::parse(raw), Err(PasswordError::TooCommon), "{raw}");
        }
        assert!(Password::parse("securepassword123").is_ok());
    }

    #[test]
    fn password_with_nul_is_refused() {
        assert_eq!(
            Password::parse("abc\0defghij"),
            Err(PasswordError::InvalidCharacter)
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let password = Password::parse("correct horse battery").map(|p| format!("{p:?}"));
        assert_eq!(password.as_deref(), Ok("Password(***)"));
        let hash = PasswordHash::new("$2b$04$abcdefghijklmnopqrstuv".to_owned());
        assert!(!format!("{hash:?}").contains("$2b$"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn parsed_names_are_trimmed_and_within_limits(raw in "\\PC{0,120}") {
            if let Ok(name) = UserName::parse(&raw) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(!name.as_str().is_empty());
                prop_assert!(name.as_str().chars().count() <= UserName::MAX_CHARS);
            }
        }

        #[test]
        fn parsed_emails_are_normalised(raw in "[ A-Za-z0-9.@_-]{0,40}") {
            if let Ok(email) = EmailAddress::parse(&raw) {
                prop_assert_eq!(email.as_str(), EmailAddress::normalise(&raw));
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
            }
        }

        #[test]
        fn email_normal_form_is_a_fixed_point(raw in "\\PC{0,12}@\\PC{1,12}\\.[a-zA-Zａ-ｚ]{2,4}") {
            if let Ok(email) = EmailAddress::parse(&raw) {
                let again = EmailAddress::parse(email.as_str());
                prop_assert_eq!(again.as_ref().map(EmailAddress::as_str), Ok(email.as_str()));
                prop_assert!(email.as_str().chars().count() <= EmailAddress::MAX_CHARS);
                let domain = email.as_str().rsplit('@').next().unwrap_or_default();
                prop_assert!(domain.is_ascii());
            }
        }

        #[test]
        fn parsed_names_hold_no_control_or_bidi_character(raw in "\\PC{0,20}[\\x00-\\x1f\\u{202a}-\\u{202e}]?\\PC{0,20}") {
            if let Ok(name) = UserName::parse(&raw) {
                let bidi = '\u{202a}'..='\u{202e}';
                let forbidden = name.as_str().chars().any(|c| c.is_control() || bidi.contains(&c));
                prop_assert!(!forbidden, "{:?}", name.as_str());
            }
        }

        #[test]
        fn accepted_passwords_fit_bcrypt(raw in "\\PC{0,80}") {
            if let Ok(password) = Password::parse(&raw) {
                prop_assert!(password.as_str().len() <= Password::MAX_BYTES);
                prop_assert_eq!(password.as_str(), raw.as_str());
            }
        }
    }
}
