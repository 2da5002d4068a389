//! Middleware that keeps every answer in the contract's shape.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{Error, HttpMessage, ResponseError, web};
use futures_util::{FutureExt, Stream};
use tracing::Instrument;

use crate::client::{MetricsAllow, UnreadableClient, client_address};
use crate::error::{ApiError, ErrorKind};
use crate::metrics::Metrics;

/// The request id header: taken from the request when it is a sane token, else generated.
pub const REQUEST_ID: &str = "x-request-id";

fn acceptable_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The security headers of every answer, as app data: built once from the settings.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    /// `Strict-Transport-Security`, when `HSTS_MAX_AGE_SECONDS` is set.
    pub hsts: Option<header::HeaderValue>,
}

impl SecurityHeaders {
    /// With HSTS for `hsts_max_age_seconds`, if given.
    #[must_use]
    pub fn new(hsts_max_age_seconds: Option<u64>) -> Self {
        Self {
            hsts: hsts_max_age_seconds
                .and_then(|age| header::HeaderValue::from_str(&format!("max-age={age}")).ok()),
        }
    }
}

/// The policy of the HTML pages (`/`, `/docs`): scripts, styles, images and requests
/// from this origin only, no inline script, no plugins, and no framing by anyone.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The policy of the API page (`/docs/`): the page policy, with the one `<style>` element
/// the bundled Swagger UI writes allowed by its hash (no other inline style, no inline
/// script). A new Swagger UI version may write another: the browser test of `/docs`
/// fails on any violation, and names the hash to put here.
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The policy of every other answer (JSON, text): nothing may run or load in it.
pub const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the headers every answer carries: `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: no-referrer`, a `Content-Security-Policy` (the page policy on HTML,
/// the data policy elsewhere), `Cache-Control: no-store` under `/api/`, and
/// `Strict-Transport-Security` when configured.
pub async fn security_headers<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    use header::{HeaderName, HeaderValue};
    let api = req.path().starts_with("/api/");
    let docs = req.path().starts_with("/docs");
    let hsts = req
        .app_data::<web::Data<SecurityHeaders>>()
        .and_then(|settings| settings.hsts.clone());
    let mut res = next.call(req).await?;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let policy = match (html, docs) {
        (true, true) => DOCS_POLICY,
        (true, false) => PAGE_POLICY,
        (false, _) => DATA_POLICY,
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    if html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(hsts) = hsts {
        headers.insert(HeaderName::from_static("strict-transport-security"), hsts);
    }
    Ok(res)
}

/// The largest request head (request line and headers) served: 32 KiB.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Refuses request heads over [`MAX_HEAD_BYTES`] with 431, and lets go of them at once.
///
/// actix accepts heads of up to 128 KiB, and keeps up to 128 finished request heads per
/// worker (twice: as heads and inside pooled requests) for reuse, headers included,
/// until each is reused. After a burst of connections with huge heads those pools would
/// hold hundreds of them, tens of MiB, for good. A refused head is emptied here, and
/// the heads that are served are small enough that the pools stay small.
pub async fn bound_head<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().path().len()
        + req.uri().query().map_or(0, str::len);
    if size <= MAX_HEAD_BYTES {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    // Nothing of the head is needed to refuse it; the URI, too, is a view into the
    // connection's read buffer, so it is replaced rather than kept.
    let root = actix_web::http::Uri::from_static("/");
    req.match_info_mut().get_mut().update(&root);
    let head = req.head_mut();
    head.headers.clear();
    head.uri = root;
    let mut response = ApiError::new(ErrorKind::HeadersTooLarge).error_response();
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(req.into_response(response).map_into_right_body())
}

/// One log line per request (method, route template, status, latency, request id), the
/// request metrics, and the `X-Request-Id` response header.
pub async fn request_log<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let started = std::time::Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    // Only the methods the API knows become label values: a client cannot mint series.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m.to_owned(),
        _ => "OTHER".to_owned(),
    };
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    // Every line logged while the request is handled (a server fault, a panic) carries
    // its request id through this span.
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut res = next.call(req).instrument(span).await?;
    // The template (`/api/{user_id}/tasks`), never the raw path: no ids in logs or labels.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Ok(value) = header::HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static(REQUEST_ID), value);
    }
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status, elapsed.as_secs_f64());
    }
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// How long a request body may take to arrive (`BODY_TIMEOUT_SECONDS`), as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A request body that has not fully arrived by its deadline ends in 408 and a closed
/// connection. The deadline runs from when the request head was read; the body is
/// wrapped so that whoever reads it (a JSON extractor, a raw read) sees an error at the
/// deadline instead of waiting for bytes that a stalled client never sends.
pub async fn body_deadline<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    // A request that declares no body has nothing to wait for: no timer for it.
    let declares_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    let timeout = req.app_data::<web::Data<BodyTimeout>>().map(|t| t.0);
    let Some(timeout) = timeout.filter(|_| declares_body) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let expired = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> =
        Box::pin(Deadline {
            inner: payload,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        });
    req.set_payload(Payload::from(stream));
    let res = next.call(req).await?;
    if !expired.get() {
        return Ok(res.map_into_left_body());
    }
    let (req, _) = res.into_parts();
    let mut response = ApiError::new(ErrorKind::RequestTimeout).error_response();
    // The rest of the body may still come, or never: this connection is done.
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}

/// A body stream that fails once its deadline passes.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body not received in time",
            )))));
        }
        Poll::Pending
    }
}

/// `/metrics` only for `METRICS_ALLOW` client addresses whose address could be read,
/// asking for a host it answers to; anyone else finds nothing.
pub async fn metrics_allowed(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let client = client_address(req.request());
    let readable = req.extensions().get::<UnreadableClient>().is_none();
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let allowed = readable
        && req
            .app_data::<web::Data<MetricsAllow>>()
            .is_some_and(|allow| allow.networks.contains(client.ip()) && allow.allows_host(host));
    if allowed {
        return next.call(req).await;
    }
    let response = ApiError::new(ErrorKind::RouteNotFound).error_response();
    Ok(req.into_response(response))
}

/// Turns a panic in a handler into the contract's 500, logged, instead of a dropped
/// connection.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(path = %request.match_pattern().unwrap_or_default(), "handler panicked");
            let response = ApiError::new(ErrorKind::Internal).error_response();
            Ok(ServiceResponse::new(request, response))
        }
    }
}

/// Rewrites error answers that the framework produced itself (unknown method, oversized
/// raw body, ...) into the contract's JSON shape. Answers that are already JSON pass.
pub fn error_shape<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let kind = ErrorKind::for_status(res.status());
        let (req, original) = res.into_parts();
        let mut response = ApiError::new(kind).error_response();
        // Keep what other layers added (CORS, Allow, ...), but not the old body's framing.
        for (name, value) in original.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    async fn boom() -> HttpResponse {
        panic!("a bug in a handler");
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_the_contracts_500() {
        let app = test::init_service(
            App::new().wrap(error_shape()).service(
                web::resource("/boom")
                    .wrap(actix_web::middleware::from_fn(catch_panic))
                    .route(web::get().to(boom)),
            ),
        )
        .await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/boom").to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(
            body,
            serde_json::json!({"error": "Something went wrong, please try again", "code": "internal"})
        );
    }

    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn a_fault_logged_while_handling_a_request_carries_its_request_id() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        // Global, not scoped to this thread: tracing caches each call site's interest
        // process-wide, and a scoped subscriber can miss an event whose interest another
        // test thread, with no subscriber, had cached first. No other test of this crate
        // installs a subscriber.
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            panic!("this test must own the global subscriber");
        }
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(request_log))
                .service(
                    web::resource("/boom")
                        .wrap(actix_web::middleware::from_fn(catch_panic))
                        .route(web::get().to(boom)),
                ),
        )
        .await;
        let request = test::TestRequest::get()
            .uri("/boom")
            .insert_header(("X-Request-Id", "trace-me-42"))
            .to_request();
        let res = test::call_service(&app, request).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let logs = String::from_utf8_lossy(
            &captured
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned();
        // Other tests panic in handlers too, outside any request span: look for this one's.
        let carried = logs.lines().any(|line| {
            line.contains("handler panicked") && line.contains("request_id=trace-me-42")
        });
        assert!(carried, "{logs}");
    }

    #[actix_web::test]
    async fn framework_errors_are_rewritten_into_the_json_shape() {
        let app = test::init_service(
            App::new()
                .wrap(error_shape())
                .service(web::resource("/only-get").route(web::get().to(HttpResponse::Ok))),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::delete().uri("/only-get").to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["code"], "method_not_allowed");
        assert_eq!(body["error"], "Method not allowed");
    }
}
