//! Sessions: one per issued token, ended by signout.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::{ClientInfo, SessionId, UserId};

/// A signed-in session. Its id is the `jti` of the token that opened it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session's id.
    pub id: SessionId,
    /// The user it belongs to.
    pub user_id: UserId,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When its token expires.
    pub expires_at: DateTime<Utc>,
    /// When it was ended by a signout, if it was.
    pub ended_at: Option<DateTime<Utc>>,
    /// Where it was opened from.
    pub client: ClientInfo,
}

impl Session {
    /// Whether the session still lets its token in (expiry is the token's business).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Whether the session is in use at `now`: not ended and not expired. These are the
    /// sessions a person sees and that count against the per-account cap.
    #[must_use]
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.is_active() && self.expires_at > now
    }
}

/// Of a user's live sessions, the ones a new session ends so that at most `cap` stay
/// live with it: the oldest (by `created_at`, then id), beyond `cap - 1`.
#[must_use]
pub fn sessions_beyond_cap(live: &[Session], cap: u32) -> Vec<crate::SessionId> {
    let keep = usize::try_from(cap.saturating_sub(1)).unwrap_or(usize::MAX);
    let mut newest_first: Vec<&Session> = live.iter().collect();
    newest_first.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    newest_first.iter().skip(keep).map(|s| s.id).collect()
}

/// Which sessions a signout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignOutScope {
    /// Only the caller's session.
    #[default]
    Local,
    /// Every session of the caller's user.
    Global,
    /// Every session of the caller's user except the caller's.
    Others,
}

/// A signout scope that is none of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("Scope must be one of local, global, others")]
pub struct SignOutScopeError;

impl SignOutScope {
    /// Reads `local`, `global` or `others`.
    ///
    /// # Errors
    /// [`SignOutScopeError`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, SignOutScopeError> {
        match raw {
            "local" => Ok(Self::Local),
            "global" => Ok(Self::Global),
            "others" => Ok(Self::Others),
            _ => Err(SignOutScopeError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_exactly() {
        assert_eq!(SignOutScope::parse("local"), Ok(SignOutScope::Local));
        assert_eq!(SignOutScope::parse("global"), Ok(SignOutScope::Global));
        assert_eq!(SignOutScope::parse("others"), Ok(SignOutScope::Others));
        for raw in ["", "Local", "all", "bogus"] {
            assert_eq!(SignOutScope::parse(raw), Err(SignOutScopeError));
        }
        assert_eq!(SignOutScope::default(), SignOutScope::Local);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn only_the_three_scopes_parse(raw in "\\PC{0,10}") {
            let known = ["local", "global", "others"].contains(&raw.as_str());
            prop_assert_eq!(SignOutScope::parse(&raw).is_ok(), known);
        }
    }
}
