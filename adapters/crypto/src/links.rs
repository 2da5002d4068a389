//! One-time link tokens: 32 random bytes in base64url, digested with SHA-256 for their
//! records, and sealed with ChaCha20-Poly1305 into the queued mail that carries them,
//! under a key derived (HKDF-SHA256) from the token secret. A mail sealed before the
//! secret moved to `JWT_SECRET_PREVIOUS` still opens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tessera_application::ports::LinkSecrets;
use tessera_domain::{LinkToken, MailId, TokenDigest};

/// The first byte of every sealed token: the format, so that a later one can be told.
const FORMAT: u8 = 1;
/// What the key is for, bound into its derivation.
const PURPOSE: &[u8] = b"tessera mail link tokens v1";

/// One sealing key and the id a sealed token names it by.
struct SealKey {
    id: [u8; 4],
    cipher: ChaCha20Poly1305,
}

impl SealKey {
    fn derive(secret: &SecretString) -> Self {
        let mut key = [0_u8; 32];
        // 32 bytes is far under HKDF-SHA256's limit of 8160: expanding cannot fail.
        let _ =
            Hkdf::<Sha256>::new(None, secret.expose_secret().as_bytes()).expand(PURPOSE, &mut key);
        let digest = Sha256::digest(key);
        let mut id = [0_u8; 4];
        id.copy_from_slice(&digest[..4]);
        Self {
            id,
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        }
    }
}

/// The link tokens of one token secret (and its predecessor).
pub struct LinkTokens {
    current: SealKey,
    previous: Option<SealKey>,
}

impl std::fmt::Debug for LinkTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkTokens").finish_non_exhaustive()
    }
}

impl LinkTokens {
    /// Keys derived from the token secret and, when set, the previous one.
    #[must_use]
    pub fn new(secret: &SecretString, previous: Option<&SecretString>) -> Self {
        Self {
            current: SealKey::derive(secret),
            previous: previous.map(SealKey::derive),
        }
    }
}

impl LinkSecrets for LinkTokens {
    fn issue(&self) -> (LinkToken, TokenDigest) {
        let mut bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let text = URL_SAFE_NO_PAD.encode(bytes);
        // 32 bytes are always 43 characters of the base64url alphabet.
        let token = LinkToken::parse(&text).unwrap_or_else(|| unreachable!("43 characters"));
        let digest = self.digest(&token);
        (token, digest)
    }

    fn digest(&self, token: &LinkToken) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_str().as_bytes()).into())
    }

    fn seal(&self, id: MailId, token: &LinkToken) -> Vec<u8> {
        let mut nonce = [0_u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let aad = id.as_uuid();
        let payload = Payload {
            msg: token.as_str().as_bytes(),
            aad: aad.as_bytes(),
        };
        // Encryption fails only for a message past ChaCha20's 256 GiB: never 43 bytes.
        let sealed = self
            .current
            .cipher
            .encrypt(&Nonce::from(nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 4 + 12 + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, id: MailId, sealed: &[u8]) -> Option<LinkToken> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < 4 + 12 {
            return None;
        }
        let (key_id, rest) = rest.split_at(4);
        let (nonce, ciphertext) = rest.split_at(12);
        let key = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|key| key.id == key_id)?;
        let aad = id.as_uuid();
        let payload = Payload {
            msg: ciphertext,
            aad: aad.as_bytes(),
        };
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = key.cipher.decrypt(&Nonce::from(nonce), payload).ok()?;
        LinkToken::parse(std::str::from_utf8(&plain).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    const ONE: &str = "the-first-token-secret-0123456789abcdef";
    const TWO: &str = "the-second-token-secret-0123456789abcdef";

    #[test]
    fn tokens_are_fresh_43_character_base64url_and_digested_with_sha256() {
        let links = LinkTokens::new(&secret(ONE), None);
        let (a, digest) = links.issue();
        let (b, _) = links.issue();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert_eq!(digest, links.digest(&a));
        let expected: [u8; 32] = Sha256::digest(a.as_str().as_bytes()).into();
        assert_eq!(digest.0, expected);
    }

    #[test]
    fn a_sealed_token_opens_for_its_mail_only_and_never_shows_the_token() {
        let links = LinkTokens::new(&secret(ONE), None);
        let (token, _) = links.issue();
        let mail = MailId::new_random();
        let sealed = links.seal(mail, &token);
        assert!(
            !sealed.windows(43).any(|w| w == token.as_str().as_bytes()),
            "the token is stored in the clear"
        );
        assert_eq!(links.open(mail, &sealed), Some(token));
        assert_eq!(
            links.open(MailId::new_random(), &sealed),
            None,
            "another mail"
        );
        let mut altered = sealed.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(links.open(mail, &altered), None, "altered bytes");
        assert_eq!(links.open(mail, &sealed[..10]), None, "cut short");
    }

    #[test]
    fn a_token_sealed_under_the_previous_secret_still_opens_and_a_retired_one_does_not() {
        let before = LinkTokens::new(&secret(ONE), None);
        let (token, _) = before.issue();
        let mail = MailId::new_random();
        let sealed = before.seal(mail, &token);
        let rotated = LinkTokens::new(&secret(TWO), Some(&secret(ONE)));
        assert_eq!(rotated.open(mail, &sealed), Some(token));
        let retired = LinkTokens::new(&secret(TWO), None);
        assert_eq!(retired.open(mail, &sealed), None);
    }
}
