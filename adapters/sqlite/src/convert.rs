//! Columns to domain values and back: instants as microseconds since the epoch, ids as
//! text, a client as two nullable columns.

use chrono::{DateTime, Utc};
use tessera_domain::{ClientAddress, ClientInfo, UserAgent};
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

/// A client as two nullable columns.
pub(crate) fn client_columns(client: &ClientInfo) -> (Option<String>, Option<String>) {
    (
        client.ip.map(|ip| ip.to_string()),
        client.user_agent.as_ref().map(|ua| ua.as_str().to_owned()),
    )
}

/// The client of two nullable columns; an address that does not parse is unknown.
pub(crate) fn client_info(ip: Option<String>, user_agent: Option<String>) -> ClientInfo {
    ClientInfo {
        ip: ip
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
            .map(ClientAddress::new),
        user_agent: user_agent.map(UserAgent::from_trusted),
    }
}
