//! The token secrets and claims.

use secrecy::{ExposeSecret, SecretString};
use tessera_crypto::JwtConfig;

use super::SettingsError;
use super::read::{Raw, TOKEN_TTL_SECONDS};

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The HS256 secrets, the claims every token carries, and how long one lives.
#[derive(Debug, Clone)]
pub struct AuthSection {
    /// The HS256 secret; `None` until development mode supplies one, and then a start
    /// is refused (see [`AuthSection::jwt`]).
    pub secret: Option<SecretString>,
    /// A former secret whose tokens still verify until they expire.
    pub secret_previous: Option<SecretString>,
    /// `iss` of issued tokens, required of presented ones.
    pub issuer: String,
    /// `aud` of issued tokens, required of presented ones.
    pub audience: String,
    /// Token lifetime in seconds.
    pub token_ttl_seconds: u32,
}

impl AuthSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let secret = secret(raw.text("BETTER_AUTH_SECRET"), raw.text("JWT_SECRET"))?;
        let secret_previous = previous_secret(raw.text("JWT_SECRET_PREVIOUS"), secret.as_ref())?;
        Ok(Self {
            secret,
            secret_previous,
            issuer: raw
                .text("JWT_ISSUER")
                .unwrap_or_else(|| "tessera".to_owned()),
            audience: raw
                .text("JWT_AUDIENCE")
                .unwrap_or_else(|| "tessera".to_owned()),
            token_ttl_seconds: raw.number(&TOKEN_TTL_SECONDS)?,
        })
    }

    /// What the token adapter signs and verifies with.
    ///
    /// # Errors
    /// When neither `BETTER_AUTH_SECRET` nor `JWT_SECRET` is set.
    pub fn jwt(&self) -> Result<JwtConfig, SettingsError> {
        let secret = self.secret.clone().ok_or_else(|| {
            SettingsError::new(
                "JWT_SECRET",
                format!(
                    "not set; set BETTER_AUTH_SECRET or JWT_SECRET to a secret of {MIN_SECRET_BYTES} bytes or more"
                ),
            )
        })?;
        Ok(JwtConfig {
            secret,
            previous: self.secret_previous.clone(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        })
    }

    /// How long an issued token lives.
    #[must_use]
    pub fn token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.token_ttl_seconds))
    }
}

/// `BETTER_AUTH_SECRET` or `JWT_SECRET` (both only when equal), of
/// [`MIN_SECRET_BYTES`] or more.
fn secret(
    better_auth: Option<String>,
    jwt: Option<String>,
) -> Result<Option<SecretString>, SettingsError> {
    let chosen = match (better_auth, jwt) {
        (Some(a), Some(b)) if a != b => {
            return Err(SettingsError::new(
                "JWT_SECRET",
                "BETTER_AUTH_SECRET and JWT_SECRET are both set and differ; set one",
            ));
        }
        (Some(a), _) => Some(("BETTER_AUTH_SECRET", a)),
        (None, Some(b)) => Some(("JWT_SECRET", b)),
        (None, None) => None,
    };
    match chosen {
        Some((name, value)) if value.len() < MIN_SECRET_BYTES => Err(SettingsError::new(
            name,
            format!(
                "the secret is {} bytes; it must be at least {MIN_SECRET_BYTES}",
                value.len()
            ),
        )),
        Some((_, value)) => Ok(Some(SecretString::from(value))),
        None => Ok(None),
    }
}

/// `JWT_SECRET_PREVIOUS`: as long as a current secret must be, and not the current one.
fn previous_secret(
    previous: Option<String>,
    current: Option<&SecretString>,
) -> Result<Option<SecretString>, SettingsError> {
    let Some(previous) = previous else {
        return Ok(None);
    };
    if previous.len() < MIN_SECRET_BYTES {
        return Err(SettingsError::new(
            "JWT_SECRET_PREVIOUS",
            format!(
                "the secret is {} bytes; it must be at least {MIN_SECRET_BYTES}",
                previous.len()
            ),
        ));
    }
    if current.is_some_and(|current| current.expose_secret() == previous) {
        return Err(SettingsError::new(
            "JWT_SECRET_PREVIOUS",
            "is the current secret; set it to the secret being replaced",
        ));
    }
    Ok(Some(SecretString::from(previous)))
}
