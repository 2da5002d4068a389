//! The per-address limit on password attempts, checked before the body is read, and the
//! `Retry-After` of every refusal.

use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use tessera_application::{Refusal, Throttle};

use crate::client::client_address;
use crate::error::ApiError;
use crate::metrics::{Metrics, SigninOutcome};

/// Whole seconds to announce in `Retry-After`: rounded up, at least one.
#[must_use]
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Routes that check a password: at most `AUTH_RATE_LIMIT_PER_MINUTE` attempts per
/// client address per minute, counted in the shared store before the body is read;
/// over it, 429 with `Retry-After`. Only `POST` and `DELETE` check a password on the
/// routes this guards (`GET`/`PATCH /api/auth/me` do not, and are not counted).
pub async fn rate_limited(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    use actix_web::http::Method;
    if !matches!(*req.method(), Method::POST | Method::DELETE) {
        return next.call(req).await;
    }
    let Some(throttle) = req.app_data::<web::Data<Throttle>>().cloned() else {
        return next.call(req).await;
    };
    let client = client_address(req.request());
    let refusal = match throttle.admit_address(client).await {
        Ok(()) => return next.call(req).await,
        Err(Refusal::Limited(wait)) => {
            if req.match_pattern().as_deref() == Some("/api/auth/signin")
                && let Some(metrics) = req.app_data::<web::Data<Metrics>>()
            {
                metrics.observe_signin(SigninOutcome::RateLimited);
            }
            ApiError::rate_limited(wait)
        }
        Err(Refusal::Fault(fault)) => ApiError::from(fault),
    };
    Ok(req.into_response(refusal.error_response()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(5_999)), 6);
        assert_eq!(retry_after_seconds(Duration::from_secs(6)), 6);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
