//! Identifiers.

use std::fmt;

uuid_id! {
    /// A user's id: a UUID v4 chosen by the service at signup.
    pub struct UserId;
}

/// A task's id: a positive integer assigned by storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(i64);

impl TaskId {
    /// Wraps an id assigned by storage.
    #[must_use]
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The id as an integer.
    #[must_use]
    pub const fn get(&self) -> i64 {
        self.0
    }

    /// Reads a task id from a path segment. Anything that is not a positive integer
    /// names no task, so the caller answers "not found" rather than a parse error.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        // `i64::from_str` accepts a leading '+'; a task id is digits only.
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i64>().ok().filter(|id| *id > 0).map(Self)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

uuid_id! {
    /// A session's id, which is also the `jti` of the token that opened it.
    pub struct SessionId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_id_parses_positive_integers_only() {
        assert_eq!(TaskId::parse("42"), Some(TaskId::new(42)));
        for raw in [
            "",
            "0",
            "-1",
            "+1",
            "abc",
            "1.5",
            " 1",
            "99999999999999999999",
        ] {
            assert_eq!(TaskId::parse(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn user_id_round_trips_through_text() {
        let id = UserId::new_random();
        assert_eq!(id.to_string().parse::<UserId>().ok(), Some(id));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;

    proptest! {
        #[test]
        fn task_ids_round_trip_through_text(id in 1_i64..=i64::MAX) {
            prop_assert_eq!(TaskId::parse(&id.to_string()), Some(TaskId::new(id)));
        }

        #[test]
        fn task_id_text_is_digits_naming_a_positive_integer(raw in "\\PC{0,22}") {
            if let Some(id) = TaskId::parse(&raw) {
                prop_assert!(id.get() > 0);
                prop_assert!(raw.bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn user_ids_round_trip_and_garbage_is_refused(bytes in any::<[u8; 16]>(), raw in "[g-z]\\PC{0,40}") {
            let id = UserId::from_uuid(Uuid::from_bytes(bytes));
            prop_assert_eq!(id.to_string().parse::<UserId>().ok(), Some(id));
            prop_assert!(raw.parse::<UserId>().is_err());
        }

        #[test]
        fn session_ids_keep_their_uuid(bytes in any::<[u8; 16]>()) {
            let uuid = Uuid::from_bytes(bytes);
            prop_assert_eq!(SessionId::from_uuid(uuid).as_uuid(), uuid);
            prop_assert_eq!(SessionId::from_uuid(uuid).to_string(), uuid.to_string());
        }
    }
}
