//! The storage of `STORAGE=memory` and of the tests: one store in this process, every
//! port on one set of maps behind one lock, so that each operation, however many maps it
//! touches, happens whole (as one transaction does in the SQL adapters).
//!
//! It keeps the same promises as the SQL adapters (the port docs say which), held to them
//! by the same conformance tests. Data lives as long as the process.

mod mail;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[cfg(feature = "test-support")]
use tessera_application::ports::Clock;
use tessera_application::ports::{
    AccountUpdate, EventRepository, LinkRecord, NewTask, QueuedMail, Readiness, RepoError,
    SessionRepository, Stores, TaskPage, TaskRepository, ThrottleStore, UserRepository,
};
use tessera_domain::{
    AccountLockPolicy, AccountRecord, AccountStep, Admission, CredentialVersion, Credentials,
    NewUser, PasswordHash, Rate, SecurityEvent, Session, SessionId, Task, TaskChanges, TaskId,
    TaskStatusFilter, User, UserId, UserName, sessions_beyond_cap,
};

/// Locks a store. A panic while the lock was held cannot leave a half-written row (every
/// write is a single insert or assignment), so a poisoned lock is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Refuses a session id that is taken: a fault, never a conflict. Checked before a write
/// changes anything, so that a refused write changes nothing.
fn session_id_free(
    sessions: &HashMap<SessionId, Session>,
    session: &Session,
) -> Result<(), RepoError> {
    if sessions.contains_key(&session.id) {
        return Err(RepoError::Other("the session id is taken".into()));
    }
    Ok(())
}

/// Ends every active session of `user` at `at`.
fn end_sessions(sessions: &mut HashMap<SessionId, Session>, user: UserId, at: DateTime<Utc>) {
    for session in sessions.values_mut() {
        if session.user_id == user && session.ended_at.is_none() {
            session.ended_at = Some(at);
        }
    }
}

/// Everything one store holds.
#[derive(Debug, Default)]
struct Data {
    users: HashMap<UserId, Credentials>,
    sessions: HashMap<SessionId, Session>,
    tasks: BTreeMap<TaskId, Task>,
    /// The last task id given, like a database sequence.
    last_task_id: i64,
    /// How many tasks each owner holds, for the quota (like `users.task_count`).
    held: HashMap<UserId, u32>,
    /// Security events, numbered in the order recorded.
    events: Vec<(u64, SecurityEvent)>,
    /// The GCRA time of each rate-limit key.
    rates: HashMap<String, DateTime<Utc>>,
    /// The throttle record of each account key.
    accounts: HashMap<String, AccountRecord>,
    /// The mail queue and the one-time links.
    mail: mail::Mail,
}

impl Data {
    /// A new password for `user`, whatever its version: the version moved on, every
    /// active session ended at `at`, `new_session` stored, the reset links voided and
    /// `notice` queued. Checked before anything changes: the account and the session id.
    fn replace_password(
        &mut self,
        user: UserId,
        hash: &PasswordHash,
        new_session: &Session,
        notice: &QueuedMail,
        at: DateTime<Utc>,
    ) -> Result<&mut Credentials, RepoError> {
        session_id_free(&self.sessions, new_session)?;
        let stored = self.users.get_mut(&user).ok_or(RepoError::NotFound)?;
        end_sessions(&mut self.sessions, user, at);
        self.sessions.insert(new_session.id, new_session.clone());
        stored.hash = hash.clone();
        stored.version = stored.version.next();
        stored.user.updated_at = Task::next_updated_at(stored.user.updated_at, at);
        self.mail.void_all(user);
        self.mail.enqueue(notice, at);
        Ok(stored)
    }

    fn owned_mut(&mut self, owner: UserId, id: TaskId) -> Result<&mut Task, RepoError> {
        self.tasks
            .get_mut(&id)
            .filter(|task| task.is_owned_by(owner))
            .ok_or(RepoError::NotFound)
    }

    /// The account of `email`, in any letter case (like the unique index on
    /// `lower(email)` of the SQL stores).
    fn by_email(&self, email: &str) -> Option<&Credentials> {
        let email = email.to_lowercase();
        self.users
            .values()
            .find(|found| found.user.email.as_str().to_lowercase() == email)
    }
}

/// One in-memory store. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    data: Arc<Mutex<Data>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Its ports, as the use cases take them.
    #[must_use]
    pub fn stores(&self) -> Stores {
        Stores::of(Arc::new(self.clone()))
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.data)
    }
}

#[async_trait]
impl UserRepository for MemoryStore {
    async fn insert(
        &self,
        new_user: &NewUser,
        first_session: Option<&Session>,
        verification: Option<(&QueuedMail, &LinkRecord)>,
    ) -> Result<(), RepoError> {
        let mut data = self.data();
        if data.by_email(new_user.user.email.as_str()).is_some() {
            return Err(RepoError::Conflict);
        }
        if let Some(session) = first_session {
            session_id_free(&data.sessions, session)?;
            data.sessions.insert(session.id, session.clone());
        }
        if let Some((mail, link)) = verification {
            data.mail.add_link(link);
            data.mail.enqueue(mail, mail.queued_at);
        }
        data.users.insert(
            new_user.user.id,
            Credentials {
                user: new_user.user.clone(),
                hash: new_user.password_hash.clone(),
                version: CredentialVersion::INITIAL,
            },
        );
        Ok(())
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        version: CredentialVersion,
    ) -> Result<(), RepoError> {
        if let Some(stored) = self.data().users.get_mut(&id)
            && stored.version == version
        {
            stored.hash = hash.clone();
        }
        Ok(())
    }

    async fn set_name(
        &self,
        id: UserId,
        name: &UserName,
        at: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let mut data = self.data();
        let user = &mut data.users.get_mut(&id).ok_or(RepoError::NotFound)?.user;
        user.name = name.clone();
        user.updated_at = Task::next_updated_at(user.updated_at, at);
        Ok(user.clone())
    }

    async fn change_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        new_session: &Session,
        at: DateTime<Utc>,
        checked: CredentialVersion,
        notice: &QueuedMail,
    ) -> Result<(), RepoError> {
        let mut data = self.data();
        let stored = data.users.get(&id).ok_or(RepoError::NotFound)?;
        if stored.version != checked {
            return Err(RepoError::Conflict);
        }
        data.replace_password(id, hash, new_session, notice, at)
            .map(drop)
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        let mut data = self.data();
        if data.users.remove(&id).is_none() {
            return Err(RepoError::NotFound);
        }
        data.sessions.retain(|_, session| session.user_id != id);
        data.tasks.retain(|_, task| !task.is_owned_by(id));
        data.held.remove(&id);
        data.events.retain(|(_, event)| event.user_id != id);
        data.mail.forget(id);
        Ok(())
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError> {
        Ok(self.data().by_email(email).cloned())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(self.data().users.get(&id).map(|found| found.user.clone()))
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn create(
        &self,
        session: &Session,
        cap: u32,
        checked: CredentialVersion,
    ) -> Result<(), RepoError> {
        let mut data = self.data();
        if data.users.get(&session.user_id).map(|found| found.version) != Some(checked) {
            return Err(RepoError::NotFound);
        }
        session_id_free(&data.sessions, session)?;
        let live: Vec<Session> = data
            .sessions
            .values()
            .filter(|s| s.user_id == session.user_id && s.is_live_at(session.created_at))
            .cloned()
            .collect();
        for id in sessions_beyond_cap(&live, cap) {
            if let Some(oldest) = data.sessions.get_mut(&id) {
                oldest.ended_at = Some(session.created_at);
            }
        }
        data.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        Ok(self.data().sessions.get(&id).cloned())
    }

    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        if let Some(session) = self.data().sessions.get_mut(&id)
            && session.user_id == user
            && session.ended_at.is_none()
        {
            session.ended_at = Some(at);
            return Ok(true);
        }
        Ok(false)
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        let mut live: Vec<Session> = self
            .data()
            .sessions
            .values()
            .filter(|s| s.user_id == user && s.is_live_at(now))
            .cloned()
            .collect();
        live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(live)
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut data = self.data();
        let old: Vec<SessionId> = data
            .sessions
            .values()
            .filter(|s| s.ended_at.is_some_and(|at| at < before) || s.expires_at < before)
            .map(|s| s.id)
            .take(batch as usize)
            .collect();
        for id in &old {
            data.sessions.remove(id);
        }
        Ok(old.len() as u64)
    }

    async fn end_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<u64, RepoError> {
        let mut ended = 0;
        for session in self.data().sessions.values_mut() {
            if session.user_id == user && session.ended_at.is_none() && Some(session.id) != except {
                session.ended_at = Some(at);
                ended += 1;
            }
        }
        Ok(ended)
    }
}

#[async_trait]
impl EventRepository for MemoryStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError> {
        let mut data = self.data();
        let next = data.events.last().map_or(1, |(seq, _)| seq + 1);
        data.events.push((next, event.clone()));
        Ok(())
    }

    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        let data = self.data();
        let mut mine: Vec<&(u64, SecurityEvent)> = data
            .events
            .iter()
            .filter(|(_, e)| e.user_id == user)
            .collect();
        mine.sort_by(|a, b| b.1.at.cmp(&a.1.at).then(b.0.cmp(&a.0)));
        Ok(mine
            .into_iter()
            .take(limit as usize)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut removed = 0_u64;
        self.data().events.retain(|(_, event)| {
            let old = event.at < before && removed < u64::from(batch);
            removed += u64::from(old);
            !old
        });
        Ok(removed)
    }
}

#[async_trait]
impl TaskRepository for MemoryStore {
    async fn list(
        &self,
        owner: UserId,
        filter: TaskStatusFilter,
        limit: u32,
        offset: u64,
    ) -> Result<TaskPage, RepoError> {
        let data = self.data();
        let mut matching: Vec<&Task> = data
            .tasks
            .values()
            .filter(|task| task.is_owned_by(owner) && filter.matches(task.completed))
            .collect();
        matching.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = matching.len() as u64;
        let tasks = matching
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .cloned()
            .collect();
        Ok(TaskPage { tasks, total })
    }

    async fn create(
        &self,
        owner: UserId,
        task: NewTask,
        now: DateTime<Utc>,
        max_tasks: u32,
    ) -> Result<Task, RepoError> {
        let mut data = self.data();
        let held = data.held.entry(owner).or_default();
        if *held >= max_tasks {
            return Err(RepoError::LimitReached);
        }
        *held += 1;
        data.last_task_id += 1;
        let task = Task {
            id: TaskId::new(data.last_task_id),
            owner,
            title: task.title,
            description: task.description,
            completed: false,
            created_at: now,
            updated_at: now,
        };
        data.tasks.insert(task.id, task.clone());
        Ok(task)
    }

    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError> {
        self.data().owned_mut(owner, id).map(|task| task.clone())
    }

    async fn update(
        &self,
        owner: UserId,
        id: TaskId,
        changes: &TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        let mut data = self.data();
        let task = data.owned_mut(owner, id)?;
        task.apply(changes, now);
        Ok(task.clone())
    }

    async fn toggle(
        &self,
        owner: UserId,
        id: TaskId,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        let mut data = self.data();
        let task = data.owned_mut(owner, id)?;
        let changes = TaskChanges {
            completed: Some(!task.completed),
            ..TaskChanges::default()
        };
        task.apply(&changes, now);
        Ok(task.clone())
    }

    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError> {
        let mut data = self.data();
        data.owned_mut(owner, id)?;
        data.tasks.remove(&id);
        if let Some(held) = data.held.get_mut(&owner) {
            *held = held.saturating_sub(1);
        }
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn admit(
        &self,
        key: &str,
        rate: Rate,
        now: DateTime<Utc>,
    ) -> Result<Admission, RepoError> {
        let mut data = self.data();
        let (admission, tat) = rate.step(data.rates.get(key).copied(), now);
        data.rates.insert(key.to_owned(), tat);
        Ok(admission)
    }

    async fn update_account(
        &self,
        key: &str,
        policy: AccountLockPolicy,
        step: AccountStep,
        now: DateTime<Utc>,
    ) -> Result<AccountUpdate, RepoError> {
        let mut data = self.data();
        let stored = data.accounts.get(key).copied();
        let (update, next) = AccountUpdate::apply(stored, policy, step, now);
        match next {
            Some(record) => data.accounts.insert(key.to_owned(), record),
            None => data.accounts.remove(key),
        };
        Ok(update)
    }

    async fn prune(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut data = self.data();
        let budget = usize::try_from(batch).unwrap_or(usize::MAX);
        let rates: Vec<String> = data
            .rates
            .iter()
            .filter(|(_, tat)| **tat <= now)
            .map(|(key, _)| key.clone())
            .take(budget)
            .collect();
        let accounts: Vec<String> = data
            .accounts
            .iter()
            .filter(|(_, record)| record.expires_at <= now)
            .map(|(key, _)| key.clone())
            .take(budget - rates.len())
            .collect();
        for key in &rates {
            data.rates.remove(key);
        }
        for key in &accounts {
            data.accounts.remove(key);
        }
        Ok((rates.len() + accounts.len()) as u64)
    }
}

#[async_trait]
impl Readiness for MemoryStore {
    async fn check(&self) -> Result<(), RepoError> {
        Ok(())
    }
}

/// Always ready: the readiness of a store that cannot be away.
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysReady;

#[async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> Result<(), RepoError> {
        Ok(())
    }
}

#[cfg(feature = "test-support")]
/// A clock that stands still until moved: for tests that need to control time.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

#[cfg(feature = "test-support")]
impl ManualClock {
    /// A clock showing `now`.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        *lock(&self.now) += by;
    }
}

#[cfg(feature = "test-support")]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.now)
    }
}

#[cfg(feature = "test-support")]
/// A repository whose store is down: every call answers [`RepoError::Unavailable`].
/// Lets tests see how the service behaves during an outage.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnavailableStore;

#[cfg(feature = "test-support")]
#[async_trait]
impl UserRepository for UnavailableStore {
    async fn insert(
        &self,
        _: &NewUser,
        _: Option<&Session>,
        _: Option<(&QueuedMail, &LinkRecord)>,
    ) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn set_password_hash(
        &self,
        _: UserId,
        _: &PasswordHash,
        _: CredentialVersion,
    ) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn find_credentials(&self, _: &str) -> Result<Option<Credentials>, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn find_by_id(&self, _: UserId) -> Result<Option<User>, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn set_name(&self, _: UserId, _: &UserName, _: DateTime<Utc>) -> Result<User, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn change_password(
        &self,
        _: UserId,
        _: &PasswordHash,
        _: &Session,
        _: DateTime<Utc>,
        _: CredentialVersion,
        _: &QueuedMail,
    ) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn delete(&self, _: UserId) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
}

#[cfg(feature = "test-support")]
#[async_trait]
impl EventRepository for UnavailableStore {
    async fn record(&self, _: &SecurityEvent) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn list(&self, _: UserId, _: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn prune(&self, _: DateTime<Utc>, _: u32) -> Result<u64, RepoError> {
        Err(RepoError::Unavailable(None))
    }
}

#[cfg(feature = "test-support")]
#[async_trait]
impl SessionRepository for UnavailableStore {
    async fn create(&self, _: &Session, _: u32, _: CredentialVersion) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn find(&self, _: SessionId) -> Result<Option<Session>, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn end(&self, _: UserId, _: SessionId, _: DateTime<Utc>) -> Result<bool, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn list_live(&self, _: UserId, _: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn prune(&self, _: DateTime<Utc>, _: u32) -> Result<u64, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn end_all(
        &self,
        _: UserId,
        _: Option<SessionId>,
        _: DateTime<Utc>,
    ) -> Result<u64, RepoError> {
        Err(RepoError::Unavailable(None))
    }
}

#[cfg(feature = "test-support")]
#[async_trait]
impl TaskRepository for UnavailableStore {
    async fn list(
        &self,
        _: UserId,
        _: TaskStatusFilter,
        _: u32,
        _: u64,
    ) -> Result<TaskPage, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn create(
        &self,
        _: UserId,
        _: NewTask,
        _: DateTime<Utc>,
        _: u32,
    ) -> Result<Task, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn get(&self, _: UserId, _: TaskId) -> Result<Task, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn update(
        &self,
        _: UserId,
        _: TaskId,
        _: &TaskChanges,
        _: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn toggle(&self, _: UserId, _: TaskId, _: DateTime<Utc>) -> Result<Task, RepoError> {
        Err(RepoError::Unavailable(None))
    }
    async fn delete(&self, _: UserId, _: TaskId) -> Result<(), RepoError> {
        Err(RepoError::Unavailable(None))
    }
}
