//! The use cases on the in-memory adapters and the real crypto adapters (bcrypt at its
//! lowest cost).

use std::sync::Arc;

use chrono::{Duration, Utc};
use std::num::NonZeroU32;
use tessera_application::ports::{Clock, MailWake, Pause};
use tessera_application::{
    AuthService, AuthSettings, AuthenticateError, Fault, MailSettings, Mailing, NewTask, Pruned,
    ResetError, Retention, SignIn, SignInError, SignOut, SignUp, SignUpError, Stores, TaskError,
    TaskService, TaskWriter, Throttle, ThrottleSettings, VerifyError,
};
use tessera_crypto::{BcryptHasher, JwtConfig, JwtTokens, LinkTokens};

use tessera_domain::{
    AccessToken, AccountLimits, AccountLockPolicy, ClientAddress, ClientInfo, EmailAddress,
    EmailKey, EmailVerification, LinkToken, MailQuota, PageQuery, Password, PasswordCandidate,
    SignOutScope, TaskChanges, TaskDescription, TaskId, TaskStatusFilter, TaskTitle, UserId,
    UserName,
};
use tessera_memory::{AlwaysReady, ManualClock, MemoryStore, UnavailableStore};

struct World {
    auth: AuthService,
    tasks: TaskService,
    clock: Arc<ManualClock>,
}

fn world_with(stores: &Stores) -> World {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let as_clock: Arc<dyn Clock> = clock.clone();
    World {
        auth: auth_at_cost(stores, as_clock.clone(), 4),
        tasks: TaskService::new(stores, as_clock, 10_000),
        clock,
    }
}

/// A write by `owner` from the loopback address.
fn writer(owner: UserId) -> TaskWriter {
    TaskWriter {
        owner,
        client: ClientAddress::new(std::net::IpAddr::from([127, 0, 0, 1])),
    }
}

/// Stores that cannot be reached (the counts and readiness kept in memory).
fn unreachable() -> Stores {
    let down = Arc::new(UnavailableStore);
    Stores {
        users: down.clone(),
        sessions: down.clone(),
        events: down.clone(),
        tasks: down,
        throttle: Arc::new(MemoryStore::new()),
        mail: Arc::new(MemoryStore::new()),
        readiness: Arc::new(AlwaysReady),
    }
}

/// The auth use cases with bcrypt at `cost`.
fn auth_at_cost(stores: &Stores, clock: Arc<dyn Clock>, cost: u32) -> AuthService {
    let tokens = Arc::new(JwtTokens::new(&JwtConfig {
        secret: "a-test-secret-that-is-32-bytes-long!".to_owned().into(),
        previous: None,
        issuer: "tessera".to_owned(),
        audience: "tessera".to_owned(),
    }));
    let hasher = match BcryptHasher::new(cost) {
        Ok(hasher) => Arc::new(hasher),
        Err(e) => panic!("hasher: {e}"),
    };
    AuthService::new(
        stores,
        hasher,
        (tokens.clone(), tokens),
        clock,
        (
            AuthSettings {
                token_ttl: Duration::days(7),
                limits: AccountLimits::DEFAULT,
            },
            mailing(),
        ),
    )
}

/// Mail as configured by default, its links sealed under the test secret; nothing wakes.
fn mailing() -> Mailing {
    struct NoWake;
    impl MailWake for NoWake {
        fn wake(&self) {}
    }
    Mailing {
        secrets: Arc::new(LinkTokens::new(
            &"a-test-secret-that-is-32-bytes-long!".to_owned().into(),
            None,
        )),
        settings: MailSettings {
            quota: MailQuota { per_hour: 5 },
            reset_ttl: Duration::minutes(30),
            verify_ttl: Duration::days(1),
            verification: EmailVerification::Optional,
        },
        wake: Arc::new(NoWake),
    }
}

fn world() -> World {
    world_with(&MemoryStore::new().stores())
}

/// A signup of values the HTTP edge accepts.
fn signup(name: &str, email: &str, password: &str) -> SignUp {
    match (
        UserName::parse(name),
        EmailAddress::parse(email),
        Password::parse(password),
    ) {
        (Ok(name), Ok(email), Ok(password)) => SignUp {
            name,
            email,
            password,
        },
        refused => panic!("an invalid signup: {refused:?}"),
    }
}

/// A signin of values the HTTP edge accepts.
fn signin(email: &str, password: &str) -> SignIn {
    match (EmailKey::parse(email), PasswordCandidate::parse(password)) {
        (Ok(email), Ok(password)) => SignIn { email, password },
        refused => panic!("an invalid signin: {refused:?}"),
    }
}

/// A signout with `token` (if any) of `scope`.
fn signout(token: Option<&AccessToken>, scope: SignOutScope) -> SignOut {
    SignOut {
        token: token.cloned(),
        scope,
    }
}

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn signup_normalises_and_issues_a_token_valid_for_the_ttl() -> TestResult {
    let w = world();
    let issued = w
        .auth
        .sign_up(
            signup("  Alice  ", " Alice@Example.COM ", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    assert_eq!(issued.user.name.as_str(), "Alice");
    assert_eq!(issued.user.email.as_str(), "alice@example.com");
    let caller = w.auth.authenticate(issued.token.as_str()).await?;
    assert_eq!(caller.principal.user_id, issued.user.id);
    assert_eq!(
        issued.expires_at.timestamp(),
        (w.clock.now() + Duration::days(7)).timestamp()
    );
    Ok(())
}

#[tokio::test]
async fn a_second_signup_with_the_same_email_in_any_case_is_refused() -> TestResult {
    let w = world();
    w.auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let again = w
        .auth
        .sign_up(
            signup("B", "A@EXAMPLE.com", "anotherpassword456"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(again, Err(SignUpError::EmailTaken)), "{again:?}");
    Ok(())
}

#[tokio::test]
async fn signin_refuses_unknown_emails_and_wrong_passwords_alike() -> TestResult {
    let w = world();
    w.auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let unknown = w
        .auth
        .sign_in(
            signin("b@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await;
    let wrong = w
        .auth
        .sign_in(
            signin("a@example.com", "securepassword124"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(unknown, Err(SignInError::InvalidCredentials)));
    assert!(matches!(wrong, Err(SignInError::InvalidCredentials)));
    let ok = w
        .auth
        .sign_in(
            signin(" A@Example.com ", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    assert_eq!(ok.user.email.as_str(), "a@example.com");
    Ok(())
}

#[tokio::test]
async fn signin_never_matches_a_password_longer_than_72_bytes() -> TestResult {
    let w = world();
    let password = "x".repeat(72);
    w.auth
        .sign_up(
            signup("A", "a@example.com", &password),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let longer = w
        .auth
        .sign_in(
            signin("a@example.com", &format!("{password}y")),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(longer, Err(SignInError::InvalidCredentials)));
    Ok(())
}

#[tokio::test]
async fn signin_rehashes_a_password_hashed_at_another_cost() -> TestResult {
    let store = MemoryStore::new().stores();
    let users = store.users.clone();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Utc::now()));
    let at_four = auth_at_cost(&store, clock.clone(), 4);
    at_four
        .sign_up(
            signup("Ann", "ann@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let stored_cost = async || {
        let found = users.find_credentials("ann@example.com").await;
        found
            .ok()
            .flatten()
            .map(|found| found.hash.as_str()[..7].to_owned())
    };
    assert_eq!(stored_cost().await.as_deref(), Some("$2b$04$"));

    let at_five = auth_at_cost(&store, clock, 5);
    // A wrong password changes nothing.
    let wrong = at_five
        .sign_in(
            signin("ann@example.com", "not-the-password"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(wrong, Err(SignInError::InvalidCredentials)));
    assert_eq!(stored_cost().await.as_deref(), Some("$2b$04$"));
    // The right one is re-hashed at the configured cost, and still signs in.
    at_five
        .sign_in(
            signin("ann@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    assert_eq!(stored_cost().await.as_deref(), Some("$2b$05$"));
    at_five
        .sign_in(
            signin("ANN@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    at_four
        .sign_in(
            signin("ann@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn signout_scopes_end_the_right_sessions() -> TestResult {
    let w = world();
    let first = w
        .auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let second = w
        .auth
        .sign_in(
            signin("a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    let third = w
        .auth
        .sign_in(
            signin("a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;

    w.auth
        .sign_out(
            signout(Some(&first.token), SignOutScope::Local),
            &ClientInfo::default(),
        )
        .await?;
    assert!(matches!(
        w.auth.authenticate(first.token.as_str()).await,
        Err(AuthenticateError::Revoked)
    ));
    assert!(w.auth.authenticate(second.token.as_str()).await.is_ok());

    w.auth
        .sign_out(
            signout(Some(&second.token), SignOutScope::Others),
            &ClientInfo::default(),
        )
        .await?;
    assert!(w.auth.authenticate(second.token.as_str()).await.is_ok());
    assert!(w.auth.authenticate(third.token.as_str()).await.is_err());

    w.auth
        .sign_out(
            signout(Some(&second.token), SignOutScope::Global),
            &ClientInfo::default(),
        )
        .await?;
    assert!(w.auth.authenticate(second.token.as_str()).await.is_err());
    Ok(())
}

#[tokio::test]
async fn signout_without_a_live_token_succeeds() -> TestResult {
    let w = world();
    w.auth
        .sign_out(SignOut::default(), &ClientInfo::default())
        .await?;
    w.auth
        .sign_out(
            signout(
                Some(&AccessToken::new("garbage".to_owned())),
                SignOutScope::Global,
            ),
            &ClientInfo::default(),
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_token_past_its_expiry_is_refused_as_expired() -> TestResult {
    let w = world();
    let issued = w
        .auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    // Issue a token that is already past its expiry by moving the clock back.
    w.clock.advance(Duration::days(-8));
    let old = w
        .auth
        .sign_in(
            signin("a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?;
    assert!(matches!(
        w.auth.authenticate(old.token.as_str()).await,
        Err(AuthenticateError::Expired)
    ));
    assert!(w.auth.authenticate(issued.token.as_str()).await.is_ok());
    Ok(())
}

async fn user(w: &World, email: &str) -> Result<UserId, Box<dyn std::error::Error>> {
    Ok(w.auth
        .sign_up(
            signup("U", email, "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?
        .user
        .id)
}

fn new_task(title: &str) -> NewTask {
    task_with(title, None)
}

/// A task of a valid title and description.
fn task_with(title: &str, description: Option<&str>) -> NewTask {
    match (
        TaskTitle::parse(title),
        TaskDescription::parse(description.unwrap_or_default()),
    ) {
        (Ok(title), Ok(description)) => NewTask { title, description },
        refused => panic!("an invalid task: {refused:?}"),
    }
}

#[tokio::test]
async fn tasks_of_another_owner_do_not_exist_for_the_caller() -> TestResult {
    let w = world();
    let alice = user(&w, "alice@example.com").await?;
    let bob = user(&w, "bob@example.com").await?;
    let task = w.tasks.create(writer(bob), new_task("Bob's")).await?;
    let id = task.id;

    assert!(matches!(
        w.tasks.get(alice, id).await,
        Err(TaskError::NotFound)
    ));
    assert!(matches!(
        w.tasks.toggle(writer(alice), id).await,
        Err(TaskError::NotFound)
    ));
    assert!(matches!(
        w.tasks.delete(writer(alice), id).await,
        Err(TaskError::NotFound)
    ));
    assert!(matches!(
        w.tasks
            .update(
                writer(alice),
                id,
                &TaskChanges {
                    completed: Some(true),
                    ..TaskChanges::default()
                }
            )
            .await,
        Err(TaskError::NotFound)
    ));
    assert_eq!(w.tasks.get(bob, id).await?, task);
    assert_eq!(w.tasks.list(alice, PageQuery::default()).await?.total, 0);
    Ok(())
}

#[tokio::test]
async fn listing_filters_pages_and_counts() -> TestResult {
    let w = world();
    let owner = user(&w, "a@example.com").await?;
    for n in 0..5 {
        w.clock.advance(Duration::seconds(1));
        let task = w
            .tasks
            .create(writer(owner), new_task(&format!("task {n}")))
            .await?;
        if n % 2 == 0 {
            w.tasks.toggle(writer(owner), task.id).await?;
        }
    }
    let query = |status, limit, offset| PageQuery {
        status,
        limit,
        offset,
    };
    let all = w.tasks.list(owner, PageQuery::default()).await?;
    let titles: Vec<_> = all.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["task 4", "task 3", "task 2", "task 1", "task 0"]);
    let done = w
        .tasks
        .list(owner, query(TaskStatusFilter::Completed, 1, 1))
        .await?;
    assert_eq!(done.total, 3);
    assert_eq!(done.tasks.len(), 1);
    assert_eq!(done.tasks[0].title.as_str(), "task 2");
    assert_eq!(
        w.tasks
            .list(owner, query(TaskStatusFilter::Pending, 500, 0))
            .await?
            .total,
        2
    );

    Ok(())
}

#[tokio::test]
async fn replace_keeps_completion_unless_given_and_clears_an_absent_description() -> TestResult {
    let w = world();
    let owner = user(&w, "a@example.com").await?;
    let task = w
        .tasks
        .create(writer(owner), task_with("T", Some("  D  ")))
        .await?;
    assert_eq!(task.description.as_ref().map(|d| d.as_str()), Some("D"));
    let task = w.tasks.toggle(writer(owner), task.id).await?;
    w.clock.advance(Duration::seconds(1));
    let replaced = w
        .tasks
        .update(
            writer(owner),
            task.id,
            &TaskChanges {
                title: TaskTitle::parse("New").ok(),
                description: Some(None),
                completed: None,
            },
        )
        .await?;
    assert_eq!(replaced.title.as_str(), "New");
    assert_eq!(replaced.description, None);
    assert!(replaced.completed);
    assert!(replaced.updated_at > task.updated_at);
    Ok(())
}

#[tokio::test]
async fn patch_null_description_clears_it() -> TestResult {
    let w = world();
    let owner = user(&w, "a@example.com").await?;
    let task = w
        .tasks
        .create(writer(owner), task_with("T", Some("D")))
        .await?;
    let cleared = w
        .tasks
        .update(
            writer(owner),
            task.id,
            &TaskChanges {
                description: Some(None),
                ..TaskChanges::default()
            },
        )
        .await?;
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.title, task.title);
    Ok(())
}

#[tokio::test]
async fn a_task_id_of_no_task_is_not_found() {
    let w = world();
    let owner = UserId::new_random();
    assert!(matches!(
        w.tasks.get(owner, TaskId::new(999)).await,
        Err(TaskError::NotFound)
    ));
}

/// Held attempts wait on tokio's timer.
struct TokioPause;

#[async_trait::async_trait]
impl Pause for TokioPause {
    async fn pause(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

fn throttled(w: World, limit: u32) -> (AuthService, Arc<ManualClock>) {
    let limits = ThrottleSettings {
        per_address: None,
        per_account: NonZeroU32::new(limit).map(|limit| AccountLockPolicy::new(limit, 60)),
        ..ThrottleSettings::default()
    };
    let clock: Arc<dyn Clock> = w.clock.clone();
    let throttle = Throttle::new(
        Arc::new(MemoryStore::new()),
        clock,
        Arc::new(TokioPause),
        limits,
    );
    (w.auth.with_throttle(throttle), w.clock)
}

#[tokio::test]
async fn signin_waits_after_repeated_failures_and_a_success_resets_the_count() -> TestResult {
    let w = world();
    w.auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let (auth, clock) = throttled(w, 2);
    for _ in 0..2 {
        let wrong = auth
            .sign_in(
                signin("A@example.com", "wrong-password"),
                &ClientInfo::default(),
            )
            .await;
        assert!(matches!(wrong, Err(SignInError::InvalidCredentials)));
    }
    // Locked for a second, even with the right password, whatever the email's case.
    let locked = auth
        .sign_in(
            signin("a@EXAMPLE.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await;
    assert!(
        matches!(locked, Err(SignInError::Throttled(wait)) if wait == std::time::Duration::from_secs(1)),
        "{locked:?}"
    );
    clock.advance(Duration::seconds(1));
    auth.sign_in(
        signin("a@example.com", "securepassword123"),
        &ClientInfo::default(),
    )
    .await?;
    // The success reset the count.
    let wrong = auth
        .sign_in(
            signin("a@example.com", "wrong-password"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(wrong, Err(SignInError::InvalidCredentials)));
    auth.sign_in(
        signin("a@example.com", "securepassword123"),
        &ClientInfo::default(),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_signin_the_store_could_not_check_does_not_count_against_the_account() -> TestResult {
    let (auth, _) = throttled(world_with(&unreachable()), 1);
    for _ in 0..3 {
        let signin = auth
            .sign_in(
                signin("a@example.com", "whatever-it-is"),
                &ClientInfo::default(),
            )
            .await;
        assert!(
            matches!(signin, Err(SignInError::Fault(Fault::Unavailable(_)))),
            "{signin:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn an_unreachable_store_is_reported_as_unavailable() {
    let w = world_with(&unreachable());
    let signup = w
        .auth
        .sign_up(
            signup("A", "a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(
        signup,
        Err(SignUpError::Fault(Fault::Unavailable(_)))
    ));
    let signin = w
        .auth
        .sign_in(
            signin("a@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await;
    assert!(matches!(
        signin,
        Err(SignInError::Fault(Fault::Unavailable(_)))
    ));
    let list = w
        .tasks
        .list(UserId::new_random(), PageQuery::default())
        .await;
    assert!(matches!(list, Err(TaskError::Fault(Fault::Unavailable(_)))));
}

#[tokio::test]
async fn retention_deletes_sessions_and_events_only_once_past_the_period() -> TestResult {
    let store = MemoryStore::new();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let as_clock: Arc<dyn Clock> = clock.clone();
    let store = store.stores();
    let auth = auth_at_cost(&store, as_clock.clone(), 4);
    let issued = auth
        .sign_up(
            signup("Ret", "ret@example.com", "securepassword123"),
            &ClientInfo::default(),
        )
        .await?
        .into_session()
        .ok_or("signup opened no session")?;
    let retention = Retention::new(
        store.sessions.clone(),
        store.events.clone(),
        as_clock,
        AccountLimits::DEFAULT,
    );
    // The signup event is kept 30 days; the session, which expires after 7, 30 more.
    clock.advance(Duration::days(29));
    assert_eq!(retention.run().await?, Pruned::default());
    clock.advance(Duration::days(2));
    let events_only = Pruned {
        sessions: 0,
        events: 1,
    };
    assert_eq!(retention.run().await?, events_only);
    clock.advance(Duration::days(7));
    let sessions_only = Pruned {
        sessions: 1,
        events: 0,
    };
    assert_eq!(retention.run().await?, sessions_only);
    assert!(matches!(
        auth.authenticate(issued.token.as_str()).await,
        Err(AuthenticateError::Expired | AuthenticateError::Revoked)
    ));
    assert_eq!(retention.run().await?, Pruned::default());
    Ok(())
}

/// The token of the newest queued mail of `kind`, opened as the sender would.
async fn queued_token(stores: &Stores, w: &World, kind: tessera_domain::MailKind) -> LinkToken {
    let claimed = stores
        .mail
        .claim(w.clock.now(), Duration::minutes(1), 100)
        .await
        .unwrap_or_else(|e| panic!("claim: {e}"));
    let mail = claimed
        .iter()
        .rev()
        .find(|claimed| claimed.mail.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} mail queued"));
    let sealed = mail.mail.sealed.as_deref().unwrap_or_default();
    mailing()
        .secrets
        .open(mail.mail.id, sealed)
        .unwrap_or_else(|| panic!("the test secret opens the link"))
}

#[tokio::test]
async fn a_reset_link_works_within_its_lifetime_and_never_after() -> TestResult {
    for (after, works) in [
        (Duration::minutes(29), true),
        (Duration::minutes(31), false),
    ] {
        let stores = MemoryStore::new().stores();
        let w = world_with(&stores);
        w.auth
            .sign_up(
                signup("Rita", "rita@example.com", "securepassword123"),
                &ClientInfo::default(),
            )
            .await?;
        w.auth
            .recovery()
            .request_reset(
                &EmailKey::parse("rita@example.com")?,
                &ClientInfo::default(),
            )
            .await?;
        let token = queued_token(&stores, &w, tessera_domain::MailKind::ResetPassword).await;
        w.clock.advance(after);
        let reset = w
            .auth
            .recovery()
            .reset(
                &token,
                &Password::parse("anotherpassword456")?,
                &ClientInfo::default(),
            )
            .await;
        assert_eq!(reset.is_ok(), works, "after {after}: {reset:?}");
        if !works {
            assert!(matches!(reset, Err(ResetError::InvalidLink)));
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_verification_link_works_within_its_lifetime_and_never_after() -> TestResult {
    for (after, works) in [(Duration::hours(23), true), (Duration::hours(25), false)] {
        let stores = MemoryStore::new().stores();
        let w = world_with(&stores);
        w.auth
            .sign_up(
                signup("Vic", "vic@example.com", "securepassword123"),
                &ClientInfo::default(),
            )
            .await?;
        let token = queued_token(&stores, &w, tessera_domain::MailKind::VerifyEmail).await;
        w.clock.advance(after);
        let verified = w
            .auth
            .recovery()
            .verify(&token, &ClientInfo::default())
            .await;
        assert_eq!(verified.is_ok(), works, "after {after}: {verified:?}");
        if let Ok(user) = verified {
            assert!(user.email_verified);
        } else {
            assert!(matches!(verified, Err(VerifyError::InvalidLink)));
        }
    }
    Ok(())
}
