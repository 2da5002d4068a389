//! Cryptography adapters: bcrypt password hashing, HS256 JSON Web Tokens and the
//! one-time link tokens of mail.

mod jwt;
mod links;
mod password;

pub use jwt::{JwtConfig, JwtTokens, MAX_TOKEN_BYTES};
pub use links::LinkTokens;
pub use password::{BcryptHasher, HashLimits, HashLoad, time_verification};
