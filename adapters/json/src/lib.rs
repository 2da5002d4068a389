//! Strict JSON: JSON as `serde_json` reads it, except that an object holding the same key
//! twice is an error, at any depth, whatever the spelling of the key (`"\u0074itle"` is
//! `"title"`: keys are compared after their escapes are read).
//!
//! `serde_json` keeps the last of two equal keys, and a derived `Deserialize` refuses
//! only the fields it knows. A proxy, a log pipeline or a second parser may read the first
//! one instead: acting on a value some other reader of the same bytes would not see is
//! how request smuggling and signature confusion start (RFC 8259 §4 leaves the choice to
//! each parser; RFC 7519 §4 lets a JWT parser refuse). Every JSON object Tessera reads
//! from outside goes through here.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Map, Number, Value};

/// A JSON value read with duplicate keys refused.
#[derive(Debug, Clone, PartialEq)]
pub struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(DuplicateKey));
            }
            let StrictValue(value) = map.next_value_seed(Seed)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

struct Seed;

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = StrictValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<StrictValue, D::Error> {
        StrictValue::deserialize(deserializer)
    }
}

/// The error of an object that holds one key twice. The key itself is not repeated in
/// the message: it is the client's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateKey;

impl fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object holds the same key twice")
    }
}

/// Reads `bytes` as strict JSON, then as `T`.
///
/// # Errors
/// Not JSON, a duplicate key anywhere, or not the shape `T` wants.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let StrictValue(value) = serde_json::from_slice(bytes)?;
    T::deserialize(value)
}

/// Whether `bytes` are strict JSON (valid, and no object holds a key twice).
///
/// # Errors
/// The first reason they are not.
pub fn check(bytes: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<StrictValue>(bytes).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_is_refused_at_any_depth_and_in_any_spelling() {
        for raw in [
            r#"{"title":"a","title":"b"}"#,
            r#"{"title":"a","\u0074itle":"b"}"#,
            r#"{"t\u0069tle":"a","title":"b"}"#,
            r#"{"outer":{"k":1,"k":2}}"#,
            r#"[{"k":1},{"k":1,"k":1}]"#,
            r#"{"password":"wrong","password":"right"}"#,
        ] {
            assert!(check(raw.as_bytes()).is_err(), "{raw}");
        }
    }

    #[test]
    fn distinct_keys_and_repeated_keys_in_separate_objects_are_fine() {
        for raw in [
            r#"{"title":"a","Title":"b"}"#,
            r#"[{"k":1},{"k":2}]"#,
            r#"{"a":{"k":1},"b":{"k":2}}"#,
            r#"{"n":-1.5e3,"m":18446744073709551615,"z":null,"t":true,"s":"\u00e9"}"#,
        ] {
            assert!(check(raw.as_bytes()).is_ok(), "{raw}");
        }
    }

    #[test]
    fn values_are_read_as_serde_json_reads_them() -> Result<(), serde_json::Error> {
        let raw = br#"{"a":[1,2.5,"x",null,{"b":false}],"c":-3}"#;
        let strict: Value = from_slice(raw)?;
        let plain: Value = serde_json::from_slice(raw)?;
        assert_eq!(strict, plain);
        Ok(())
    }

    #[test]
    fn the_error_does_not_repeat_the_key() {
        let error = check(br#"{"secret-key":1,"secret-key":2}"#).map_err(|e| e.to_string());
        let Err(message) = error else {
            panic!("a duplicate must be refused");
        };
        assert!(!message.contains("secret-key"), "{message}");
    }
}
