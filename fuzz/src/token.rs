//! The token fixture: a `JwtTokens` that signs with a current secret and still verifies a
//! previous one, a signer for arbitrary header and payload bytes, and the checks that
//! every token `verify` accepts must pass.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde_json::{Map, Value};
use sha2::Sha256;
use tessera_application::ports::{AccessClaims, TokenError, TokenIssuer, TokenVerifier};
use tessera_crypto::{JwtConfig, JwtTokens, MAX_TOKEN_BYTES};
use tessera_domain::{SessionId, UserId};

/// The secret tokens are signed with.
pub const CURRENT_SECRET: &str = "fuzz-current-secret-0123456789abcdef";
/// The former secret, still accepted for verification.
pub const PREVIOUS_SECRET: &str = "fuzz-previous-secret-0123456789abcdef";
/// A secret the verifier does not know: nothing it signs may be accepted.
pub const FOREIGN_SECRET: &str = "fuzz-foreign-secret-0123456789abcdef";
/// The `iss` claim issued and required.
pub const ISSUER: &str = "tessera-fuzz-issuer";
/// The `aud` claim issued and required (distinct from the issuer, so that a swap shows).
pub const AUDIENCE: &str = "tessera-fuzz-audience";
/// Clock skew `verify` tolerates on `exp`, in seconds.
const LEEWAY_SECONDS: i64 = 60;

fn tokens(secret: &str, previous: Option<&str>) -> JwtTokens {
    JwtTokens::new(&JwtConfig {
        secret: SecretString::from(secret.to_owned()),
        previous: previous.map(|previous| SecretString::from(previous.to_owned())),
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
    })
}

/// The verifier under test: current secret [`CURRENT_SECRET`], previous
/// [`PREVIOUS_SECRET`].
pub static VERIFIER: LazyLock<JwtTokens> =
    LazyLock::new(|| tokens(CURRENT_SECRET, Some(PREVIOUS_SECRET)));

/// The `kid` the adapter writes for a secret, read back from a token it issues.
fn kid_of(secret: &str) -> String {
    let now = Utc::now();
    let claims = AccessClaims {
        user_id: UserId::new_random(),
        email: "kid@example.com".to_owned(),
        name: "kid".to_owned(),
        session_id: SessionId::new_random(),
        issued_at: now,
        expires_at: now,
    };
    let Ok(token) = tokens(secret, None).issue(&claims) else {
        panic!("the fixture must issue a token");
    };
    let Ok(header) = jsonwebtoken::decode_header(&token) else {
        panic!("an issued token must have a header");
    };
    let Some(kid) = header.kid else {
        panic!("an issued token must name its key");
    };
    kid
}

/// The `kid` of [`CURRENT_SECRET`] and of [`PREVIOUS_SECRET`].
pub static KIDS: LazyLock<(String, String)> =
    LazyLock::new(|| (kid_of(CURRENT_SECRET), kid_of(PREVIOUS_SECRET)));

/// Which key signs a fuzzed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The verifier's current secret.
    Current,
    /// The verifier's previous secret.
    Previous,
    /// A secret the verifier does not know.
    Foreign,
    /// No signature at all (an empty third segment).
    Unsigned,
}

impl Signer {
    /// The signer a flag byte selects (its two low bits).
    #[must_use]
    pub fn from_flags(flags: u8) -> Self {
        match flags & 3 {
            0 => Self::Current,
            1 => Self::Previous,
            2 => Self::Foreign,
            _ => Self::Unsigned,
        }
    }
}

fn hs256(secret: &str, input: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        panic!("HMAC takes a key of any length");
    };
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// `base64url(header).base64url(payload).signature`, signed HS256 by `signer`.
#[must_use]
pub fn sign(header: &[u8], payload: &[u8], signer: Signer) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = match signer {
        Signer::Current => hs256(CURRENT_SECRET, input.as_bytes()),
        Signer::Previous => hs256(PREVIOUS_SECRET, input.as_bytes()),
        Signer::Foreign => hs256(FOREIGN_SECRET, input.as_bytes()),
        Signer::Unsigned => Vec::new(),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Verifies `token` (twice: the answer must not change) and, when it is accepted, checks
/// everything an accepted token must satisfy. Returns the answer.
pub fn verify_and_check(token: &str) -> Result<AccessClaims, TokenError> {
    let before = Utc::now().timestamp();
    let verified = VERIFIER.verify(token);
    let again = VERIFIER.verify(token);
    assert_eq!(verified, again, "verify must give one answer for one token");
    if let Ok(claims) = &verified {
        check_accepted(token, claims, before);
    }
    verified
}

fn segment_json(segment: &str) -> Map<String, Value> {
    let Ok(json) = URL_SAFE_NO_PAD.decode(segment) else {
        panic!("an accepted token's segments are base64url");
    };
    assert!(
        tessera_json::check(&json).is_ok(),
        "an accepted token's header and payload are strict JSON (no key twice)"
    );
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&json) else {
        panic!("an accepted token's header and payload are JSON objects");
    };
    object
}

fn string_member<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    let Some(value) = object.get(name).and_then(Value::as_str) else {
        panic!("an accepted token has the string claim {name}");
    };
    value
}

fn integer_member(object: &Map<String, Value>, name: &str) -> i64 {
    let Some(value) = object.get(name).and_then(Value::as_i64) else {
        panic!("an accepted token has the integer claim {name}");
    };
    value
}

/// The invariants of an accepted token: it is within the size limit, signed HS256 by a
/// key the verifier holds (the one its `kid` names, when it names one), its header and
/// payload are strict JSON objects, its header points at no other key, and the claims
/// returned are exactly those of the payload, with the configured issuer and audience,
/// `sub` equal to `user_id`, and `exp` not past the leeway. Issued again, the claims
/// verify to themselves.
fn check_accepted(token: &str, claims: &AccessClaims, before: i64) {
    assert!(
        token.len() <= MAX_TOKEN_BYTES,
        "an accepted token is within the size limit"
    );
    let segments: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = segments[..] else {
        panic!("an accepted token has three segments");
    };
    let header = segment_json(header);
    let payload = segment_json(payload);

    assert_eq!(
        header.get("alg").and_then(Value::as_str),
        Some("HS256"),
        "only HS256 is accepted"
    );
    for pointer in ["jku", "x5u", "jwk", "x5c", "crit"] {
        assert!(
            header.get(pointer).is_none_or(Value::is_null),
            "a header naming another key ({pointer}) is refused"
        );
    }

    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        panic!("an accepted token's signature is base64url");
    };
    let input = &token[..token.rfind('.').unwrap_or(0)];
    let by_current = signature == hs256(CURRENT_SECRET, input.as_bytes());
    let by_previous = signature == hs256(PREVIOUS_SECRET, input.as_bytes());
    assert!(
        by_current || by_previous,
        "an accepted token is signed by the current or the previous secret"
    );
    let (current_kid, previous_kid) = &*KIDS;
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if kid == current_kid => {
            assert!(
                by_current,
                "a token naming the current key is signed with it"
            );
        }
        Some(kid) if kid == previous_kid => {
            assert!(
                by_previous,
                "a token naming the previous key is signed with it"
            );
        }
        Some(_) => panic!("a token naming an unknown key is refused"),
        None => {}
    }

    let sub = string_member(&payload, "sub");
    let user_id = string_member(&payload, "user_id");
    assert_eq!(sub, user_id, "sub and user_id name one user");
    assert_eq!(
        user_id.parse::<UserId>().ok(),
        Some(claims.user_id),
        "the user is the payload's"
    );
    let jti = string_member(&payload, "jti");
    assert_eq!(
        uuid::Uuid::parse_str(jti).map(|id| id.to_string()).ok(),
        Some(claims.session_id.to_string()),
        "the session is the payload's jti"
    );
    assert_eq!(string_member(&payload, "email"), claims.email);
    assert_eq!(string_member(&payload, "name"), claims.name);
    assert_eq!(
        string_member(&payload, "iss"),
        ISSUER,
        "the issuer is required"
    );
    assert_eq!(
        string_member(&payload, "aud"),
        AUDIENCE,
        "the audience is required"
    );
    let exp = integer_member(&payload, "exp");
    assert_eq!(exp, claims.expires_at.timestamp());
    assert_eq!(
        integer_member(&payload, "iat"),
        claims.issued_at.timestamp()
    );
    assert!(
        exp >= before - LEEWAY_SECONDS - 1,
        "a token past its expiry and the leeway is refused"
    );

    let Ok(reissued) = VERIFIER.issue(claims) else {
        panic!("accepted claims can be issued again");
    };
    match VERIFIER.verify(&reissued) {
        Ok(again) => assert_eq!(&again, claims, "issued claims verify to themselves"),
        // The token expired between the two verifications.
        Err(TokenError::Expired) if exp < Utc::now().timestamp() - LEEWAY_SECONDS + 5 => {}
        Err(error) => panic!("a reissued token is refused: {error}"),
    }
}
