use std::time::Duration;

use ipnet::IpNet;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

impl Settings {
    fn secret_is(&self, candidate: &str) -> bool {
        use secrecy::ExposeSecret;
        self.auth
            .secret
            .as_ref()
            .is_some_and(|s| s.expose_secret() == candidate)
    }
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_pairs(pairs.iter().copied())
}

#[test]
fn defaults_follow_the_contract() -> Result<(), SettingsError> {
    let s = load(&[])?;
    assert_eq!(s.storage.kind, Storage::Postgres);
    assert_eq!(s.http.host.to_string(), "127.0.0.1");
    assert_eq!(s.http.port, 8080);
    assert_eq!(s.auth.token_ttl_seconds, 604_800);
    assert_eq!(s.hashing.bcrypt_cost, 12);
    assert_eq!(s.limits.auth_rate_limit_per_minute, 10);
    assert_eq!(
        s.http.options.cors_origins,
        vec!["http://localhost:3000".to_owned()]
    );
    assert!(s.auth.secret.is_none());
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&s.storage.url),
        DEFAULT_DATABASE_URL
    );
    assert_eq!(s.database.pool.max_size, 10);
    assert_eq!(s.database.pool.auth_max_size, 10);
    assert_eq!(s.limits.account_failure_limit, 5);
    assert_eq!(s.limits.account_lock_max_seconds, 900);
    assert!(s.hashing.limits.concurrency >= 1);
    assert_eq!(s.hashing.limits.queue, 4 * s.hashing.limits.concurrency);
    assert_eq!(s.hashing.limits.wait, Duration::from_secs(3));
    assert_eq!(s.http.options.body_timeout, Duration::from_secs(10));
    assert_eq!(s.http.options.max_connections, 10_000);
    assert_eq!(
        s.database.pool.statement_timeout,
        Duration::from_millis(5000)
    );
    assert_eq!(s.database.pool.lock_timeout, Duration::from_millis(2000));
    assert!(s.http.options.trusted_proxies.as_slice().is_empty());
    assert_eq!(
        s.http.options.metrics_allow.as_slice(),
        ["127.0.0.1/32".parse::<IpNet>().ok(), "::1/128".parse().ok()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
    );
    assert!(s.storage.migrate_on_start);
    assert!(s.auth.jwt().is_err());
    assert!(s.auth.secret_previous.is_none());
    assert_eq!(s.http.options.hsts_max_age_seconds, None);
    assert_eq!(s.limits.max_sessions_per_user, 50);
    assert_eq!(s.limits.max_tasks_per_user, 10_000);
    assert_eq!(s.limits.retention_days, 30);
    assert!(matches!(s.mail.delivery, Delivery::Off));
    assert_eq!(s.mail.from.to_string(), DEFAULT_MAIL_FROM);
    assert_eq!(s.mail.retry.window, chrono::Duration::hours(24));
    assert_eq!(s.mail.accounts.quota.per_hour, 5);
    assert_eq!(s.mail.accounts.reset_ttl, chrono::Duration::seconds(1800));
    assert_eq!(
        s.mail.accounts.verify_ttl,
        chrono::Duration::seconds(86_400)
    );
    assert_eq!(
        s.mail.accounts.verification,
        tessera_domain::EmailVerification::Optional
    );
    Ok(())
}

#[test]
fn mail_settings_are_read() -> Result<(), SettingsError> {
    let s = load(&[
        ("SMTP_URL", "smtps://mailer:s3cret@mail.example:465"),
        ("MAIL_FROM", "Acme <hello@acme.example>"),
        ("MAIL_RETRY_HOURS", "2"),
        ("MAIL_PER_ACCOUNT_PER_HOUR", "9"),
        ("EMAIL_VERIFICATION", "required"),
        ("RESET_TOKEN_TTL_SECONDS", "600"),
        ("VERIFY_TOKEN_TTL_SECONDS", "3600"),
    ])?;
    let Delivery::Smtp(url) = &s.mail.delivery else {
        panic!("SMTP_URL names the server");
    };
    assert_eq!((url.host(), url.port()), ("mail.example", 465));
    assert!(
        !format!("{s:?}").contains("s3cret"),
        "the password is never shown"
    );
    assert_eq!(s.mail.retry.window, chrono::Duration::hours(2));
    assert_eq!(s.mail.accounts.quota.per_hour, 9);
    assert_eq!(s.mail.accounts.reset_ttl, chrono::Duration::seconds(600));
    assert_eq!(s.mail.accounts.verify_ttl, chrono::Duration::seconds(3600));
    assert_eq!(
        s.mail.accounts.verification,
        tessera_domain::EmailVerification::Required
    );
    Ok(())
}

#[test]
fn a_previous_secret_and_hsts_are_read() -> Result<(), SettingsError> {
    let previous = "the-secret-being-replaced-0123456789abcdef";
    let s = load(&[
        ("JWT_SECRET", SECRET),
        ("JWT_SECRET_PREVIOUS", previous),
        ("HSTS_MAX_AGE_SECONDS", "31536000"),
    ])?;
    let kept = s
        .auth
        .secret_previous
        .as_ref()
        .map(|secret| secrecy::ExposeSecret::expose_secret(secret).to_owned());
    assert_eq!(kept.as_deref(), Some(previous));
    assert_eq!(s.http.options.hsts_max_age_seconds, Some(31_536_000));
    let refused = load(&[("JWT_SECRET", SECRET), ("JWT_SECRET_PREVIOUS", SECRET)]);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!message.contains(SECRET), "{message}");
    Ok(())
}

#[test]
fn environment_values_are_parsed() -> Result<(), SettingsError> {
    let s = load(&[
        ("STORAGE", "memory"),
        ("JWT_SECRET", SECRET),
        ("PORT", "0"),
        ("HOST", "0.0.0.0"),
        ("BCRYPT_COST", "4"),
        ("CORS_ORIGINS", "https://a.example/, http://b.example:8080"),
    ])?;
    assert_eq!(s.storage.kind, Storage::Memory);
    assert!(s.secret_is(SECRET));
    assert_eq!(s.http.port, 0);
    assert_eq!(s.hashing.bcrypt_cost, 4);
    assert_eq!(
        s.http.options.cors_origins,
        ["https://a.example", "http://b.example:8080"]
    );
    Ok(())
}

#[test]
fn networks_accept_cidrs_and_bare_addresses() -> Result<(), SettingsError> {
    let s = load(&[
        ("TRUSTED_PROXIES", " 10.1.2.3/8, 192.0.2.1 ,2001:db8::/32"),
        ("METRICS_ALLOW", ""),
    ])?;
    let shown: Vec<String> = s
        .http
        .options
        .trusted_proxies
        .as_slice()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]);
    assert!(
        s.http.options.metrics_allow.as_slice().is_empty(),
        "an empty list allows no one"
    );
    Ok(())
}

#[test]
fn either_secret_variable_is_honoured() -> Result<(), SettingsError> {
    assert!(load(&[("BETTER_AUTH_SECRET", SECRET)])?.secret_is(SECRET));
    assert!(load(&[("BETTER_AUTH_SECRET", SECRET), ("JWT_SECRET", SECRET)])?.secret_is(SECRET));
    Ok(())
}

#[test]
fn invalid_settings_name_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("JWT_SECRET", "short")], "JWT_SECRET"),
        (&[("BETTER_AUTH_SECRET", "short")], "BETTER_AUTH_SECRET"),
        (
            &[
                ("BETTER_AUTH_SECRET", SECRET),
                ("JWT_SECRET", "another-secret-of-32-bytes-or-more"),
            ],
            "JWT_SECRET",
        ),
        (&[("STORAGE", "mysql")], "STORAGE"),
        (
            &[("STORAGE", "sqlite"), ("DATABASE_URL", "postgres://x")],
            "DATABASE_URL",
        ),
        (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
        (&[("PORT", "80000")], "PORT"),
        (&[("PORT", "eighty")], "PORT"),
        (&[("HOST", "not a host")], "HOST"),
        (&[("BCRYPT_COST", "3")], "BCRYPT_COST"),
        (&[("BCRYPT_COST", "32")], "BCRYPT_COST"),
        (&[("TOKEN_TTL_SECONDS", "-5")], "TOKEN_TTL_SECONDS"),
        (
            &[("AUTH_RATE_LIMIT_PER_MINUTE", "many")],
            "AUTH_RATE_LIMIT_PER_MINUTE",
        ),
        (&[("CORS_ORIGINS", "localhost:3000")], "CORS_ORIGINS"),
        (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
        (&[("JWT_SECRET_PREVIOUS", "short")], "JWT_SECRET_PREVIOUS"),
        (
            &[("JWT_SECRET", SECRET), ("JWT_SECRET_PREVIOUS", SECRET)],
            "JWT_SECRET_PREVIOUS",
        ),
        (&[("HSTS_MAX_AGE_SECONDS", "-1")], "HSTS_MAX_AGE_SECONDS"),
        (
            &[("HSTS_MAX_AGE_SECONDS", "a year")],
            "HSTS_MAX_AGE_SECONDS",
        ),
        (&[("MAX_SESSIONS_PER_USER", "0")], "MAX_SESSIONS_PER_USER"),
        (&[("MAX_TASKS_PER_USER", "0")], "MAX_TASKS_PER_USER"),
        (&[("RETENTION_DAYS", "0")], "RETENTION_DAYS"),
        (&[("TRUSTED_PROXIES", "10.0.0.0/33")], "TRUSTED_PROXIES"),
        (&[("METRICS_ALLOW", "localhost")], "METRICS_ALLOW"),
        (&[("HASH_CONCURRENCY", "0")], "HASH_CONCURRENCY"),
        (&[("HASH_WAIT_SECONDS", "0")], "HASH_WAIT_SECONDS"),
        (&[("BODY_TIMEOUT_SECONDS", "0")], "BODY_TIMEOUT_SECONDS"),
        (&[("MAX_CONNECTIONS", "0")], "MAX_CONNECTIONS"),
        (
            &[("DB_STATEMENT_TIMEOUT_MS", "0")],
            "DB_STATEMENT_TIMEOUT_MS",
        ),
        (&[("DB_LOCK_TIMEOUT_MS", "x")], "DB_LOCK_TIMEOUT_MS"),
        (
            &[("ACCOUNT_LOCK_MAX_SECONDS", "0")],
            "ACCOUNT_LOCK_MAX_SECONDS",
        ),
        (&[("DATABASE_POOL_SIZE", "0")], "DATABASE_POOL_SIZE"),
        (
            &[("DATABASE_POOL_TIMEOUT_MS", "soon")],
            "DATABASE_POOL_TIMEOUT_MS",
        ),
        (
            &[("DATABASE_CONNECT_TIMEOUT_MS", "0")],
            "DATABASE_CONNECT_TIMEOUT_MS",
        ),
        (
            &[("DATABASE_STARTUP_TIMEOUT_SECONDS", "-1")],
            "DATABASE_STARTUP_TIMEOUT_SECONDS",
        ),
        (&[("SMTP_URL", "ftp://mail.example")], "SMTP_URL"),
        (&[("SMTP_URL", "smtp://")], "SMTP_URL"),
        (&[("SMTP_URL", "smtp://mail.example?tls=maybe")], "SMTP_URL"),
        (&[("MAIL_FROM", "not an address")], "MAIL_FROM"),
        (&[("EMAIL_VERIFICATION", "sometimes")], "EMAIL_VERIFICATION"),
        (&[("MAIL_RETRY_HOURS", "0")], "MAIL_RETRY_HOURS"),
        (
            &[("MAIL_PER_ACCOUNT_PER_HOUR", "0")],
            "MAIL_PER_ACCOUNT_PER_HOUR",
        ),
        (
            &[("RESET_TOKEN_TTL_SECONDS", "10")],
            "RESET_TOKEN_TTL_SECONDS",
        ),
        (
            &[("VERIFY_TOKEN_TTL_SECONDS", "x")],
            "VERIFY_TOKEN_TTL_SECONDS",
        ),
    ];
    for (pairs, name) in cases {
        match load(pairs) {
            Err(e) => assert_eq!(e.name, *name, "{pairs:?}"),
            Ok(_) => panic!("{pairs:?} must be refused"),
        }
    }
}

#[test]
fn a_short_secret_error_does_not_show_the_secret() {
    match load(&[("JWT_SECRET", "hunter2-is-short")]) {
        Err(e) => assert!(!e.to_string().contains("hunter2")),
        Ok(_) => panic!("short secret must be refused"),
    }
}

#[test]
fn a_config_file_is_read_and_the_environment_wins() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tessera-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("tessera.toml");
    std::fs::write(
        &path,
        "port = 9000\nbcrypt_cost = 10\nstorage = \"memory\"\n",
    )?;
    let s = Settings::from_sources(Some(&path), [("PORT", "9001")])?;
    assert_eq!(s.http.port, 9001);
    assert_eq!(s.hashing.bcrypt_cost, 10);
    assert_eq!(s.storage.kind, Storage::Memory);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn every_setting_read_is_one_the_environment_is_read_for() -> Result<(), SettingsError> {
    let raw = Settings::raw(None, [("STORAGE", "memory")])?;
    Settings::read(&raw)?;
    let known: std::collections::BTreeSet<&str> =
        read::TEXTS.iter().chain(read::NUMBERS).copied().collect();
    let asked = raw.asked();
    assert_eq!(asked.difference(&known).count(), 0, "{asked:?}");
    assert_eq!(known.difference(&asked).count(), 0, "{known:?}");
    Ok(())
}
