//! The listener, its connection limits, and who may call what.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use tessera_http::{HttpSettings, Networks};

use super::SettingsError;
use super::read::{
    BODY_TIMEOUT_SECONDS, HEAD_TIMEOUT_SECONDS, HSTS_MAX_AGE_SECONDS, KEEP_ALIVE_SECONDS,
    MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, PORT, Raw, SEND_TIMEOUT_SECONDS,
};

/// The HTTP server's address, where people reach it, and its options.
#[derive(Debug, Clone)]
pub struct HttpSection {
    /// Listen address.
    pub host: IpAddr,
    /// Listen port (0 picks a free one).
    pub port: u16,
    /// Where people reach the service; its host is one `/metrics` answers to.
    pub public_url: url::Url,
    /// The server's options as configured (the request threads, the shutdown grace and
    /// the fit of `max_connections` to the open-file limit are set at start).
    pub options: HttpSettings,
}

impl HttpSection {
    pub(super) fn read(raw: &Raw) -> Result<Self, SettingsError> {
        let host = match raw.text("HOST") {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(host) if host == "localhost" => IpAddr::from([127, 0, 0, 1]),
            Some(host) => host.parse().map_err(|_| {
                SettingsError::new("HOST", format!("{host:?} is not an IP address"))
            })?,
        };
        let port = raw.number(&PORT)?;
        let public_url = public_url(raw.text("PUBLIC_URL"), host, port)?;
        // `/metrics` answers to loopback hosts, PUBLIC_URL's host and METRICS_HOSTS.
        let public_host = public_url.host_str().map(|host| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        });
        let metrics_hosts = host_names("METRICS_HOSTS", raw.text("METRICS_HOSTS"))?;
        let options = HttpSettings {
            cors_origins: origins(raw.text("CORS_ORIGINS"))?,
            shutdown_timeout: Duration::ZERO,
            trusted_proxies: networks("TRUSTED_PROXIES", raw.given("TRUSTED_PROXIES"), "")?,
            metrics_allow: networks(
                "METRICS_ALLOW",
                raw.given("METRICS_ALLOW"),
                "127.0.0.1/32,::1/128",
            )?,
            body_timeout: raw.seconds(&BODY_TIMEOUT_SECONDS)?,
            max_connections: raw.number(&MAX_CONNECTIONS)?,
            head_timeout: raw.seconds(&HEAD_TIMEOUT_SECONDS)?,
            keep_alive: raw.seconds(&KEEP_ALIVE_SECONDS)?,
            send_timeout: raw.seconds(&SEND_TIMEOUT_SECONDS)?,
            max_connections_per_address: raw.number(&MAX_CONNECTIONS_PER_ADDRESS)?,
            metrics_hosts: public_host.into_iter().chain(metrics_hosts).collect(),
            workers: 1,
            hsts_max_age_seconds: raw.optional(&HSTS_MAX_AGE_SECONDS)?,
        };
        Ok(Self {
            host,
            port,
            public_url,
            options,
        })
    }

    /// The server's options, with `max_connections` (fitted to the open-file limit),
    /// `workers` request threads and `shutdown_timeout` for requests in flight at a stop.
    #[must_use]
    pub fn server(
        &self,
        max_connections: usize,
        workers: usize,
        shutdown_timeout: Duration,
    ) -> HttpSettings {
        HttpSettings {
            max_connections,
            workers,
            shutdown_timeout,
            ..self.options.clone()
        }
    }
}

/// `PUBLIC_URL`: an `http` or `https` URL with a host; by default `http://{HOST}:{PORT}`.
fn public_url(text: Option<String>, host: IpAddr, port: u16) -> Result<url::Url, SettingsError> {
    let text = text.unwrap_or_else(|| match host {
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
        IpAddr::V4(v4) => format!("http://{v4}:{port}"),
    });
    let parsed = url::Url::parse(&text)
        .map_err(|e| SettingsError::new("PUBLIC_URL", format!("{text:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SettingsError::new(
            "PUBLIC_URL",
            format!("{text:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(parsed)
}

/// A comma-separated list of host names (`METRICS_HOSTS`), lower case, each one a valid
/// name or address.
fn host_names(name: &'static str, text: Option<String>) -> Result<Vec<String>, SettingsError> {
    text.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let valid = entry.len() <= 253
                && entry
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            if valid {
                Ok(entry.to_ascii_lowercase())
            } else {
                Err(SettingsError::new(
                    name,
                    format!("{entry:?} is not a host name"),
                ))
            }
        })
        .collect()
}

/// Comma-separated networks (`10.0.0.0/8`, `2001:db8::/32`); a bare address is a
/// network of one. An empty value is an empty list; an absent one is `default`.
fn networks(
    name: &'static str,
    given: Option<&str>,
    default: &str,
) -> Result<Networks, SettingsError> {
    given
        .unwrap_or(default)
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    SettingsError::new(
                        name,
                        format!("{text:?} is not a network like 10.0.0.0/8 or an IP address"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Networks::new)
}

fn origins(text: Option<String>) -> Result<Vec<String>, SettingsError> {
    let text = text.unwrap_or_else(|| "http://localhost:3000".to_owned());
    text.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| origin.trim_end_matches('/'))
        .map(|origin| {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') && !host.contains(' ') => {
                    Ok(origin.to_owned())
                }
                _ => Err(SettingsError::new(
                    "CORS_ORIGINS",
                    format!("{origin:?} is not an origin like https://app.example.com"),
                )),
            }
        })
        .collect()
}
