//! Mail: how accounts' mail is limited and how long its links work, the links queued by
//! the use cases, and the sender that delivers the queue (on every instance, each mail
//! once).

use std::sync::Arc;

use chrono::Duration;
use futures_util::future::join_all;
use tessera_domain::{
    EmailAddress, EmailVerification, MailId, MailKind, MailQuota, MailRetry, User,
};

use crate::error::Fault;
use crate::ports::{
    ClaimedMail, Clock, LinkRecord, LinkSecrets, MailStore, MailTransport, MailWake, OutgoingMail,
    QueuedMail,
};

/// How the mail of accounts is limited, and how long its links work.
#[derive(Debug, Clone, Copy)]
pub struct MailSettings {
    /// Mails per account per hour (`MAIL_PER_ACCOUNT_PER_HOUR`).
    pub quota: MailQuota,
    /// How long a reset link works (`RESET_TOKEN_TTL_SECONDS`).
    pub reset_ttl: Duration,
    /// How long a verification link works (`VERIFY_TOKEN_TTL_SECONDS`).
    pub verify_ttl: Duration,
    /// Whether signup sends a verification mail and signin waits for it
    /// (`EMAIL_VERIFICATION`).
    pub verification: EmailVerification,
}

impl MailSettings {
    /// How long a link of `kind` works; `None` for the kinds without a link.
    #[must_use]
    pub fn lifetime(&self, kind: MailKind) -> Option<Duration> {
        match kind {
            MailKind::ResetPassword => Some(self.reset_ttl),
            MailKind::VerifyEmail | MailKind::ConfirmEmailChange => Some(self.verify_ttl),
            MailKind::EmailChanged
            | MailKind::PasswordChanged
            | MailKind::MfaDisabled
            | MailKind::PasskeyAdded => None,
        }
    }
}

/// What the use cases need to queue mail: the link secrets, the settings, and the wake
/// of this instance's sender.
#[derive(Clone)]
pub struct Mailing {
    /// Makes, digests and seals link tokens.
    pub secrets: Arc<dyn LinkSecrets>,
    /// Quota, lifetimes, verification mode.
    pub settings: MailSettings,
    /// Called once a mail is queued.
    pub wake: Arc<dyn MailWake>,
}

/// A link mail and its link, ready to queue.
pub(crate) struct LinkMail {
    pub(crate) mail: QueuedMail,
    pub(crate) link: LinkRecord,
}

impl Mailing {
    /// A fresh link of `kind` for `user`, proving `email`, and the mail that carries it
    /// (its token sealed), both as of `now`.
    pub(crate) fn link_mail(
        &self,
        user: &User,
        kind: MailKind,
        email: &EmailAddress,
        now: chrono::DateTime<chrono::Utc>,
    ) -> LinkMail {
        let (token, digest) = self.secrets.issue();
        let id = MailId::new_random();
        let lifetime = self
            .settings
            .lifetime(kind)
            .unwrap_or(self.settings.verify_ttl);
        LinkMail {
            mail: QueuedMail {
                id,
                user_id: user.id,
                kind,
                to: email.clone(),
                sealed: Some(self.secrets.seal(id, &token)),
                queued_at: now,
            },
            link: LinkRecord {
                digest,
                user_id: user.id,
                purpose: kind,
                email: email.clone(),
                expires_at: now + lifetime,
            },
        }
    }
}

/// What one pass of the sender did, by mail kind, for the metrics.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Mails delivered.
    pub sent: Vec<MailKind>,
    /// Tries that failed, and why: the reason labels of [`crate::ports::SendError::reason`], and
    /// `expired` (retried for the whole window), `sealed` (a link no key opens) and
    /// `unrecorded` (sent or not, the outcome could not be stored: tried again later).
    pub failed: Vec<(MailKind, &'static str)>,
    /// Mails dropped for good among the failures.
    pub dropped: usize,
}

impl PassReport {
    /// Mails this pass handled.
    #[must_use]
    pub fn handled(&self) -> usize {
        self.sent.len() + self.failed.len()
    }
}

/// Delivers the queue: claims due mails (each to one sender across instances, for a
/// lease), opens their links, hands them to the transport, then deletes them once
/// delivered or dropped, or puts them back for a later try.
#[derive(Clone)]
pub struct MailSender {
    store: Arc<dyn MailStore>,
    transport: Arc<dyn MailTransport>,
    secrets: Arc<dyn LinkSecrets>,
    clock: Arc<dyn Clock>,
    settings: MailSettings,
    retry: MailRetry,
    public_url: String,
}

impl MailSender {
    /// How long a claim holds a mail: past the transport's longest try (30 s) twice over.
    pub const LEASE_SECONDS: i64 = 90;
    /// Most mails claimed, and tried at once, in one pass.
    pub const BATCH: u32 = 8;

    /// A sender of `store`'s queue through `transport`, links starting with
    /// `public_url`.
    #[must_use]
    pub fn new(
        store: Arc<dyn MailStore>,
        transport: Arc<dyn MailTransport>,
        secrets: Arc<dyn LinkSecrets>,
        clock: Arc<dyn Clock>,
        (settings, retry): (MailSettings, MailRetry),
        public_url: &str,
    ) -> Self {
        Self {
            store,
            transport,
            secrets,
            clock,
            settings,
            retry,
            public_url: public_url.to_owned(),
        }
    }

    /// Claims up to [`Self::BATCH`] due mails and tries each once, all at once.
    ///
    /// # Errors
    /// A fault of the storage when claiming; a failure to record one mail's outcome is
    /// logged, and the lease then frees that mail for a later pass.
    pub async fn pass(&self) -> Result<PassReport, Fault> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim(now, Duration::seconds(Self::LEASE_SECONDS), Self::BATCH)
            .await?;
        let outcomes = join_all(claimed.into_iter().map(|claimed| self.deliver(claimed))).await;
        let mut report = PassReport::default();
        for (kind, outcome) in outcomes {
            match outcome {
                Outcome::Sent => report.sent.push(kind),
                Outcome::Failed { reason, dropped } => {
                    report.failed.push((kind, reason));
                    report.dropped += usize::from(dropped);
                }
            }
        }
        Ok(report)
    }

    /// How many mails wait, across instances.
    ///
    /// # Errors
    /// A fault of the storage.
    pub async fn queued(&self) -> Result<u64, Fault> {
        Ok(self.store.queued().await?)
    }

    /// One try of one claimed mail, and its outcome recorded.
    async fn deliver(&self, claimed: ClaimedMail) -> (MailKind, Outcome) {
        let ClaimedMail {
            mail,
            failures,
            claim,
        } = claimed;
        let kind = mail.kind;
        let tried = match self.outgoing(&mail) {
            Some(outgoing) => self.transport.send(&outgoing).await.map_err(|error| {
                let retried = error.is_retried();
                (error.reason(), error.to_string(), retried)
            }),
            None => Err((
                "sealed",
                "no key opens its link (the token secret changed twice since)".to_owned(),
                false,
            )),
        };
        let recorded = match tried {
            Ok(()) => {
                tracing::info!(mail_id = %mail.id, kind = kind.as_str(), "mail delivered");
                self.store
                    .finish(mail.id, claim)
                    .await
                    .map(|()| Outcome::Sent)
            }
            Err((reason, why, retried)) => {
                let now = self.clock.now();
                let next = retried
                    .then(|| self.retry.next_try(failures + 1, mail.queued_at, now))
                    .flatten();
                if let Some(at) = next {
                    tracing::warn!(mail_id = %mail.id, kind = kind.as_str(), failures = failures + 1, retry_at = %at, error = %why, "mail not delivered; will retry");
                    self.store
                        .retry(mail.id, claim, at)
                        .await
                        .map(|()| Outcome::Failed {
                            reason,
                            dropped: false,
                        })
                } else {
                    // Retried for the whole window: dropped as expired.
                    let reason = if retried { "expired" } else { reason };
                    if reason != "off" {
                        tracing::warn!(mail_id = %mail.id, kind = kind.as_str(), failures = failures + 1, reason, error = %why, "mail dropped");
                    }
                    self.store
                        .finish(mail.id, claim)
                        .await
                        .map(|()| Outcome::Failed {
                            reason,
                            dropped: true,
                        })
                }
            }
        };
        match recorded {
            Ok(outcome) => (kind, outcome),
            Err(error) => {
                tracing::warn!(mail_id = %mail.id, kind = kind.as_str(), error = %error, "the outcome of a mail could not be stored; its claim lapses and it is tried again");
                (
                    kind,
                    Outcome::Failed {
                        reason: "unrecorded",
                        dropped: false,
                    },
                )
            }
        }
    }

    /// The mail as the transport takes it: its link opened and written out. `None` for
    /// a link kind whose sealed token no key opens.
    fn outgoing(&self, mail: &QueuedMail) -> Option<OutgoingMail> {
        let link = match (&mail.sealed, self.settings.lifetime(mail.kind)) {
            (Some(sealed), Some(lifetime)) => {
                let token = self.secrets.open(mail.id, sealed)?;
                Some((mail.kind.link(&self.public_url, &token)?, lifetime))
            }
            _ => None,
        };
        Some(OutgoingMail {
            id: mail.id,
            kind: mail.kind,
            to: mail.to.clone(),
            link,
            queued_at: mail.queued_at,
        })
    }
}

/// How one try ended.
enum Outcome {
    Sent,
    Failed { reason: &'static str, dropped: bool },
}
