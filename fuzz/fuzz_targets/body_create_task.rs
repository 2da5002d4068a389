//! Fuzzes the task creation body (`POST /api/{user_id}/tasks`): bytes are read as
//! `Object<CreateTaskBody>` the ways the service reads bodies, turned into the
//! `CreateTaskCommand`, and its title and description are validated as the create use
//! case validates them (`TaskTitle::parse`, `TaskDescription::parse`; absent is empty).
//!
//! Invariants: both readings agree; an accepted body is a strict JSON object and each
//! command field is that object's member of the same name; a parsed title is trimmed,
//! 1 to 200 characters, without control or bidirectional characters, and parses to
//! itself; a parsed description is none exactly when blank, else trimmed, at most 1000
//! characters, without control characters but line breaks and tabs, and parses to
//! itself; each refusal has its stated cause.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::CreateTaskCommand;
use tessera_fuzz::body::{read, text_field};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::CreateTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(body) = read::<CreateTaskBody>(data) else {
        return;
    };
    let command = CreateTaskCommand::from(body.strict);
    let extractor = CreateTaskCommand::from(body.extractor);
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
    check_title(command.title.as_deref().unwrap_or_default());
    check_description(command.description.as_deref().unwrap_or_default());
});
