//! Fuzzes strict JSON reading (`tessera_json::check` and `tessera_json::from_slice`)
//! against `serde_json`, the reader it is built on.
//!
//! Invariants: `check` and `from_slice::<Value>` agree; what strict reading accepts,
//! `serde_json` accepts and reads to the same value; what strict reading refuses while
//! `serde_json` accepts is refused for a key named twice, and for nothing else; and a
//! value strict reading returns, written out again by `serde_json`, is still strict JSON
//! that reads back to itself (a number that is not an integer to within a relative
//! 1e-14: without its `float_roundtrip` feature, `serde_json` may read a decimal a few
//! ulps off the nearest double).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_json::DuplicateKey;

fuzz_target!(|data: &[u8]| {
    let strict = tessera_json::from_slice::<Value>(data);
    assert_eq!(
        strict.is_ok(),
        tessera_json::check(data).is_ok(),
        "check and from_slice agree"
    );
    let plain = serde_json::from_slice::<Value>(data);
    match (&strict, &plain) {
        (Ok(strict), Ok(plain)) => {
            assert_eq!(strict, plain, "strict JSON reads as serde_json reads it")
        }
        (Ok(_), Err(error)) => panic!("strict JSON that serde_json refuses: {error}"),
        (Err(error), Ok(_)) => assert!(
            error.to_string().contains(&DuplicateKey.to_string()),
            "JSON is refused as strict JSON only for a key twice, not for: {error}"
        ),
        (Err(_), Err(_)) => {}
    }
    let Ok(value) = strict else {
        return;
    };
    let Ok(written) = serde_json::to_vec(&value) else {
        panic!("a value read from JSON can be written as JSON");
    };
    let Ok(reread) = tessera_json::from_slice::<Value>(&written) else {
        panic!("written strict JSON is strict JSON");
    };
    assert!(
        same(&value, &reread),
        "written strict JSON reads back to itself: {value} {reread}"
    );
});

/// Equal values, floating-point numbers equal to within a relative 1e-14.
fn same(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) if l.is_f64() && r.is_f64() => {
            let (Some(l), Some(r)) = (l.as_f64(), r.as_f64()) else {
                return false;
            };
            l == r || (l - r).abs() <= l.abs().max(r.abs()) * 1e-14
        }
        (Value::Array(l), Value::Array(r)) => {
            l.len() == r.len() && l.iter().zip(r).all(|(l, r)| same(l, r))
        }
        (Value::Object(l), Value::Object(r)) => {
            l.len() == r.len()
                && l.iter()
                    .all(|(key, l)| r.get(key).is_some_and(|r| same(l, r)))
        }
        _ => left == right,
    }
}
