//! Token verification: the work the guard does on every request before the database.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use tessera_application::ports::{AccessClaims, TokenIssuer, TokenVerifier};
use tessera_crypto::{JwtConfig, JwtTokens};
use tessera_domain::{SessionId, UserId};

fn tokens(c: &mut Criterion) {
    let tokens = JwtTokens::new(&JwtConfig {
        secret: "a-benchmark-secret-that-is-32-bytes-or-more"
            .to_owned()
            .into(),
        previous: None,
        issuer: "tessera".to_owned(),
        audience: "tessera".to_owned(),
    });
    let now = Utc::now();
    let claims = AccessClaims {
        user_id: UserId::new_random(),
        email: "alice@example.com".to_owned(),
        name: "Alice Johnson".to_owned(),
        session_id: SessionId::new_random(),
        issued_at: now,
        expires_at: now + Duration::days(7),
    };
    let Ok(token) = tokens.issue(&claims) else {
        panic!("a token must be issued");
    };
    c.bench_function("JwtTokens::verify", |b| {
        b.iter(|| tokens.verify(black_box(&token)));
    });
    c.bench_function("JwtTokens::issue", |b| {
        b.iter(|| tokens.issue(black_box(&claims)));
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
