//! Fuzzes the task creation body (`POST /api/{user_id}/tasks`): bytes are read as the
//! service reads bodies and turned into a `NewTask` at the edge (`TaskTitle::parse`,
//! `TaskDescription::parse`).
//!
//! Invariants: an accepted body is a strict JSON object; the task is made exactly when
//! both fields pass their checks, of the body's members (absent or `null` is empty), and
//! holds what the checks made; otherwise the refused fields are named in body order; the
//! title and description invariants of `tessera_fuzz::text` hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_application::NewTask;
use tessera_domain::{TaskDescription, TaskTitle};
use tessera_fuzz::body::{check_conversion, read, text};
use tessera_fuzz::text::{check_description, check_title};
use tessera_http::dto::CreateTaskBody;

fuzz_target!(|data: &[u8]| {
    let Some(read) = read::<CreateTaskBody>(data) else {
        return;
    };
    let (title, description) = (text(&read.object, "title"), text(&read.object, "description"));
    check_title(&title);
    check_description(&description);
    let converted = NewTask::try_from(read.body);
    check_conversion(
        &converted,
        &[
            ("title", TaskTitle::parse(&title).is_ok()),
            ("description", TaskDescription::parse(&description).is_ok()),
        ],
    );
    if let Ok(task) = converted {
        assert_eq!(Ok(task.title), TaskTitle::parse(&title));
        assert_eq!(Ok(task.description), TaskDescription::parse(&description));
    }
});
