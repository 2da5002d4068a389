//! Fuzzes the task replacement body (`PUT /api/{user_id}/tasks/{id}`): bytes are read as
//! the service reads bodies and turned into `TaskChanges` at the edge: a title and a
//! description always (an absent description clears it), a completion state if given.
//!
//! Invariants: an accepted body is a strict JSON object; the changes are made exactly
//! when title and description pass their checks, otherwise the refused fields are named
//! in body order; they name the checked title and description and the body's
//! `completed`; the title and description invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_domain::{TaskChanges, TaskDescription, TaskTitle};
use tessera_fuzz::body::{bool_field, check_conversion, read, text};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::ReplaceTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<ReplaceTaskBody>(data) else {
        return;
    };
    let (title, description) = (text(&read.object, "title"), text(&read.object, "description"));
    check_title(&title);
    check_description(&description);
    let completed = bool_field(&read.object, "completed");
    let converted = TaskChanges::try_from(read.body);
    check_conversion(
        &converted,
        &[
            ("title", TaskTitle::parse(&title).is_ok()),
            ("description", TaskDescription::parse(&description).is_ok()),
        ],
    );
    if let Ok(changes) = converted {
        assert_eq!(changes.title, TaskTitle::parse(&title).ok());
        assert_eq!(changes.description, TaskDescription::parse(&description).ok());
        assert_eq!(changes.completed, completed, "completed is the body's completed");
    }
});
