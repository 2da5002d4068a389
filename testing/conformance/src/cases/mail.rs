//! `MailStore`: the queue that loses nothing and hands each mail to one sender, the
//! one-time links, the per-account quota.

use tessera_application::ports::{ClaimedMail, LinkRecord, MailStore, QueuedMail};
use tessera_domain::{ClaimId, MailId, MailKind, MailQuota, TokenDigest};

use super::*;

/// A quota no case reaches unless it means to.
const ROOMY: MailQuota = MailQuota { per_hour: 1000 };

fn link(user_id: UserId, purpose: MailKind, expires_at: DateTime<Utc>) -> LinkRecord {
    let mut digest = [0_u8; 32];
    digest[..16].copy_from_slice(SessionId::new_random().as_uuid().as_bytes());
    LinkRecord {
        digest: TokenDigest(digest),
        user_id,
        purpose,
        email: EmailAddress::from_trusted(unique_email("proved")),
        expires_at,
    }
}

async fn queue(store: &dyn MailStore, mail: &QueuedMail, link: Option<&LinkRecord>) {
    let queued = ok(
        store.queue(mail, link, ROOMY, mail.queued_at).await,
        "queue",
    );
    assert_eq!(queued, Ok(()), "a roomy quota refused a mail");
}

async fn claim(store: &dyn MailStore, at: DateTime<Utc>) -> Vec<ClaimedMail> {
    ok(store.claim(at, Duration::minutes(2), 100).await, "claim")
}

/// A queued mail comes back whole from one claim, to no second one while held, and is gone once finished.
pub async fn a_queued_mail_is_claimed_once_then_finished_and_gone(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let queued = mail(owner, MailKind::PasswordChanged, at);
    queue(&*store, &queued, None).await;
    assert_eq!(ok(store.queued().await, "count"), 1);

    let claimed = claim(&*store, at).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].mail, queued, "the mail comes back as queued");
    assert_eq!(claimed[0].failures, 0);
    assert!(
        claim(&*store, at).await.is_empty(),
        "a held mail is claimed once"
    );

    ok(store.finish(queued.id, claimed[0].claim).await, "finish");
    assert_eq!(ok(store.queued().await, "count"), 0);
    let later = at + Duration::hours(1);
    assert!(
        claim(&*store, later).await.is_empty(),
        "a finished mail is gone"
    );
}

/// Claims at once, from any number of senders, hand each mail to one of them.
pub async fn concurrent_claims_never_hand_out_one_mail_twice(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    for _ in 0..20 {
        queue(&*store, &mail(owner, MailKind::EmailChanged, at), None).await;
    }
    let claims = (0..8).map(|_| {
        let store = store.clone();
        async move { store.claim(at, Duration::minutes(2), 3).await }
    });
    let mut ids: Vec<MailId> = join_all(claims)
        .await
        .into_iter()
        .flat_map(|claimed| ok(claimed, "claim"))
        .map(|claimed| claimed.mail.id)
        .collect();
    let handed = ids.len();
    ids.sort_by_key(ToString::to_string);
    ids.dedup();
    assert_eq!(ids.len(), handed, "a mail was handed to two claims");
    assert_eq!(handed, 20, "eight claims of three take all twenty");
}

/// A claim holds its mail for its lease; past it the mail goes to the next claim, and the
/// stale claim can neither finish nor release it.
pub async fn a_claim_past_its_lease_frees_the_mail_and_loses_its_hold(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let queued = mail(owner, MailKind::PasswordChanged, at);
    queue(&*store, &queued, None).await;
    let first = ok(store.claim(at, Duration::seconds(30), 10).await, "claim");
    assert_eq!(first.len(), 1);
    assert!(
        ok(
            store
                .claim(at + Duration::seconds(29), Duration::seconds(30), 10)
                .await,
            "claim"
        )
        .is_empty(),
        "held within the lease"
    );
    let second = ok(
        store
            .claim(at + Duration::seconds(31), Duration::seconds(30), 10)
            .await,
        "claim",
    );
    assert_eq!(second.len(), 1, "a lease that ran out frees the mail");

    // The first holder finishes late: its claim no longer holds the mail.
    ok(store.finish(queued.id, first[0].claim).await, "finish");
    ok(
        store.retry(queued.id, ClaimId::new_random(), at).await,
        "retry",
    );
    assert_eq!(
        ok(store.queued().await, "count"),
        1,
        "a stale claim changed the mail"
    );
    ok(store.finish(queued.id, second[0].claim).await, "finish");
    assert_eq!(ok(store.queued().await, "count"), 0);
}

/// A released mail is due again at the time given, with one failure more and its sealed
/// token kept.
pub async fn a_retried_mail_is_due_at_its_time_with_one_failure_more(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let queued = mail(owner, MailKind::ResetPassword, at);
    queue(
        &*store,
        &queued,
        Some(&link(
            owner,
            MailKind::ResetPassword,
            at + Duration::hours(1),
        )),
    )
    .await;
    let claimed = claim(&*store, at).await;
    let again = at + Duration::seconds(8);
    ok(
        store.retry(queued.id, claimed[0].claim, again).await,
        "retry",
    );
    assert!(
        claim(&*store, again - Duration::seconds(1))
            .await
            .is_empty(),
        "not due yet"
    );
    let retried = claim(&*store, again).await;
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].failures, 1);
    assert_eq!(
        retried[0].mail.sealed, queued.sealed,
        "the sealed token is kept"
    );
}

/// A link is found until it expires; a newer link of its purpose voids it, one of another
/// purpose does not.
pub async fn a_link_works_until_it_expires_and_a_newer_one_of_its_purpose_voids_it(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let until = at + Duration::minutes(30);
    let older = link(owner, MailKind::ResetPassword, until);
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&older),
    )
    .await;
    assert_eq!(
        ok(store.find_link(&older.digest, at).await, "find"),
        Some(older.clone())
    );
    assert_eq!(
        ok(store.find_link(&older.digest, until).await, "find"),
        None,
        "expired"
    );

    let verify = link(owner, MailKind::VerifyEmail, until);
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, at),
        Some(&verify),
    )
    .await;
    // A minute on, as the quota allows one link of a kind a minute.
    let newer = link(owner, MailKind::ResetPassword, until);
    let minute = at + Duration::minutes(1);
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, minute),
        Some(&newer),
    )
    .await;
    assert_eq!(
        ok(store.find_link(&older.digest, at).await, "find"),
        None,
        "voided"
    );
    assert!(ok(store.find_link(&newer.digest, at).await, "find").is_some());
    assert!(
        ok(store.find_link(&verify.digest, at).await, "find").is_some(),
        "a link of another purpose stays"
    );
}

/// Over the quota, `queue` returns the wait and stores neither mail nor link; notices are
/// never refused but count toward the hour; the quota is per account.
pub async fn the_quota_refuses_with_its_wait_and_stores_nothing(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let quota = MailQuota { per_hour: 2 };
    let first = link(owner, MailKind::ResetPassword, at + Duration::minutes(30));
    let queued = ok(
        store
            .queue(
                &mail(owner, MailKind::ResetPassword, at),
                Some(&first),
                quota,
                at,
            )
            .await,
        "queue",
    );
    assert_eq!(queued, Ok(()));

    let second = link(owner, MailKind::ResetPassword, at + Duration::minutes(30));
    let soon = at + Duration::seconds(10);
    let refused = ok(
        store
            .queue(
                &mail(owner, MailKind::ResetPassword, soon),
                Some(&second),
                quota,
                soon,
            )
            .await,
        "queue",
    );
    assert_eq!(
        refused,
        Err(Duration::seconds(50)),
        "one link of a kind a minute"
    );
    assert_eq!(ok(store.queued().await, "count"), 1, "nothing was queued");
    assert!(
        ok(store.find_link(&first.digest, soon).await, "find").is_some(),
        "the first stays"
    );
    assert_eq!(
        ok(store.find_link(&second.digest, soon).await, "find"),
        None
    );

    // A notice is never refused, and it counts toward the hour.
    let notice = mail(owner, MailKind::PasswordChanged, soon);
    assert_eq!(
        ok(store.queue(&notice, None, quota, soon).await, "queue"),
        Ok(())
    );
    let later = at + Duration::minutes(5);
    let over = ok(
        store
            .queue(
                &mail(owner, MailKind::VerifyEmail, later),
                None,
                quota,
                later,
            )
            .await,
        "queue",
    );
    assert_eq!(
        over,
        Err(Duration::minutes(55)),
        "two mails in the hour already"
    );

    let other = user(&stores).await;
    let theirs = ok(
        store
            .queue(
                &mail(other, MailKind::VerifyEmail, later),
                None,
                quota,
                later,
            )
            .await,
        "queue",
    );
    assert_eq!(theirs, Ok(()), "the quota is per account");
}

/// Mail for an account that does not exist is `NotFound` and queues nothing.
pub async fn mail_for_an_account_that_does_not_exist_is_not_found(stores: Stores) {
    let store = stores.mail.clone();
    let at = now();
    let stray = mail(UserId::new_random(), MailKind::PasswordChanged, at);
    assert!(matches!(
        store.queue(&stray, None, ROOMY, at).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(ok(store.queued().await, "count"), 0);
}

/// Deleting an account drops its links and queued mail, and only its own.
pub async fn deleting_an_account_drops_its_links_and_mail(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let kept = user(&stores).await;
    let at = now();
    let theirs = link(owner, MailKind::VerifyEmail, at + Duration::days(1));
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, at),
        Some(&theirs),
    )
    .await;
    queue(&*store, &mail(kept, MailKind::PasswordChanged, at), None).await;
    ok(stores.users.delete(owner).await, "delete");
    assert_eq!(ok(store.find_link(&theirs.digest, at).await, "find"), None);
    let left = claim(&*store, at).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].mail.user_id, kept);
}

/// Pruning deletes expired links within its batch, and never a queued mail.
pub async fn pruning_deletes_expired_links_within_its_batch(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let live = link(owner, MailKind::VerifyEmail, at + Duration::days(1));
    let dead = link(owner, MailKind::ResetPassword, at + Duration::minutes(1));
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, at),
        Some(&live),
    )
    .await;
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&dead),
    )
    .await;
    let later = at + Duration::minutes(2);
    assert_eq!(
        ok(store.prune(later, 1).await, "prune"),
        1,
        "the one expired link"
    );
    assert!(ok(store.find_link(&live.digest, later).await, "find").is_some());
    assert_eq!(
        ok(store.queued().await, "count"),
        2,
        "pruning never drops queued mail"
    );
}

fn reset_hash() -> PasswordHash {
    PasswordHash::new("$2b$04$9876543210987654321098uWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW".to_owned())
}

/// A reset through a live reset link replaces the password (its version moves on), ends
/// every session, stores the new one, proves the address, voids the link and queues the
/// notice, all at once.
pub async fn a_reset_through_its_link_changes_everything_it_promises_at_once(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("reset"));
    let owner = new.user.id;
    ok(
        stores
            .users
            .insert(&new, Some(&first_session(owner)), None)
            .await,
        "insert",
    );
    let at = now();
    let reset = link(owner, MailKind::ResetPassword, at + Duration::minutes(30));
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&reset),
    )
    .await;
    let session = first_session(owner);
    let notice = mail(owner, MailKind::PasswordChanged, at);
    let user = ok(
        store
            .reset_password(&reset.digest, &reset_hash(), &session, &notice, at)
            .await,
        "reset",
    );
    assert!(
        user.email_verified,
        "a reset through a link proves the address"
    );
    let stored = ok(
        stores.users.find_credentials(new.user.email.as_str()).await,
        "find",
    );
    let stored = stored.unwrap_or_else(|| panic!("the account is gone"));
    assert_eq!(stored.hash, reset_hash());
    assert_eq!(stored.version, CredentialVersion::INITIAL.next());
    assert!(stored.user.email_verified);
    assert_eq!(
        live_ids(&stores, owner).await,
        vec![session.id],
        "only the new session"
    );
    assert_eq!(
        ok(store.find_link(&reset.digest, at).await, "find"),
        None,
        "used once"
    );
    let queued: Vec<MailKind> = claim(&*store, at)
        .await
        .iter()
        .map(|claimed| claimed.mail.kind)
        .collect();
    assert!(queued.contains(&MailKind::PasswordChanged), "{queued:?}");
}

/// A reset needs a live reset link: an unknown, expired or verification link is
/// `NotFound` and changes nothing.
pub async fn a_reset_without_a_live_reset_link_is_not_found_and_changes_nothing(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("noreset"));
    let owner = new.user.id;
    ok(
        stores
            .users
            .insert(&new, Some(&first_session(owner)), None)
            .await,
        "insert",
    );
    let at = now();
    let verify = link(owner, MailKind::VerifyEmail, at + Duration::days(1));
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, at),
        Some(&verify),
    )
    .await;
    let expired = link(owner, MailKind::ResetPassword, at + Duration::minutes(1));
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&expired),
    )
    .await;
    let unknown = link(owner, MailKind::ResetPassword, at + Duration::days(1));
    let later = at + Duration::minutes(2);
    for digest in [verify.digest, expired.digest, unknown.digest] {
        let notice = mail(owner, MailKind::PasswordChanged, later);
        let refused = store
            .reset_password(
                &digest,
                &reset_hash(),
                &first_session(owner),
                &notice,
                later,
            )
            .await;
        assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
    }
    let stored = ok(stores.users.find_by_id(owner).await, "find");
    assert_eq!(stored.map(|user| user.email_verified), Some(false));
    assert_eq!(
        live_ids(&stores, owner).await.len(),
        1,
        "the first session lives"
    );
    assert_eq!(ok(store.queued().await, "count"), 2, "no notice was queued");
}

/// Of two resets with one link at once, exactly one succeeds.
pub async fn of_two_resets_with_one_link_exactly_one_succeeds(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let reset = link(owner, MailKind::ResetPassword, at + Duration::minutes(30));
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&reset),
    )
    .await;
    let attempts = (0..2).map(|_| {
        let store = store.clone();
        let session = first_session(owner);
        let notice = mail(owner, MailKind::PasswordChanged, at);
        async move {
            store
                .reset_password(&reset.digest, &reset_hash(), &session, &notice, at)
                .await
        }
    });
    let results = join_all(attempts).await;
    let succeeded = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(succeeded, 1, "{results:?}");
    assert!(
        results
            .iter()
            .any(|result| matches!(result, Err(RepoError::NotFound)))
    );
}

/// A password change voids the account's reset links and queues its notice in the same
/// transaction.
pub async fn a_password_change_voids_reset_links_and_queues_its_notice(stores: Stores) {
    let store = stores.mail.clone();
    let owner = user(&stores).await;
    let at = now();
    let reset = link(owner, MailKind::ResetPassword, at + Duration::minutes(30));
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&reset),
    )
    .await;
    // A change of address asked for with the old password dies with it.
    let change = link(owner, MailKind::ConfirmEmailChange, at + Duration::days(1));
    queue(
        &*store,
        &mail(owner, MailKind::ConfirmEmailChange, at),
        Some(&change),
    )
    .await;
    let notice = mail(owner, MailKind::PasswordChanged, at);
    ok(
        stores
            .users
            .change_password(
                owner,
                &reset_hash(),
                &first_session(owner),
                at,
                CredentialVersion::INITIAL,
                &notice,
            )
            .await,
        "change",
    );
    for voided in [&reset, &change] {
        assert_eq!(
            ok(store.find_link(&voided.digest, at).await, "find"),
            None,
            "{:?} voided",
            voided.purpose
        );
    }
    let queued: Vec<MailId> = claim(&*store, at)
        .await
        .iter()
        .map(|claimed| claimed.mail.id)
        .collect();
    assert!(queued.contains(&notice.id), "the notice is queued");
}

/// An account stored with its verification mail and link (and no session, as when
/// signin waits for the address): all of it is there at once, the mail counted by the
/// quota.
pub async fn an_account_is_stored_with_its_verification_mail_and_link(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("welcome"));
    let owner = new.user.id;
    let at = now();
    let welcome = mail(owner, MailKind::VerifyEmail, at);
    let proving = LinkRecord {
        email: new.user.email.clone(),
        ..link(owner, MailKind::VerifyEmail, at + Duration::days(1))
    };
    ok(
        stores
            .users
            .insert(&new, None, Some((&welcome, &proving)))
            .await,
        "insert",
    );
    assert!(live_ids(&stores, owner).await.is_empty(), "no session");
    assert_eq!(
        ok(store.find_link(&proving.digest, at).await, "find"),
        Some(proving.clone())
    );
    let claimed = claim(&*store, at).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].mail, welcome);
    // Counted: another verification mail within the minute is refused.
    let again = mail(owner, MailKind::VerifyEmail, at);
    let refused = ok(
        store
            .queue(&again, None, ROOMY, at + Duration::seconds(10))
            .await,
        "queue",
    );
    assert!(refused.is_err(), "the signup's mail counts for the quota");
}

/// A verification link proves the address once, if it is still the account's.
pub async fn a_verification_link_proves_the_address_once(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("verify"));
    let owner = new.user.id;
    ok(stores.users.insert(&new, None, None).await, "insert");
    let at = now();
    let proving = LinkRecord {
        email: new.user.email.clone(),
        ..link(owner, MailKind::VerifyEmail, at + Duration::days(1))
    };
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, at),
        Some(&proving),
    )
    .await;
    let user = ok(
        store
            .confirm_link(
                &proving.digest,
                &mail(owner, MailKind::EmailChanged, at),
                at,
            )
            .await,
        "confirm",
    );
    assert!(user.email_verified);
    assert_eq!(user.email, new.user.email);
    let stored = ok(stores.users.find_by_id(owner).await, "find");
    assert!(stored.is_some_and(|stored| stored.email_verified));
    assert!(matches!(
        store
            .confirm_link(
                &proving.digest,
                &mail(owner, MailKind::EmailChanged, at),
                at
            )
            .await,
        Err(RepoError::NotFound)
    ));
    // No notice for a verification.
    let kinds: Vec<MailKind> = claim(&*store, at + Duration::minutes(1))
        .await
        .iter()
        .map(|claimed| claimed.mail.kind)
        .collect();
    assert_eq!(kinds, vec![MailKind::VerifyEmail]);
}

/// A confirmation link makes its address the account's email, proven; every other link
/// of the account dies, and the notice goes to the address the account had.
pub async fn a_change_link_moves_the_email_and_tells_the_former_address(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("mover"));
    let owner = new.user.id;
    ok(stores.users.insert(&new, None, None).await, "insert");
    let at = now();
    let change = link(owner, MailKind::ConfirmEmailChange, at + Duration::days(1));
    let reset = link(owner, MailKind::ResetPassword, at + Duration::days(1));
    queue(
        &*store,
        &mail(owner, MailKind::ConfirmEmailChange, at),
        Some(&change),
    )
    .await;
    queue(
        &*store,
        &mail(owner, MailKind::ResetPassword, at),
        Some(&reset),
    )
    .await;
    let mut notice = mail(owner, MailKind::EmailChanged, at);
    notice.to = EmailAddress::from_trusted("someone-else@example.com".to_owned());
    let user = ok(
        store.confirm_link(&change.digest, &notice, at).await,
        "confirm",
    );
    assert_eq!(user.email, change.email);
    assert!(user.email_verified);
    let found = ok(
        stores.users.find_credentials(change.email.as_str()).await,
        "find",
    );
    assert_eq!(found.map(|found| found.user.id), Some(owner));
    assert_eq!(
        ok(store.find_link(&reset.digest, at).await, "find"),
        None,
        "every link of the account dies with the change"
    );
    let told: Vec<QueuedMail> = claim(&*store, at + Duration::minutes(1))
        .await
        .into_iter()
        .map(|claimed| claimed.mail)
        .filter(|mail| mail.kind == MailKind::EmailChanged)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].to, new.user.email, "to the former address");
}

/// A confirmation whose address another account took meanwhile is a conflict and
/// changes nothing; a verification link of an address the account no longer has, a
/// reset link or an expired link are not found.
pub async fn a_link_that_cannot_be_confirmed_changes_nothing(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("blocked"));
    let owner = new.user.id;
    ok(stores.users.insert(&new, None, None).await, "insert");
    let at = now();
    let change = link(owner, MailKind::ConfirmEmailChange, at + Duration::days(1));
    queue(
        &*store,
        &mail(owner, MailKind::ConfirmEmailChange, at),
        Some(&change),
    )
    .await;
    let taker = new_user(change.email.as_str());
    ok(stores.users.insert(&taker, None, None).await, "insert");
    assert!(matches!(
        store
            .confirm_link(&change.digest, &mail(owner, MailKind::EmailChanged, at), at)
            .await,
        Err(RepoError::Conflict)
    ));
    let stored = ok(stores.users.find_by_id(owner).await, "find");
    assert_eq!(stored.map(|user| user.email), Some(new.user.email.clone()));

    let stale = link(owner, MailKind::VerifyEmail, at + Duration::days(1));
    let reset = link(owner, MailKind::ResetPassword, at + Duration::days(1));
    for (made, kind) in [
        (&stale, MailKind::VerifyEmail),
        (&reset, MailKind::ResetPassword),
    ] {
        queue(&*store, &mail(owner, kind, at), Some(made)).await;
    }
    // A minute later (the quota's wait for its kind), a link of the account's address
    // that expires a minute after that.
    let later = at + Duration::seconds(61);
    let short = LinkRecord {
        email: new.user.email.clone(),
        ..link(owner, MailKind::VerifyEmail, later + Duration::minutes(1))
    };
    queue(
        &*store,
        &mail(owner, MailKind::VerifyEmail, later),
        Some(&short),
    )
    .await;
    for (digest, when) in [
        (&stale.digest, at),
        (&reset.digest, at),
        (&short.digest, later + Duration::minutes(2)),
    ] {
        assert!(matches!(
            store
                .confirm_link(digest, &mail(owner, MailKind::EmailChanged, at), when)
                .await,
            Err(RepoError::NotFound)
        ));
    }
    let stored = ok(stores.users.find_by_id(owner).await, "find");
    assert!(stored.is_some_and(|user| !user.email_verified));
}

/// Queueing links and using them on one account at the same moment, many times over:
/// each call succeeds or finds its link gone; none fails (no deadlock between the
/// account's row and its links).
pub async fn queueing_and_using_links_of_one_account_at_once_never_fail(stores: Stores) {
    let store = stores.mail.clone();
    let new = new_user(&unique_email("busy"));
    let owner = new.user.id;
    ok(stores.users.insert(&new, None, None).await, "insert");
    let start = now();
    for round in 0..20 {
        // Each round a minute apart, so that the quota's wait never refuses.
        let at = start + Duration::seconds(61 * round);
        let proving = LinkRecord {
            email: new.user.email.clone(),
            ..link(owner, MailKind::VerifyEmail, at + Duration::days(1))
        };
        let reset = link(owner, MailKind::ResetPassword, at + Duration::days(1));
        queue(
            &*store,
            &mail(owner, MailKind::VerifyEmail, at),
            Some(&proving),
        )
        .await;
        queue(
            &*store,
            &mail(owner, MailKind::ResetPassword, at),
            Some(&reset),
        )
        .await;
        let later = at + Duration::seconds(30);
        let again = LinkRecord {
            email: new.user.email.clone(),
            ..link(owner, MailKind::ConfirmEmailChange, at + Duration::days(1))
        };
        let notice = mail(owner, MailKind::EmailChanged, later);
        let session = first_session(owner);
        let changed = mail(owner, MailKind::PasswordChanged, later);
        let confirming = mail(owner, MailKind::ConfirmEmailChange, later);
        let hash = reset_hash();
        let (confirmed, queued, reset_done) = tokio::join!(
            store.confirm_link(&proving.digest, &notice, later),
            store.queue(&confirming, Some(&again), ROOMY, later),
            store.reset_password(&reset.digest, &hash, &session, &changed, later),
        );
        for (what, failed) in [("confirm", confirmed.err()), ("reset", reset_done.err())] {
            assert!(
                matches!(failed, None | Some(RepoError::NotFound)),
                "round {round}: {what} failed: {failed:?}"
            );
        }
        assert!(queued.is_ok(), "round {round}: queue failed: {queued:?}");
    }
}
