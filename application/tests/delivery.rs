//! The mail sender on the in-memory store, a scripted transport and a clock the tests
//! move: what it hands the transport, and what it does after each kind of answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use tessera_application::ports::{
    Clock, LinkRecord, LinkSecrets, MailStore, MailTransport, OutgoingMail, QueuedMail, SendError,
    UserRepository,
};
use tessera_application::{MailSender, MailSettings, PassReport};
use tessera_crypto::LinkTokens;
use tessera_domain::{
    EmailAddress, EmailVerification, MailId, MailKind, MailQuota, MailRetry, NewUser, PasswordHash,
    User, UserId, UserName,
};
use tessera_memory::{ManualClock, MemoryStore};

const SECRET: &str = "a-test-secret-that-is-32-bytes-long!";

/// Answers each send with the next scripted result (then `Ok`), and keeps what it got.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<(), SendError>>>,
    sent: Mutex<Vec<OutgoingMail>>,
}

impl Scripted {
    fn answering(answers: impl IntoIterator<Item = Result<(), SendError>>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into_iter().collect()),
            sent: Mutex::default(),
        })
    }

    fn sent(&self) -> Vec<OutgoingMail> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl MailTransport for Scripted {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or(Ok(()))
    }
}

struct Setup {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    links: Arc<LinkTokens>,
    owner: User,
}

fn settings() -> MailSettings {
    MailSettings {
        quota: MailQuota { per_hour: 100 },
        reset_ttl: Duration::minutes(30),
        verify_ttl: Duration::days(1),
        verification: EmailVerification::Optional,
    }
}

async fn setup() -> Setup {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let now = clock.now();
    let owner = User {
        id: UserId::new_random(),
        email: EmailAddress::from_trusted("owner@example.com".to_owned()),
        name: UserName::from_trusted("Owner".to_owned()),
        email_verified: false,
        created_at: now,
        updated_at: now,
    };
    let new = NewUser {
        user: owner.clone(),
        password_hash: PasswordHash::new(format!("$2b$04${}", "a".repeat(53))),
    };
    if let Err(e) = store.insert(&new, None, None).await {
        panic!("insert: {e}");
    }
    Setup {
        store,
        clock,
        links: Arc::new(LinkTokens::new(&SECRET.to_owned().into(), None)),
        owner,
    }
}

impl Setup {
    fn sender(&self, transport: Arc<dyn MailTransport>, secrets: Arc<LinkTokens>) -> MailSender {
        MailSender::new(
            self.store.clone(),
            transport,
            secrets,
            self.clock.clone(),
            (
                settings(),
                MailRetry {
                    window: Duration::hours(1),
                },
            ),
            "https://tessera.example",
        )
    }

    /// Queues a reset link mail; returns its token's text.
    async fn queue_reset(&self) -> String {
        let (token, digest) = self.links.issue();
        let now = self.clock.now();
        let id = MailId::new_random();
        let mail = QueuedMail {
            id,
            user_id: self.owner.id,
            kind: MailKind::ResetPassword,
            to: self.owner.email.clone(),
            sealed: Some(self.links.seal(id, &token)),
            queued_at: now,
        };
        let link = LinkRecord {
            digest,
            user_id: self.owner.id,
            purpose: MailKind::ResetPassword,
            email: self.owner.email.clone(),
            expires_at: now + Duration::minutes(30),
        };
        match self
            .store
            .queue(&mail, Some(&link), settings().quota, now)
            .await
        {
            Ok(Ok(())) => token.as_str().to_owned(),
            other => panic!("queue: {other:?}"),
        }
    }

    async fn waiting(&self) -> u64 {
        self.store.queued().await.unwrap_or_else(|e| panic!("{e}"))
    }
}

async fn pass(sender: &MailSender) -> PassReport {
    sender.pass().await.unwrap_or_else(|e| panic!("pass: {e}"))
}

#[tokio::test]
async fn a_delivered_mail_carries_its_opened_link_and_leaves_the_queue() {
    let s = setup().await;
    let token = s.queue_reset().await;
    let transport = Scripted::answering([]);
    let sender = s.sender(transport.clone(), s.links.clone());
    let report = pass(&sender).await;
    assert_eq!(report.sent, vec![MailKind::ResetPassword]);
    let sent = transport.sent();
    assert_eq!(sent.len(), 1);
    let (link, lifetime) = sent[0].link.clone().unwrap_or_else(|| panic!("a link"));
    assert_eq!(
        link.as_str(),
        format!("https://tessera.example/#/reset-password?token={token}")
    );
    assert_eq!(lifetime, Duration::minutes(30));
    assert_eq!(s.waiting().await, 0);
    assert_eq!(pass(&sender).await, PassReport::default());
}

#[tokio::test]
async fn a_temporary_failure_is_tried_again_after_a_growing_wait() {
    let s = setup().await;
    s.queue_reset().await;
    let refused = || Err(SendError::Temporary("451".to_owned()));
    let transport = Scripted::answering([refused(), refused()]);
    let sender = s.sender(transport.clone(), s.links.clone());
    assert_eq!(
        pass(&sender).await.failed,
        vec![(MailKind::ResetPassword, "temporary")]
    );
    // Due again after a second, not before.
    assert_eq!(pass(&sender).await.handled(), 0);
    s.clock.advance(Duration::seconds(1));
    assert_eq!(pass(&sender).await.failed.len(), 1);
    // Then after two.
    s.clock.advance(Duration::seconds(1));
    assert_eq!(pass(&sender).await.handled(), 0);
    s.clock.advance(Duration::seconds(1));
    assert_eq!(pass(&sender).await.sent, vec![MailKind::ResetPassword]);
    assert_eq!(transport.sent().len(), 3);
    // Each try is the same mail (one Message-ID).
    let ids: Vec<MailId> = transport.sent().iter().map(|mail| mail.id).collect();
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
}

#[tokio::test]
async fn a_mail_still_failing_when_its_window_ends_is_dropped_as_expired() {
    let s = setup().await;
    s.queue_reset().await;
    let transport =
        Scripted::answering((0..100).map(|_| Err(SendError::Unreachable("down".to_owned()))));
    let sender = s.sender(transport.clone(), s.links.clone());
    let mut last = PassReport::default();
    for _ in 0..100 {
        let report = pass(&sender).await;
        if report.dropped > 0 {
            last = report;
            break;
        }
        s.clock.advance(Duration::seconds(300));
    }
    assert_eq!(last.failed, vec![(MailKind::ResetPassword, "expired")]);
    assert_eq!(s.waiting().await, 0);
    // Tried all along the hour, at most five minutes apart.
    assert!(transport.sent().len() >= 12, "{}", transport.sent().len());
}

#[tokio::test]
async fn a_permanent_refusal_drops_the_mail_at_once() {
    let s = setup().await;
    s.queue_reset().await;
    let transport = Scripted::answering([Err(SendError::Permanent("550".to_owned()))]);
    let sender = s.sender(transport.clone(), s.links.clone());
    let report = pass(&sender).await;
    assert_eq!(report.failed, vec![(MailKind::ResetPassword, "permanent")]);
    assert_eq!(report.dropped, 1);
    assert_eq!(s.waiting().await, 0);
}

#[tokio::test]
async fn a_link_no_key_opens_is_dropped_unsent() {
    let s = setup().await;
    s.queue_reset().await;
    let transport = Scripted::answering([]);
    let other = Arc::new(LinkTokens::new(
        &"another-secret-that-is-32-bytes-long".to_owned().into(),
        None,
    ));
    let sender = s.sender(transport.clone(), other);
    let report = pass(&sender).await;
    assert_eq!(report.failed, vec![(MailKind::ResetPassword, "sealed")]);
    assert!(transport.sent().is_empty());
    assert_eq!(s.waiting().await, 0);
}

#[tokio::test]
async fn a_link_sealed_under_the_previous_secret_still_goes_out() {
    let s = setup().await;
    let token = s.queue_reset().await;
    let transport = Scripted::answering([]);
    let rotated = Arc::new(LinkTokens::new(
        &"the-next-secret-that-is-32-bytes-long".to_owned().into(),
        Some(&SECRET.to_owned().into()),
    ));
    let sender = s.sender(transport.clone(), rotated);
    assert_eq!(pass(&sender).await.sent.len(), 1);
    let link = transport.sent()[0]
        .link
        .clone()
        .unwrap_or_else(|| panic!("a link"))
        .0;
    assert!(link.as_str().ends_with(&token), "{link:?}");
}

#[tokio::test]
async fn with_mail_off_each_mail_is_dropped_unsent() {
    let s = setup().await;
    s.queue_reset().await;
    let transport = Scripted::answering([Err(SendError::Off)]);
    let sender = s.sender(transport, s.links.clone());
    let report = pass(&sender).await;
    assert_eq!(report.failed, vec![(MailKind::ResetPassword, "off")]);
    assert_eq!(s.waiting().await, 0);
}
