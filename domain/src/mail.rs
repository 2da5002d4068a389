//! Mail: what kinds are sent, the one-time link tokens some carry, and the rules for how
//! often one account may be sent mail and how long delivery is retried.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::secret::REDACTED;

/// Every kind of mail Tessera sends, with its subject and its link, as the contract's
/// "Mail delivery" table lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailKind {
    /// A link that proves the account's address.
    VerifyEmail,
    /// A link that sets a new password.
    ResetPassword,
    /// A link, sent to a new address, that makes it the account's.
    ConfirmEmailChange,
    /// To the former address, once a change is confirmed.
    EmailChanged,
    /// After a password change or reset.
    PasswordChanged,
    /// After two-factor sign-in was turned off.
    MfaDisabled,
    /// After a passkey was added.
    PasskeyAdded,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [Self; 7] = [
        Self::VerifyEmail,
        Self::ResetPassword,
        Self::ConfirmEmailChange,
        Self::EmailChanged,
        Self::PasswordChanged,
        Self::MfaDisabled,
        Self::PasskeyAdded,
    ];

    /// The kind's name (the `kind` label of the mail metrics, the stored column).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ConfirmEmailChange => "confirm_email_change",
            Self::EmailChanged => "email_changed",
            Self::PasswordChanged => "password_changed",
            Self::MfaDisabled => "mfa_disabled",
            Self::PasskeyAdded => "passkey_added",
        }
    }

    /// The subject line.
    #[must_use]
    pub fn subject(self) -> &'static str {
        match self {
            Self::VerifyEmail => "Verify your email",
            Self::ResetPassword => "Reset your password",
            Self::ConfirmEmailChange => "Confirm your new email",
            Self::EmailChanged => "Your email was changed",
            Self::PasswordChanged => "Your password was changed",
            Self::MfaDisabled => "Two-factor sign-in was turned off",
            Self::PasskeyAdded => "A passkey was added to your account",
        }
    }

    /// The web app's page its link opens, for the kinds that carry one.
    #[must_use]
    pub fn link_page(self) -> Option<&'static str> {
        match self {
            Self::VerifyEmail | Self::ConfirmEmailChange => Some("/#/verify-email"),
            Self::ResetPassword => Some("/#/reset-password"),
            Self::EmailChanged | Self::PasswordChanged | Self::MfaDisabled | Self::PasskeyAdded => {
                None
            }
        }
    }

    /// The link of this kind carrying `token`, under `base` (`PUBLIC_URL`, without a
    /// trailing slash): `{base}/#/verify-email?token=<t>`. `None` for kinds with no link.
    #[must_use]
    pub fn link(self, base: &str, token: &LinkToken) -> Option<MailLink> {
        self.link_page().map(|page| {
            MailLink(format!(
                "{}{page}?token={}",
                base.trim_end_matches('/'),
                token.as_str()
            ))
        })
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored kind that this version does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownMailKind;

impl FromStr for MailKind {
    type Err = UnknownMailKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or(UnknownMailKind)
    }
}

/// A one-time link token: 32 random bytes in base64url without padding (43 characters).
/// It appears only in the link of the mail that carries it; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// Characters in a token.
    pub const LEN: usize = 43;

    /// A token as presented: exactly [`Self::LEN`] characters of the base64url alphabet.
    /// Anything else names no link (and needs no storage read to say so).
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let shaped = raw.len() == Self::LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| Self(raw.to_owned()))
    }

    /// The token as text, for the link and the digest.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The SHA-256 of a link token: all that a token's record keeps of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

/// A link that carries a token, as written in a mail. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct MailLink(String);

impl MailLink {
    /// The link as text, for the mail's body.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MailLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

uuid_id! {
    /// A queued mail's id; its `Message-ID` is made from it, so a retry keeps it.
    pub struct MailId;
}

uuid_id! {
    /// One sender's claim on a queued mail: only its holder can finish or release it.
    pub struct ClaimId;
}

/// `EMAIL_VERIFICATION`: whether signup sends a verification mail, and whether signin
/// waits for the address to be proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerification {
    /// A verification mail at signup; signin does not wait for it.
    #[default]
    Optional,
    /// A verification mail at signup, and no signin until the address is proven.
    Required,
    /// No mail at signup (the resend route still sends one).
    Off,
}

/// How much mail one account may be sent: one mail of a link kind a minute, and
/// `per_hour` of any kind an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailQuota {
    /// Mails of any kind an hour (`MAIL_PER_ACCOUNT_PER_HOUR`).
    pub per_hour: u32,
}

impl MailQuota {
    /// Shortest time between two mails of one link kind to one account, in seconds.
    pub const SAME_KIND_SECONDS: i64 = 60;

    /// Whether one more mail of `kind` may be queued at `now`, given when the account's
    /// mails of the last hour were queued (`sent`: kind and instant, any order). `Err`
    /// holds how long until it may. A notice (a kind without a link) is never refused:
    /// it reports a change already made, and it counts toward the hour for the others.
    ///
    /// # Errors
    /// The wait, when the mail is over the quota.
    pub fn check(
        self,
        kind: MailKind,
        sent: &[(MailKind, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        if kind.link_page().is_none() {
            return Ok(());
        }
        let hour = Duration::hours(1);
        let mut recent: Vec<DateTime<Utc>> = sent
            .iter()
            .map(|(_, at)| *at)
            .filter(|at| *at > now - hour)
            .collect();
        recent.sort_unstable();
        let same_kind = sent
            .iter()
            .filter(|(sent_kind, _)| *sent_kind == kind)
            .map(|(_, at)| *at + Duration::seconds(Self::SAME_KIND_SECONDS))
            .filter(|until| *until > now)
            .max();
        let over_hour = usize::try_from(self.per_hour)
            .ok()
            .and_then(|cap| recent.len().checked_sub(cap))
            .and_then(|past| recent.get(past))
            .map(|oldest_counted| *oldest_counted + hour);
        match same_kind.into_iter().chain(over_hour).max() {
            Some(until) => Err(until - now),
            None => Ok(()),
        }
    }
}

/// How delivery is retried: first after about a second, then twice as long each time, at
/// most five minutes apart, for `window` after the mail was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailRetry {
    /// How long a mail is retried (`MAIL_RETRY_HOURS`).
    pub window: Duration,
}

impl MailRetry {
    /// Longest wait between two tries, in seconds.
    pub const MAX_WAIT_SECONDS: i64 = 300;

    /// When to try again after the `failures`-th failed try (1 for the first) at `now`,
    /// or `None` once the window since `queued_at` is over (the mail is dropped).
    #[must_use]
    pub fn next_try(
        self,
        failures: u32,
        queued_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let doublings = failures.saturating_sub(1).min(16);
        let wait = (1_i64 << doublings).min(Self::MAX_WAIT_SECONDS);
        let at = now + Duration::seconds(wait);
        (at <= queued_at + self.window).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in MailKind::ALL {
            assert_eq!(kind.as_str().parse::<MailKind>(), Ok(kind));
        }
        assert_eq!("welcome".parse::<MailKind>(), Err(UnknownMailKind));
    }

    #[test]
    fn links_put_the_token_after_the_fragment_of_their_page() {
        let token = LinkToken::parse(&"a".repeat(43));
        let link = token
            .as_ref()
            .and_then(|t| MailKind::ResetPassword.link("https://app.example/", t));
        assert_eq!(
            link.as_ref().map(MailLink::as_str),
            Some(
                format!(
                    "https://app.example/#/reset-password?token={}",
                    "a".repeat(43)
                )
                .as_str()
            )
        );
        let none = token.and_then(|t| MailKind::PasswordChanged.link("https://app.example", &t));
        assert!(none.is_none());
    }

    #[test]
    fn tokens_are_43_characters_of_base64url_and_never_shown() {
        let good = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";
        assert!(LinkToken::parse(good).is_some());
        for bad in [
            "",
            &good[1..],
            &format!("{good}a"),
            &good.replace('a', "+"),
            &good.replace('a', "="),
        ] {
            assert!(LinkToken::parse(bad).is_none(), "{bad:?}");
        }
        let shown = format!("{:?}", LinkToken::parse(good));
        assert!(!shown.contains(good), "{shown}");
    }

    #[test]
    fn a_second_link_of_one_kind_waits_a_minute() {
        let quota = MailQuota { per_hour: 5 };
        let sent = [(MailKind::ResetPassword, at(0))];
        assert_eq!(
            quota.check(MailKind::ResetPassword, &sent, at(20)),
            Err(Duration::seconds(40))
        );
        assert_eq!(quota.check(MailKind::ResetPassword, &sent, at(60)), Ok(()));
        assert_eq!(quota.check(MailKind::VerifyEmail, &sent, at(20)), Ok(()));
    }

    #[test]
    fn the_hourly_cap_counts_every_kind_and_never_refuses_a_notice() {
        let quota = MailQuota { per_hour: 3 };
        let sent = [
            (MailKind::PasswordChanged, at(0)),
            (MailKind::VerifyEmail, at(100)),
            (MailKind::ResetPassword, at(200)),
        ];
        // The oldest of the three leaves the hour at 3600: then one more may go.
        assert_eq!(
            quota.check(MailKind::ConfirmEmailChange, &sent, at(1000)),
            Err(Duration::seconds(2600))
        );
        assert_eq!(
            quota.check(MailKind::ConfirmEmailChange, &sent, at(3600)),
            Ok(())
        );
        assert_eq!(quota.check(MailKind::EmailChanged, &sent, at(1000)), Ok(()));
    }

    #[test]
    fn retries_double_from_a_second_to_five_minutes_within_the_window() {
        let retry = MailRetry {
            window: Duration::hours(24),
        };
        let waits: Vec<i64> = (1..=12)
            .filter_map(|n| retry.next_try(n, at(0), at(0)))
            .map(|next| (next - at(0)).num_seconds())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(retry.next_try(1, at(0), at(86_400)), None);
        assert_eq!(retry.next_try(u32::MAX, at(0), at(0)), Some(at(300)));
    }
}
