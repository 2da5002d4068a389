//! Reading a request body as the service reads it (`tessera_http::dto::from_json`, the
//! one reader behind every body route), and the checks every target makes of the
//! command a body becomes at the HTTP edge.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tessera_application::ValidationErrors;

/// A body as the service read it, with the JSON object it was read from.
pub struct Read<T> {
    /// The body.
    pub body: T,
    /// The object itself.
    pub object: Map<String, Value>,
}

/// Reads `data` as a body of type `T`; `None` when the service refuses it.
pub fn read<T: DeserializeOwned>(data: &[u8]) -> Option<Read<T>> {
    let body = tessera_http::dto::from_json::<T>(data).ok()?;
    assert!(
        tessera_json::check(data).is_ok(),
        "an accepted body is strict JSON (no key twice)"
    );
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) else {
        panic!("an accepted body is a JSON object");
    };
    Some(Read { body, object })
}

/// An optional text field of an accepted body: `None` when absent or `null`.
#[must_use]
pub fn text_field(object: &Map<String, Value>, name: &str) -> Option<String> {
    match object.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => panic!("an accepted body has a text or null {name}, not {other}"),
    }
}

/// A text field as the edge reads it: absent and `null` are empty.
#[must_use]
pub fn text(object: &Map<String, Value>, name: &str) -> String {
    text_field(object, name).unwrap_or_default()
}

/// A text field that tells absent (`None`) from `null` (`Some(None)`).
#[must_use]
pub fn present_text_field(object: &Map<String, Value>, name: &str) -> Option<Option<String>> {
    object.get(name).map(|_| text_field(object, name))
}

/// An optional boolean field of an accepted body: `None` when absent or `null`.
#[must_use]
pub fn bool_field(object: &Map<String, Value>, name: &str) -> Option<bool> {
    match object.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(value)) => Some(*value),
        Some(other) => panic!("an accepted body has a boolean or null {name}, not {other}"),
    }
}

/// Holds a conversion at the edge to the field checks: it succeeds exactly when no field
/// is refused, and otherwise names the refused fields, in body order, each once.
pub fn check_conversion<T>(converted: &Result<T, ValidationErrors>, checks: &[(&str, bool)]) {
    let refused: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(field, _)| *field)
        .collect();
    match converted {
        Ok(_) => assert!(refused.is_empty(), "accepted although {refused:?} are refused"),
        Err(errors) => {
            let named: Vec<&str> = errors.fields().iter().map(|f| f.field).collect();
            assert_eq!(named, refused, "the refused fields, in body order");
        }
    }
}
