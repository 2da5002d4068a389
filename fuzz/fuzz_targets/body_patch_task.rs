//! Fuzzes the partial task update body (`PATCH /api/{user_id}/tasks/{id}`): bytes are
//! read as `Object<PatchTaskBody>` the ways the service reads bodies, turned into the
//! `PatchTaskCommand`, and each field given is validated as the patch use case
//! validates it (`TaskTitle::parse`, `TaskDescription::parse`, `null` read as empty).
//!
//! Invariants: both readings agree; an accepted body is a strict JSON object; a title or
//! description member that is absent leaves the field alone (`None`), one that is `null`
//! is `Some(None)`, one that is text is that text; a `null` title is refused as
//! required and a `null` description clears it; `completed` is the body's boolean;
//! the title and description invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::PatchTaskCommand;
use tessera_domain::{TaskDescription, TaskTitle, TaskTitleError};
use tessera_fuzz::body::{bool_field, present_text_field, read};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::PatchTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<PatchTaskBody>(data) else {
        return;
    };
    let command = PatchTaskCommand::from(body.strict);
    let extractor = PatchTaskCommand::from(body.extractor);
    for (name, field, other) in [
        ("title", &command.title, &extractor.title),
        ("description", &command.description, &extractor.description),
    ] {
        assert_eq!(field, other, "both readings give one {name}");
        assert_eq!(
            field,
            &present_text_field(&body.object, name),
            "{name} tells absent from null and is the body's {name}"
        );
    }
    assert_eq!(
        command.completed, extractor.completed,
        "both readings give one completed"
    );
    assert_eq!(
        command.completed,
        bool_field(&body.object, "completed"),
        "completed is the body's completed"
    );
    match command.title.as_ref() {
        None => {}
        Some(None) => assert_eq!(
            TaskTitle::parse(""),
            Err(TaskTitleError::Required),
            "a null title is refused as required"
        ),
        Some(Some(title)) => check_title(title),
    }
    match command.description.as_ref() {
        None => {}
        Some(None) => assert_eq!(
            TaskDescription::parse(""),
            Ok(None),
            "a null description clears it"
        ),
        Some(Some(description)) => check_description(description),
    }
});
