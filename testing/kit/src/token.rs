//! A JWT taken apart so that a test can change its header or claims and sign it again.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

/// A JWT's decoded header and claims, and its original signature.
pub struct ForgedToken {
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// The original signature (base64url).
    signature: String,
}

impl ForgedToken {
    /// Decodes a token's header and claims without verifying anything.
    pub fn parse(token: &str) -> Self {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts.as_slice() else {
            panic!("a JWT has three parts: {token}");
        };
        Self {
            header: decode_part(header),
            claims: decode_part(claims),
            signature: (*signature).to_owned(),
        }
    }

    /// Removes a claim.
    pub fn remove_claim(&mut self, name: &str) {
        match self.claims.as_object_mut() {
            Some(claims) => claims.remove(name),
            None => panic!("the claims are not a JSON object: {}", self.claims),
        };
    }

    /// `base64url(header).base64url(claims)`: the signed part.
    pub fn message(&self) -> String {
        format!(
            "{}.{}",
            encode_part(&self.header),
            encode_part(&self.claims)
        )
    }

    /// The token signed with `secret` by HMAC `algorithm`, whatever the header says.
    pub fn signed_with(&self, secret: &[u8], algorithm: Algorithm) -> String {
        let message = self.message();
        let signature = match jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(secret),
            algorithm,
        ) {
            Ok(signature) => signature,
            Err(e) => panic!("HMAC signing with {algorithm:?} fails: {e}"),
        };
        format!("{message}.{signature}")
    }

    /// The token with the original signature, whatever was changed.
    pub fn with_original_signature(&self) -> String {
        format!("{}.{}", self.message(), self.signature)
    }

    /// The token with an empty signature, as `alg: none` tokens are.
    pub fn unsigned(&self) -> String {
        format!("{}.", self.message())
    }
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|error| panic!("JWT part {part} is not base64url: {error}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("JWT part is not JSON: {error}"))
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}
