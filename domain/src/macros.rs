//! The shapes every value type of one kind shares, written once.

/// A text value, validated by its own `parse` before it is stored: read back with
/// `from_trusted`, seen with `as_str` and `Display`. Attributes (docs, derives) pass
/// through to the struct.
macro_rules! stored_text {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            /// Rebuilds a value that was validated before it was stored.
            #[must_use]
            pub fn from_trusted(stored: String) -> Self {
                Self(stored)
            }

            /// The value as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An id that is a random UUID (v4) chosen by the service: made by `new_random`, read
/// back from storage or a verified token with `from_uuid`, from text with `parse` (or
/// `FromStr`), where anything that is not a UUID names nothing.
macro_rules! uuid_id {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh random id.
            #[must_use]
            pub fn new_random() -> Self {
                Self(uuid::Uuid::new_v4())
            }

            /// Wraps an id read back from storage or from a verified token.
            #[must_use]
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }

            /// Reads an id from text (a path segment, say); anything that is not a UUID
            /// names nothing.
            #[must_use]
            pub fn parse(raw: &str) -> Option<Self> {
                raw.parse().ok()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}
