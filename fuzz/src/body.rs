//! Reading a request body as the service reads it: `tessera_json::from_slice` of
//! `Object<T>` (the signout handler's path) and `serde_json::from_slice` of `Object<T>`
//! (the path of actix's `Json` extractor behind `JsonBody`). Both must agree, and a body
//! either accepts must be a strict JSON object.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tessera_http::dto::Object;

/// A body read both ways, with the JSON object it was read from.
pub struct Read<T> {
    /// As `tessera_json::from_slice` read it.
    pub strict: T,
    /// As the JSON extractor (`serde_json::from_slice`) read it.
    pub extractor: T,
    /// The object itself.
    pub object: Map<String, Value>,
}

/// Reads `data` as a body of type `T` both ways; `None` when it is refused (by both).
pub fn read<T: DeserializeOwned>(data: &[u8]) -> Option<Read<T>> {
    let strict = tessera_json::from_slice::<Object<T>>(data);
    let extractor = serde_json::from_slice::<Object<T>>(data);
    assert_eq!(
        strict.is_ok(),
        extractor.is_ok(),
        "tessera_json and the JSON extractor agree on whether a body is accepted"
    );
    let (Ok(Object(strict)), Ok(Object(extractor))) = (strict, extractor) else {
        return None;
    };
    assert!(
        tessera_json::check(data).is_ok(),
        "an accepted body is strict JSON (no key twice)"
    );
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) else {
        panic!("an accepted body is a JSON object");
    };
    Some(Read {
        strict,
        extractor,
        object,
    })
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
