//! Columns to domain values and back: instants as microseconds since the epoch, ids as
//! text.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An instant as stored: microseconds since the Unix epoch.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored instant.
pub(crate) fn instant(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A stored id; one that is not a UUID (never written by Tessera) reads as the nil id.
pub(crate) fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap_or_default()
}
