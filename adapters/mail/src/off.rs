//! No delivery: mail is off (no `SMTP_URL`, not in development mode).

use async_trait::async_trait;
use tessera_application::ports::{MailTransport, OutgoingMail, SendError};

/// Refuses every mail as [`SendError::Off`]: the sender drops it unsent. The routes
/// answer as they would with mail on.
#[derive(Debug, Clone, Copy, Default)]
pub struct MailOff;

#[async_trait]
impl MailTransport for MailOff {
    async fn send(&self, _: &OutgoingMail) -> Result<(), SendError> {
        Err(SendError::Off)
    }
}
