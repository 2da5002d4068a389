//! Tasks and the values they are made of.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::text::{LineBreaks, char_len, has_forbidden_char, non_blank};
use crate::{TaskId, UserId};

/// A user's task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// The user who owns it; it never changes.
    pub owner: UserId,
    /// The title.
    pub title: TaskTitle,
    /// The optional description.
    pub description: Option<TaskDescription>,
    /// Whether it is done.
    pub completed: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// Whether `user` owns this task. Storage filters by owner in every query; this is
    /// the same rule for code that holds a task in hand.
    #[must_use]
    pub fn is_owned_by(&self, user: UserId) -> bool {
        self.owner == user
    }

    /// Applies `changes` as of `now`. `updated_at` moves only when something changes,
    /// and then always forward (see [`Task::next_updated_at`]).
    pub fn apply(&mut self, changes: &TaskChanges, now: DateTime<Utc>) {
        if changes.is_empty() {
            return;
        }
        if let Some(title) = &changes.title {
            self.title = title.clone();
        }
        if let Some(description) = &changes.description {
            self.description = description.clone();
        }
        if let Some(completed) = changes.completed {
            self.completed = completed;
        }
        self.updated_at = Self::next_updated_at(self.updated_at, now);
    }

    /// The `updated_at` of a change made at `now` to a task last changed at `previous`:
    /// `now`, or one microsecond (storage's resolution) after `previous` when this
    /// instance's clock is behind the one that made the last change. So `updated_at`
    /// moves on every change and never falls before `created_at`, whatever the skew
    /// between instances.
    #[must_use]
    pub fn next_updated_at(previous: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        now.max(previous + chrono::Duration::microseconds(1))
    }
}

/// A partial update of a task: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    /// A new title.
    pub title: Option<TaskTitle>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<TaskDescription>>,
    /// A new completion state.
    pub completed: Option<bool>,
}

impl TaskChanges {
    /// Whether the update changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.completed.is_none()
    }
}

stored_text! {
    /// A task title: trimmed, 1 to 200 characters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TaskTitle;
}

/// Why a title was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TaskTitleError {
    /// Missing, empty, or only white space and invisible characters.
    #[error("Title is required")]
    Required,
    /// Over 200 characters after trimming.
    #[error("Title must be 200 characters or less")]
    TooLong,
    /// Holds a control character or a bidirectional control.
    #[error("Title contains an invalid character")]
    InvalidCharacter,
}

impl TaskTitle {
    /// Longest title accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims and checks a title.
    ///
    /// # Errors
    /// The [`TaskTitleError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Self, TaskTitleError> {
        let title = non_blank(raw).ok_or(TaskTitleError::Required)?;
        if char_len(title) > Self::MAX_CHARS {
            return Err(TaskTitleError::TooLong);
        }
        if has_forbidden_char(title, LineBreaks::Refused) {
            return Err(TaskTitleError::InvalidCharacter);
        }
        Ok(Self(title.to_owned()))
    }
}

stored_text! {
    /// A task description: trimmed, 1 to 1000 characters. An empty one is no description.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TaskDescription;
}

/// Why a description was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TaskDescriptionError {
    /// Over 1000 characters after trimming.
    #[error("Description must be 1000 characters or less")]
    TooLong,
    /// Holds a control character other than line feed, carriage return and tab, or a
    /// bidirectional control.
    #[error("Description contains an invalid character")]
    InvalidCharacter,
}

impl TaskDescription {
    /// Longest description accepted, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Trims and checks a description; an empty one, or one of only white space and
    /// invisible characters, becomes `None`.
    ///
    /// # Errors
    /// The [`TaskDescriptionError`] of the first rule broken.
    pub fn parse(raw: &str) -> Result<Option<Self>, TaskDescriptionError> {
        let Some(description) = non_blank(raw) else {
            return Ok(None);
        };
        if char_len(description) > Self::MAX_CHARS {
            return Err(TaskDescriptionError::TooLong);
        }
        if has_forbidden_char(description, LineBreaks::Allowed) {
            return Err(TaskDescriptionError::InvalidCharacter);
        }
        Ok(Some(Self(description.to_owned())))
    }
}

/// One page of a listing: which tasks, how many, after how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Which tasks.
    pub status: TaskStatusFilter,
    /// Most tasks on the page.
    pub limit: u32,
    /// Tasks skipped before the page.
    pub offset: u64,
}

/// Why a listing's query value was refused; each message is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PageError {
    /// Not one of the three filters.
    #[error("Status must be one of all, pending, completed")]
    Status,
    /// Not a whole number from 1 to [`PageQuery::MAX_LIMIT`].
    #[error("Limit must be a whole number from 1 to {}", PageQuery::MAX_LIMIT)]
    Limit,
    /// Not a whole number from 0 to the greatest offset (the task quota).
    #[error("Offset must be a whole number from 0 to {0}")]
    Offset(u32),
}

impl Default for PageQuery {
    fn default() -> Self {
        Self {
            status: TaskStatusFilter::All,
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl PageQuery {
    /// Page size when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 500;

    /// Reads `all`, `pending` or `completed`.
    ///
    /// # Errors
    /// [`PageError::Status`] for anything else.
    pub fn status(raw: &str) -> Result<TaskStatusFilter, PageError> {
        TaskStatusFilter::parse(raw).ok_or(PageError::Status)
    }

    /// Reads a page size.
    ///
    /// # Errors
    /// [`PageError::Limit`] for anything but 1 to [`PageQuery::MAX_LIMIT`].
    pub fn limit(raw: &str) -> Result<u32, PageError> {
        raw.parse::<u32>()
            .ok()
            .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
            .ok_or(PageError::Limit)
    }

    /// Reads an offset; none is greater than `max` (an owner's most tasks).
    ///
    /// # Errors
    /// [`PageError::Offset`] for anything but 0 to `max`.
    pub fn offset(raw: &str, max: u32) -> Result<u64, PageError> {
        raw.parse::<u64>()
            .ok()
            .filter(|n| *n <= u64::from(max))
            .ok_or(PageError::Offset(max))
    }
}

/// Which tasks a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskStatusFilter {
    /// Every task.
    #[default]
    All,
    /// Tasks not completed.
    Pending,
    /// Completed tasks.
    Completed,
}

impl TaskStatusFilter {
    /// Reads `all`, `pending` or `completed`.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(Self::All),
            "pending" => Some(Self::Pending),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }

    /// Whether a task with this completion state is shown.
    #[must_use]
    pub fn matches(self, completed: bool) -> bool {
        match self {
            Self::All => true,
            Self::Pending => !completed,
            Self::Completed => completed,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn title_boundaries_are_counted_in_characters_after_trimming() {
        assert!(TaskTitle::parse(&"日".repeat(200)).is_ok());
        assert_eq!(
            TaskTitle::parse(&"日".repeat(201)),
            Err(TaskTitleError::TooLong)
        );
        assert_eq!(
            TaskTitle::parse(&format!("  {}  ", "x".repeat(200))).map(|t| t.as_str().len()),
            Ok(200)
        );
        for raw in ["", "  ", "\t\n"] {
            assert_eq!(TaskTitle::parse(raw), Err(TaskTitleError::Required));
        }
        assert_eq!(
            TaskTitle::parse("buy\0milk"),
            Err(TaskTitleError::InvalidCharacter)
        );
    }

    #[test]
    fn description_is_optional_trimmed_and_bounded() {
        assert_eq!(TaskDescription::parse(""), Ok(None));
        assert_eq!(TaskDescription::parse("   "), Ok(None));
        assert_eq!(
            TaskDescription::parse(" Milk, eggs ").map(|d| d.map(|d| d.as_str().to_owned())),
            Ok(Some("Milk, eggs".to_owned()))
        );
        assert!(TaskDescription::parse(&"ß".repeat(1000)).is_ok());
        assert_eq!(
            TaskDescription::parse(&"ß".repeat(1001)),
            Err(TaskDescriptionError::TooLong)
        );
        assert_eq!(
            TaskDescription::parse("a\0b"),
            Err(TaskDescriptionError::InvalidCharacter)
        );
    }

    #[test]
    fn status_filter_matches_completion() {
        assert_eq!(TaskStatusFilter::parse("bogus"), None);
        assert_eq!(TaskStatusFilter::parse("Pending"), None);
        let pending = TaskStatusFilter::parse("pending");
        assert_eq!(pending.map(|f| f.matches(false)), Some(true));
        assert_eq!(pending.map(|f| f.matches(true)), Some(false));
        assert!(TaskStatusFilter::All.matches(true));
        assert!(TaskStatusFilter::Completed.matches(true));
    }

    fn task() -> Option<Task> {
        let now = Utc::now();
        Some(Task {
            id: TaskId::new(1),
            owner: UserId::new_random(),
            title: TaskTitle::parse("Buy groceries").ok()?,
            description: TaskDescription::parse("Milk").ok()?,
            completed: false,
            created_at: now,
            updated_at: now,
        })
    }

    #[test]
    fn applying_changes_moves_updated_at_only_when_something_changes() {
        let Some(mut task) = task() else {
            panic!("fixture must build");
        };
        let before = task.clone();
        let later = task.updated_at + Duration::seconds(5);
        task.apply(&TaskChanges::default(), later);
        assert_eq!(task, before);

        let changes = TaskChanges {
            description: Some(None),
            completed: Some(true),
            ..TaskChanges::default()
        };
        task.apply(&changes, later);
        assert_eq!(task.description, None);
        assert!(task.completed);
        assert_eq!(task.title, before.title);
        assert_eq!(task.updated_at, later);
    }

    #[test]
    fn only_the_owner_owns_a_task() {
        let Some(task) = task() else {
            panic!("fixture must build");
        };
        assert!(task.is_owned_by(task.owner));
        assert!(!task.is_owned_by(UserId::new_random()));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn forbidden_in_title(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }

    proptest! {
        #[test]
        fn parsed_titles_are_trimmed_bounded_and_clean(raw in "\\PC{0,210}[\\x00-\\x1f\\u{202e}]?\\PC{0,5}") {
            if let Ok(title) = TaskTitle::parse(&raw) {
                prop_assert_eq!(title.as_str(), title.as_str().trim());
                prop_assert!(!title.as_str().is_empty());
                prop_assert!(title.as_str().chars().count() <= TaskTitle::MAX_CHARS);
                prop_assert!(!title.as_str().chars().any(forbidden_in_title));
                prop_assert_eq!(TaskTitle::parse(title.as_str()), Ok(title.clone()));
            }
        }

        #[test]
        fn descriptions_keep_line_breaks_and_refuse_other_controls(raw in "[a-z \\n\\r\\t\\x00-\\x1f\\u{200b}]{0,40}") {
            match TaskDescription::parse(&raw) {
                Ok(Some(description)) => {
                    prop_assert_eq!(description.as_str(), raw.trim());
                    let other_control = description
                        .as_str()
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
                    prop_assert!(!other_control);
                }
                Ok(None) => {
                    let blank = raw.chars().all(|c| c.is_whitespace() || c == '\u{200b}');
                    prop_assert!(blank);
                }
                Err(error) => {
                    prop_assert_eq!(error, TaskDescriptionError::InvalidCharacter);
                    let control = raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
                    prop_assert!(control);
                }
            }
        }

        #[test]
        fn long_descriptions_are_refused_by_length(extra in 1_usize..50, c in "[a-zé日]") {
            let raw = c.repeat(TaskDescription::MAX_CHARS + extra);
            prop_assert_eq!(TaskDescription::parse(&raw), Err(TaskDescriptionError::TooLong));
        }

        #[test]
        fn status_filter_reads_only_its_three_words(raw in "\\PC{0,12}") {
            let parsed = TaskStatusFilter::parse(&raw);
            prop_assert_eq!(parsed.is_some(), ["all", "pending", "completed"].contains(&raw.as_str()));
        }

        #[test]
        fn applying_changes_never_moves_updated_at_before_created_at(
            behind_seconds in 0_i64..100_000,
            title in proptest::option::of("[a-z]{1,10}"),
            completed in proptest::option::of(any::<bool>()),
        ) {
            let created = Utc::now();
            let mut task = Task {
                id: TaskId::new(1),
                owner: crate::UserId::new_random(),
                title: TaskTitle::from_trusted("t".to_owned()),
                description: None,
                completed: false,
                created_at: created,
                updated_at: created,
            };
            let changes = TaskChanges {
                title: title.map(TaskTitle::from_trusted),
                completed,
                ..TaskChanges::default()
            };
            task.apply(&changes, created - chrono::Duration::seconds(behind_seconds));
            prop_assert!(task.updated_at >= task.created_at);
        }
    }
}
