//! What a person manages about their account once signed in: where each session was
//! opened from, the security events of the account, and the limits on what one account
//! holds.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::text::{LineBreaks, is_forbidden};
use crate::{ClientAddress, UserId};

stored_text! {
    /// A `User-Agent` as kept with a session or an event: without control or bidirectional
    /// characters (they are dropped), trimmed, cut to [`UserAgent::MAX_CHARS`] characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UserAgent;
}

impl UserAgent {
    /// Most characters kept.
    pub const MAX_CHARS: usize = 256;

    /// The header's text as kept, or `None` when nothing visible is left.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let kept: String = raw
            .chars()
            .filter(|c| !is_forbidden(*c, LineBreaks::Refused))
            .collect();
        let cut: String = kept.trim().chars().take(Self::MAX_CHARS).collect();
        let cut = cut.trim_end();
        (!cut.is_empty()).then(|| Self(cut.to_owned()))
    }
}

/// Where a request came from: the client address (after the trusted-proxy rule) and
/// its `User-Agent`, either unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client address.
    pub ip: Option<ClientAddress>,
    /// The `User-Agent` header.
    pub user_agent: Option<UserAgent>,
}

impl ClientInfo {
    /// The client as stored: the address as text and the user agent, each nullable.
    #[must_use]
    pub fn to_columns(&self) -> (Option<String>, Option<String>) {
        (
            self.ip.map(|ip| ip.to_string()),
            self.user_agent.as_ref().map(|ua| ua.as_str().to_owned()),
        )
    }

    /// The client of two stored columns; an address that does not parse is unknown.
    #[must_use]
    pub fn from_columns(ip: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            ip: ip
                .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                .map(ClientAddress::new),
            user_agent: user_agent.map(UserAgent::from_trusted),
        }
    }
}

/// What happened to an account, as shown to its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityEventKind {
    /// The account was created.
    SignUp,
    /// A signin succeeded.
    SignIn,
    /// A signin gave a wrong password for this account.
    SignInFailed,
    /// A signout ended sessions.
    SignOut,
    /// A session was ended by its id.
    SessionEnded,
    /// The password was changed.
    PasswordChanged,
    /// The display name was changed.
    NameChanged,
    /// An attempt on this account was refused by a limit.
    RateLimited,
    /// A reset link was sent.
    PasswordResetRequested,
    /// The password was set through a reset link.
    PasswordReset,
    /// The address was proven by a verification link.
    EmailVerified,
    /// A change of address was asked for (a link sent to the new one).
    EmailChangeRequested,
    /// The address was changed.
    EmailChanged,
    /// Two-factor sign-in was turned on.
    MfaEnabled,
    /// Two-factor sign-in was turned off.
    MfaDisabled,
    /// A wrong second-factor code was given.
    MfaFailed,
    /// A recovery code was used.
    RecoveryCodeUsed,
    /// New recovery codes replaced the old ones.
    RecoveryCodesRegenerated,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
}

impl SecurityEventKind {
    /// Every kind.
    pub const ALL: [Self; 20] = [
        Self::SignUp,
        Self::SignIn,
        Self::SignInFailed,
        Self::SignOut,
        Self::SessionEnded,
        Self::PasswordChanged,
        Self::NameChanged,
        Self::RateLimited,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerified,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::MfaFailed,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// The name on the wire and in storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "signup",
            Self::SignIn => "signin",
            Self::SignInFailed => "signin_failed",
            Self::SignOut => "signout",
            Self::SessionEnded => "session_ended",
            Self::PasswordChanged => "password_changed",
            Self::NameChanged => "name_changed",
            Self::RateLimited => "rate_limited",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaFailed => "mfa_failed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }
}

impl fmt::Display for SecurityEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`SecurityEventKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownEventKind;

impl FromStr for SecurityEventKind {
    type Err = UnknownEventKind;

    fn from_str(s: &str) -> Result<Self, UnknownEventKind> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or(UnknownEventKind)
    }
}

/// One security event of one account. Never holds a password, token or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// The account.
    pub user_id: UserId,
    /// What happened.
    pub kind: SecurityEventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// From where.
    pub client: ClientInfo,
}

/// The limits on what one account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLimits {
    /// Most active sessions; a signin beyond it ends the oldest.
    pub max_sessions: u32,
    /// Most tasks; one more is refused.
    pub max_tasks: u32,
    /// How long ended and expired sessions, and events, are kept.
    pub retention: Duration,
}

impl AccountLimits {
    /// The contract's defaults: 50 sessions, 10,000 tasks, 30 days.
    pub const DEFAULT: Self = Self {
        max_sessions: 50,
        max_tasks: 10_000,
        retention: Duration::days(30),
    };

    /// Ended and expired sessions, and events, from before this instant may be deleted.
    #[must_use]
    pub fn retained_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.retention
    }
}

impl Default for AccountLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cleaned_and_cut() {
        assert_eq!(UserAgent::parse(""), None);
        assert_eq!(UserAgent::parse(" \t "), None);
        assert_eq!(
            UserAgent::parse("curl/8.5\r\nX-Evil: 1").map(|ua| ua.as_str().to_owned()),
            Some("curl/8.5X-Evil: 1".to_owned())
        );
        assert_eq!(
            UserAgent::parse("a\u{202e}b").map(|ua| ua.as_str().to_owned()),
            Some("ab".to_owned())
        );
        let long = "é".repeat(300);
        let cut = UserAgent::parse(&long).map(|ua| ua.as_str().chars().count());
        assert_eq!(cut, Some(UserAgent::MAX_CHARS));
    }

    #[test]
    fn event_kinds_round_trip_through_their_names() {
        for kind in SecurityEventKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
        assert_eq!("login".parse::<SecurityEventKind>(), Err(UnknownEventKind));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn kept_user_agents_are_short_and_clean(raw in "\\PC{0,300}[\\x00-\\x1f\\u{202e}]?\\PC{0,20}") {
            if let Some(agent) = UserAgent::parse(&raw) {
                prop_assert!(agent.as_str().chars().count() <= UserAgent::MAX_CHARS);
                let forbidden = agent.as_str().chars().any(|c| is_forbidden(c, LineBreaks::Refused));
                prop_assert!(!forbidden);
                prop_assert_eq!(agent.as_str(), agent.as_str().trim());
                prop_assert_eq!(UserAgent::parse(agent.as_str()), Some(agent.clone()));
            }
        }
    }
}
