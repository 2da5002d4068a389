//! Fuzzes the task replacement body (`PUT /api/{user_id}/tasks/{id}`): bytes are read as
//! `Object<ReplaceTaskBody>` the ways the service reads bodies, turned into the
//! `ReplaceTaskCommand`, and its title and description are validated as the replace use
//! case validates them (`TaskTitle::parse`, `TaskDescription::parse`; absent is empty).
//!
//! Invariants: both readings agree; an accepted body is a strict JSON object and each
//! command field is that object's member of the same name (`completed` a boolean, absent
//! or `null` keeping the state); the title and description invariants of
//! `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::ReplaceTaskCommand;
use tessera_fuzz::body::{bool_field, read, text_field};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::ReplaceTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<ReplaceTaskBody>(data) else {
        return;
    };
    let command = ReplaceTaskCommand::from(body.strict);
    let extractor = ReplaceTaskCommand::from(body.extractor);
    for (name, field, other) in [
        ("title", &command.title, &extractor.title),
        ("description", &command.description, &extractor.description),
    ] {
        assert_eq!(field, other, "both readings give one {name}");
        assert_eq!(
            field,
            &text_field(&body.object, name),
            "{name} is the body's {name}"
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
    check_title(command.title.as_deref().unwrap_or_default());
    check_description(command.description.as_deref().unwrap_or_default());
});
