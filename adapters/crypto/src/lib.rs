//! Cryptography adapters: bcrypt password hashing and HS256 JSON Web Tokens.

mod jwt;
mod password;

pub use jwt::{JwtConfig, JwtTokens, MAX_TOKEN_BYTES};
pub use password::{BcryptHasher, HashLimits, HashLoad, time_verification};
