//! The isolation rule: a principal acts on its own data only.

use thiserror::Error;

use crate::{SessionId, UserId};

/// Who is calling: the user and the session a verified token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The token's user.
    pub user_id: UserId,
    /// The token's session (its `jti`).
    pub session_id: SessionId,
}

/// The principal asked for another user's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("access denied to this resource")]
pub struct AccessDenied;

impl Principal {
    /// Decides whether this principal may act on the resources of the user named in a
    /// request (for instance the `{user_id}` of a path).
    ///
    /// Only the principal's own id is accepted. Text that is not a user id at all names
    /// nobody the principal can be, so it is refused the same way.
    ///
    /// # Errors
    /// [`AccessDenied`] unless `claimed` is this principal's user id.
    pub fn acting_as(&self, claimed: &str) -> Result<UserId, AccessDenied> {
        match claimed.parse::<UserId>() {
            Ok(id) if id == self.user_id => Ok(id),
            _ => Err(AccessDenied),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            user_id: UserId::new_random(),
            session_id: SessionId::new_random(),
        }
    }

    #[test]
    fn a_principal_may_act_as_itself() {
        let p = principal();
        assert_eq!(p.acting_as(&p.user_id.to_string()), Ok(p.user_id));
        // UUIDs are case-insensitive text.
        assert_eq!(
            p.acting_as(&p.user_id.to_string().to_uppercase()),
            Ok(p.user_id)
        );
    }

    #[test]
    fn a_principal_may_not_act_as_anyone_else() {
        let p = principal();
        let other = UserId::new_random().to_string();
        for claimed in [other.as_str(), "", "me", "123", "../admin"] {
            assert_eq!(p.acting_as(claimed), Err(AccessDenied), "{claimed:?}");
        }
    }
}
