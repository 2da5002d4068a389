//! Secrets that travel through the use cases: they print as [`REDACTED`].

use std::fmt;

/// What `Debug` shows in place of a password or a token, everywhere.
pub const REDACTED: &str = "<redacted>";

/// A signed access token, as issued or as presented. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token.
    #[must_use]
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// The token as text, for the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PasswordCandidate;

    #[test]
    fn secrets_print_redacted() {
        let secret = "hunter2-very-secret";
        let shown = [
            format!("{:?}", AccessToken::new(secret.to_owned())),
            format!("{:?}", PasswordCandidate::parse(secret)),
        ];
        for text in shown {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains(REDACTED), "{text}");
        }
    }
}
