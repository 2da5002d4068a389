//! HS256 tokens with the contract's claims.

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tessera_application::ports::{
    AccessClaims, CryptoError, TokenError, TokenIssuer, TokenVerifier,
};
use tessera_domain::{SessionId, UserId};
use uuid::Uuid;

/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECONDS: u64 = 60;

/// What the token adapter needs to know.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The HS256 secret (32 bytes or more; checked by the configuration).
    pub secret: SecretString,
    /// A former secret (`JWT_SECRET_PREVIOUS`): tokens it signed verify until they
    /// expire; nothing new is signed with it.
    pub previous: Option<SecretString>,
    /// The `iss` claim issued and required.
    pub issuer: String,
    /// The `aud` claim issued and required.
    pub audience: String,
}

/// The claims on the wire. Every field is required: a token missing one does not parse.
#[derive(Debug, Serialize, Deserialize)]
struct WireClaims {
    sub: String,
    user_id: String,
    email: String,
    name: String,
    iat: i64,
    exp: i64,
    jti: String,
    iss: String,
    aud: String,
}

/// One HS256 key and the id that names it in the `kid` header.
struct Key {
    id: String,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &[u8]) -> Self {
        Self {
            id: key_id(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// The `kid` of a secret: the first 8 bytes, in hex, of HMAC-SHA-256 keyed by the secret
/// over a fixed label. It names the key without revealing anything a token's own
/// signature does not already commit to.
fn key_id(secret: &[u8]) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return String::new();
    };
    mac.update(b"tessera key id");
    mac.finalize().into_bytes()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Issues and verifies HS256 tokens: signs with the current secret (naming it in `kid`),
/// and verifies with the key the `kid` names, the current or the previous one.
pub struct JwtTokens {
    encoding: EncodingKey,
    current: Key,
    previous: Option<Key>,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens")
            .field("kid", &self.current.id)
            .field("previous_kid", &self.previous.as_ref().map(|key| &key.id))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtTokens {
    /// Builds the adapter from its settings.
    #[must_use]
    pub fn new(config: &JwtConfig) -> Self {
        let secret = config.secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub", "jti"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            current: Key::new(secret),
            previous: config
                .previous
                .as_ref()
                .map(|previous| Key::new(previous.expose_secret().as_bytes())),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        }
    }

    /// The keys a token may have been signed with, by its `kid`: the one it names, or,
    /// for a token without one (issued before keys had ids), each in turn.
    fn candidate_keys<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a Key> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .filter(move |key| kid.is_none_or(|kid| key.id == kid))
    }

    fn decode(
        &self,
        token: &str,
        key: &Key,
    ) -> Result<jsonwebtoken::TokenData<WireClaims>, TokenError> {
        jsonwebtoken::decode::<WireClaims>(token, &key.decoding, &self.validation).map_err(|e| {
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })
    }
}

/// One segment of a token (header or payload) read as strict JSON: `None` when it is not
/// base64url, not JSON, or names a member twice (RFC 7519 §4 lets a parser refuse those,
/// and a reader that took the first would see other claims than this one).
fn strict_segment(segment: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()?;
    tessera_json::from_slice(&json).ok()
}

impl TokenIssuer for JwtTokens {
    fn issue(&self, claims: &AccessClaims) -> Result<String, CryptoError> {
        let user_id = claims.user_id.to_string();
        let wire = WireClaims {
            sub: user_id.clone(),
            user_id,
            email: claims.email.clone(),
            name: claims.name.clone(),
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.timestamp(),
            jti: claims.session_id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.current.id.clone());
        jsonwebtoken::encode(&header, &wire, &self.encoding)
            .map_err(|_| CryptoError("token signing failed"))
    }
}

impl TokenVerifier for JwtTokens {
    fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        // `decode` refuses any algorithm but HS256 and checks the signature and claims;
        // then header parameters that point at other keys, never needed with a shared
        // secret, are refused outright, and so is a member named twice.
        // The header is read once, strictly: its `kid` picks the key. A header that is not
        // strict JSON names no key (every key is tried, so the answer is the one the
        // signature and the claims give), and is refused below.
        let mut segments = token.split('.');
        let header = strict_segment(segments.next().unwrap_or_default());
        let payload = segments.next().unwrap_or_default();
        let kid = header
            .as_ref()
            .and_then(|header| header.get("kid"))
            .and_then(serde_json::Value::as_str);
        let mut outcome = Err(TokenError::Invalid);
        for key in self.candidate_keys(kid) {
            outcome = self.decode(token, key);
            // Only a bad signature is worth another key; expiry is the token's own.
            if !matches!(outcome, Err(TokenError::Invalid)) {
                break;
            }
        }
        let data = outcome?;
        if header.is_none() || strict_segment(payload).is_none() {
            return Err(TokenError::Invalid);
        }
        let header = &data.header;
        if header.alg != Algorithm::HS256
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::Invalid);
        }
        let claims = data.claims;
        if claims.sub != claims.user_id {
            return Err(TokenError::Invalid);
        }
        let user_id = Uuid::parse_str(&claims.user_id).map_err(|_| TokenError::Invalid)?;
        let session_id = Uuid::parse_str(&claims.jti).map_err(|_| TokenError::Invalid)?;
        let issued_at =
            DateTime::<Utc>::from_timestamp(claims.iat, 0).ok_or(TokenError::Invalid)?;
        let expires_at =
            DateTime::<Utc>::from_timestamp(claims.exp, 0).ok_or(TokenError::Invalid)?;
        Ok(AccessClaims {
            user_id: UserId::from_uuid(user_id),
            email: claims.email,
            name: claims.name,
            session_id: SessionId::from_uuid(session_id),
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn tokens(secret: &str) -> JwtTokens {
        JwtTokens::new(&JwtConfig {
            secret: SecretString::from(secret.to_owned()),
            previous: None,
            issuer: "tessera".to_owned(),
            audience: "tessera".to_owned(),
        })
    }

    fn claims(expires_in: Duration) -> AccessClaims {
        let now = Utc::now();
        AccessClaims {
            user_id: UserId::new_random(),
            email: "alice@example.com".to_owned(),
            name: "Alice".to_owned(),
            session_id: SessionId::new_random(),
            issued_at: now,
            expires_at: now + expires_in,
        }
    }

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!!";

    #[test]
    fn an_issued_token_verifies_to_its_claims() -> Result<(), CryptoError> {
        let tokens = tokens(SECRET);
        let claims = claims(Duration::hours(1));
        let token = tokens.issue(&claims)?;
        let verified = tokens.verify(&token);
        assert_eq!(verified.as_ref().map(|c| c.user_id), Ok(claims.user_id));
        assert_eq!(verified.map(|c| c.session_id), Ok(claims.session_id));
        Ok(())
    }

    #[test]
    fn a_token_signed_with_another_secret_is_invalid() -> Result<(), CryptoError> {
        let token = tokens("another-secret-that-is-also-32-bytes-long")
            .issue(&claims(Duration::hours(1)))?;
        assert_eq!(tokens(SECRET).verify(&token), Err(TokenError::Invalid));
        Ok(())
    }

    #[test]
    fn expiry_allows_a_minute_of_leeway() -> Result<(), CryptoError> {
        let tokens = tokens(SECRET);
        let recent = tokens.issue(&claims(Duration::seconds(-30)))?;
        assert!(tokens.verify(&recent).is_ok());
        let old = tokens.issue(&claims(Duration::seconds(-120)))?;
        assert_eq!(tokens.verify(&old), Err(TokenError::Expired));
        Ok(())
    }

    #[test]
    fn garbage_and_oversized_tokens_are_invalid() {
        let tokens = tokens(SECRET);
        assert_eq!(tokens.verify(""), Err(TokenError::Invalid));
        assert_eq!(tokens.verify("a.b.c"), Err(TokenError::Invalid));
        assert_eq!(
            tokens.verify(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(TokenError::Invalid)
        );
    }

    const PREVIOUS: &str = "the-previous-hs256-secret-also-32-bytes-long";

    fn rotated() -> JwtTokens {
        JwtTokens::new(&JwtConfig {
            secret: SecretString::from(SECRET.to_owned()),
            previous: Some(SecretString::from(PREVIOUS.to_owned())),
            issuer: "tessera".to_owned(),
            audience: "tessera".to_owned(),
        })
    }

    fn kid(token: &str) -> Option<String> {
        jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid)
    }

    #[test]
    fn tokens_name_their_key_and_the_previous_key_still_verifies() -> Result<(), CryptoError> {
        let old = tokens(PREVIOUS).issue(&claims(Duration::hours(1)))?;
        let new = rotated().issue(&claims(Duration::hours(1)))?;
        assert_eq!(kid(&new), Some(key_id(SECRET.as_bytes())));
        assert_eq!(kid(&old), Some(key_id(PREVIOUS.as_bytes())));
        assert_ne!(kid(&new), kid(&old));
        assert!(rotated().verify(&old).is_ok());
        assert!(rotated().verify(&new).is_ok());
        // Without the previous secret, its tokens are refused.
        assert_eq!(tokens(SECRET).verify(&old), Err(TokenError::Invalid));
        // An expired token of the previous key is expired, not invalid.
        let expired = tokens(PREVIOUS).issue(&claims(Duration::hours(-1)))?;
        assert_eq!(rotated().verify(&expired), Err(TokenError::Expired));
        Ok(())
    }

    /// Signs `header` and `claims` as given, with `secret`.
    fn signed(header: &serde_json::Value, claims: &serde_json::Value, secret: &str) -> String {
        signed_text(&header.to_string(), &claims.to_string(), secret)
    }

    /// Signs these exact header and claims texts with `secret`.
    fn signed_text(header: &str, claims: &str, secret: &str) -> String {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let message = format!("{}.{}", engine.encode(header), engine.encode(claims));
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap_or_default();
        format!("{message}.{signature}")
    }

    fn wire(claims: &AccessClaims) -> serde_json::Value {
        serde_json::json!({
            "sub": claims.user_id.to_string(), "user_id": claims.user_id.to_string(),
            "email": claims.email, "name": claims.name,
            "iat": claims.issued_at.timestamp(), "exp": claims.expires_at.timestamp(),
            "jti": claims.session_id.to_string(), "iss": "tessera", "aud": "tessera",
        })
    }

    #[test]
    fn a_token_without_kid_tries_each_key_and_an_unknown_kid_none() {
        let body = wire(&claims(Duration::hours(1)));
        let plain = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        assert!(rotated().verify(&signed(&plain, &body, PREVIOUS)).is_ok());
        assert!(rotated().verify(&signed(&plain, &body, SECRET)).is_ok());
        let unknown = serde_json::json!({"alg": "HS256", "kid": "0011223344556677"});
        assert_eq!(
            rotated().verify(&signed(&unknown, &body, SECRET)),
            Err(TokenError::Invalid)
        );
        // A kid naming the current key does not make the previous key's signature good.
        let current = serde_json::json!({"alg": "HS256", "kid": key_id(SECRET.as_bytes())});
        assert_eq!(
            rotated().verify(&signed(&current, &body, PREVIOUS)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_member_named_twice_makes_a_token_invalid() {
        let body = wire(&claims(Duration::hours(1))).to_string();
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let sign = |header: &str, body: &str| signed_text(header, body, SECRET);
        let tokens = tokens(SECRET);
        assert!(tokens.verify(&sign(header, &body)).is_ok());
        let twice = format!("{},\"extra\":1,\"extra\":2}}", &body[..body.len() - 1]);
        assert_eq!(
            tokens.verify(&sign(header, &twice)),
            Err(TokenError::Invalid)
        );
        let header_twice = r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#;
        assert_eq!(
            tokens.verify(&sign(header_twice, &body)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn debug_shows_key_ids_never_secrets() {
        let shown = format!("{:?}", rotated());
        assert!(
            !shown.contains(SECRET) && !shown.contains(PREVIOUS),
            "{shown}"
        );
        assert!(shown.contains(&key_id(SECRET.as_bytes())), "{shown}");
        let config = format!(
            "{:?}",
            JwtConfig {
                secret: SecretString::from(SECRET.to_owned()),
                previous: Some(SecretString::from(PREVIOUS.to_owned())),
                issuer: "tessera".to_owned(),
                audience: "tessera".to_owned(),
            }
        );
        assert!(
            !config.contains(SECRET) && !config.contains(PREVIOUS),
            "{config}"
        );
    }
}
