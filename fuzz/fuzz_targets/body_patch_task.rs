//! Fuzzes the partial task update body (`PATCH /api/{user_id}/tasks/{id}`): bytes are
//! read as the service reads bodies and turned into `TaskChanges` at the edge, each field
//! given checked (`TaskTitle::parse`, `TaskDescription::parse`, `null` read as empty).
//!
//! Invariants: an accepted body is a strict JSON object; a member that is absent leaves
//! its field alone; a `null` title is refused as required and a `null` description
//! clears it; the changes are made exactly when every member given passes its check,
//! otherwise the refused fields are named in body order; `completed` is the body's
//! boolean; the title and description invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_domain::{TaskChanges, TaskDescription, TaskTitle, TaskTitleError};
use tessera_fuzz::body::{bool_field, check_conversion, present_text_field, read};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::PatchTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<PatchTaskBody>(data) else {
        return;
    };
    let title = present_text_field(&read.object, "title");
    let description = present_text_field(&read.object, "description");
    let completed = bool_field(&read.object, "completed");
    if title == Some(None) {
        assert_eq!(
            TaskTitle::parse(""),
            Err(TaskTitleError::Required),
            "a null title is refused as required"
        );
    }
    let title = title.map(Option::unwrap_or_default);
    let description = description.map(Option::unwrap_or_default);
    check_title(title.as_deref().unwrap_or_default());
    check_description(description.as_deref().unwrap_or_default());
    let converted = TaskChanges::try_from(read.body);
    check_conversion(
        &converted,
        &[
            (
                "title",
                title.as_deref().is_none_or(|t| TaskTitle::parse(t).is_ok()),
            ),
            (
                "description",
                description
                    .as_deref()
                    .is_none_or(|d| TaskDescription::parse(d).is_ok()),
            ),
        ],
    );
    if let Ok(changes) = converted {
        assert_eq!(
            changes.title,
            title.as_deref().and_then(|t| TaskTitle::parse(t).ok())
        );
        assert_eq!(
            changes.description,
            description
                .as_deref()
                .and_then(|d| TaskDescription::parse(d).ok()),
            "an absent description is left alone, a null one cleared"
        );
        assert_eq!(changes.completed, completed, "completed is the body's completed");
    }
});
