//! In-process repositories: the storage of `STORAGE=memory` and of the test harness.
//!
//! They keep the same promises as the Postgres adapter (the port docs say which), held
//! to them by the same conformance tests. Data lives as long as the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[cfg(feature = "test-support")]
use tessera_application::ports::Clock;
use tessera_application::ports::{
    EventRepository, NewTask, Readiness, RepoError, SessionRepository, Stores, TaskPage,
    TaskRepository, UserRepository,
};
use tessera_domain::{
    CredentialVersion, Credentials, NewUser, PasswordHash, SecurityEvent, Session, SessionId, Task,
    TaskChanges, TaskId, TaskStatusFilter, User, UserId, UserName, sessions_beyond_cap,
};

mod throttle;

pub use throttle::InMemoryThrottleStore;

/// Locks a store. A panic while the lock was held cannot leave a half-written row (every
/// write is a single insert or assignment), so a poisoned lock is still safe to use.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One in-memory store: its repositories, which see each other's rows where the ports
/// ask for one transaction across them (signup, password change, account deletion).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    /// Accounts.
    pub users: Arc<InMemoryUserRepository>,
    /// Sessions.
    pub sessions: Arc<InMemorySessionRepository>,
    /// Tasks.
    pub tasks: Arc<InMemoryTaskRepository>,
    /// Security events.
    pub events: Arc<InMemoryEventRepository>,
    /// Rate-limit and throttle counts.
    pub throttle: Arc<InMemoryThrottleStore>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        let accounts = Accounts::default();
        let sessions = Arc::new(InMemorySessionRepository {
            accounts: accounts.clone(),
            sessions: Mutex::default(),
        });
        let tasks = Arc::new(InMemoryTaskRepository::new());
        let events = Arc::new(InMemoryEventRepository::new());
        let users = Arc::new(InMemoryUserRepository {
            users: accounts,
            sessions: sessions.clone(),
            tasks: tasks.clone(),
            events: events.clone(),
        });
        Self {
            users,
            sessions,
            tasks,
            events,
            throttle: Arc::new(InMemoryThrottleStore::new()),
        }
    }

    /// Its ports, as the use cases take them.
    #[must_use]
    pub fn stores(&self) -> Stores {
        Stores {
            users: self.users.clone(),
            sessions: self.sessions.clone(),
            events: self.events.clone(),
            tasks: self.tasks.clone(),
            throttle: self.throttle.clone(),
            readiness: Arc::new(AlwaysReady),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The accounts, shared by the user and session repositories: a session is stored under
/// the account lock, so that it sees a password change or a deletion whole.
type Accounts = Arc<Mutex<HashMap<UserId, Credentials>>>;

/// Accounts in memory, unique by normalised email. Writes that span an account's
/// sessions, tasks and events take the account lock first, then the others', so each
/// happens whole or not at all.
#[derive(Debug)]
pub struct InMemoryUserRepository {
    users: Accounts,
    sessions: Arc<InMemorySessionRepository>,
    tasks: Arc<InMemoryTaskRepository>,
    events: Arc<InMemoryEventRepository>,
}

#[async_trait]
impl UserRepository for InMemoryUserRepository {
    async fn insert(&self, new_user: &NewUser, first_session: &Session) -> Result<(), RepoError> {
        let mut users = lock(&self.users);
        let email = new_user.user.email.as_str().to_lowercase();
        if users
            .values()
            .any(|found| found.user.email.as_str().to_lowercase() == email)
        {
            return Err(RepoError::Conflict);
        }
        let mut sessions = lock(&self.sessions.sessions);
        if sessions.contains_key(&first_session.id) {
            return Err(RepoError::Other("the session id is taken".into()));
        }
        sessions.insert(first_session.id, first_session.clone());
        users.insert(
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
        if let Some(stored) = lock(&self.users).get_mut(&id)
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
        let mut users = lock(&self.users);
        let user = &mut users.get_mut(&id).ok_or(RepoError::NotFound)?.user;
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
    ) -> Result<(), RepoError> {
        let mut users = lock(&self.users);
        let stored = users.get_mut(&id).ok_or(RepoError::NotFound)?;
        if stored.version != checked {
            return Err(RepoError::Conflict);
        }
        let mut sessions = lock(&self.sessions.sessions);
        if sessions.contains_key(&new_session.id) {
            return Err(RepoError::Other("the session id is taken".into()));
        }
        for session in sessions.values_mut() {
            if session.user_id == id && session.ended_at.is_none() {
                session.ended_at = Some(at);
            }
        }
        sessions.insert(new_session.id, new_session.clone());
        stored.hash = hash.clone();
        stored.version = checked.next();
        stored.user.updated_at = Task::next_updated_at(stored.user.updated_at, at);
        Ok(())
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        let mut users = lock(&self.users);
        if users.remove(&id).is_none() {
            return Err(RepoError::NotFound);
        }
        lock(&self.sessions.sessions).retain(|_, session| session.user_id != id);
        let mut tasks = lock(&self.tasks.store);
        tasks.tasks.retain(|_, task| !task.is_owned_by(id));
        tasks.held.remove(&id);
        drop(tasks);
        lock(&self.events.events).retain(|(_, event)| event.user_id != id);
        Ok(())
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError> {
        // Case-insensitive, like the unique index on lower(email) in Postgres.
        let email = email.to_lowercase();
        Ok(lock(&self.users)
            .values()
            .find(|found| found.user.email.as_str().to_lowercase() == email)
            .cloned())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(lock(&self.users).get(&id).map(|found| found.user.clone()))
    }
}

/// Sessions in memory.
#[derive(Debug)]
pub struct InMemorySessionRepository {
    accounts: Accounts,
    sessions: Mutex<HashMap<SessionId, Session>>,
}

#[async_trait]
impl SessionRepository for InMemorySessionRepository {
    async fn create(
        &self,
        session: &Session,
        cap: u32,
        checked: CredentialVersion,
    ) -> Result<(), RepoError> {
        // The account lock first, as every write that spans accounts and sessions.
        let accounts = lock(&self.accounts);
        if accounts.get(&session.user_id).map(|found| found.version) != Some(checked) {
            return Err(RepoError::NotFound);
        }
        let mut sessions = lock(&self.sessions);
        if sessions.contains_key(&session.id) {
            return Err(RepoError::Other("the session id is taken".into()));
        }
        let live: Vec<Session> = sessions
            .values()
            .filter(|s| s.user_id == session.user_id && s.is_live_at(session.created_at))
            .cloned()
            .collect();
        for id in sessions_beyond_cap(&live, cap) {
            if let Some(oldest) = sessions.get_mut(&id) {
                oldest.ended_at = Some(session.created_at);
            }
        }
        sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        Ok(lock(&self.sessions).get(&id).cloned())
    }

    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        if let Some(session) = lock(&self.sessions).get_mut(&id)
            && session.user_id == user
            && session.ended_at.is_none()
        {
            session.ended_at = Some(at);
            return Ok(true);
        }
        Ok(false)
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        let mut live: Vec<Session> = lock(&self.sessions)
            .values()
            .filter(|s| s.user_id == user && s.is_live_at(now))
            .cloned()
            .collect();
        live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(live)
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut sessions = lock(&self.sessions);
        let old: Vec<SessionId> = sessions
            .values()
            .filter(|s| s.ended_at.is_some_and(|at| at < before) || s.expires_at < before)
            .map(|s| s.id)
            .take(batch as usize)
            .collect();
        for id in &old {
            sessions.remove(id);
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
        for session in lock(&self.sessions).values_mut() {
            if session.user_id == user && session.ended_at.is_none() && Some(session.id) != except {
                session.ended_at = Some(at);
                ended += 1;
            }
        }
        Ok(ended)
    }
}

/// Security events in memory, in the order recorded.
#[derive(Debug, Default)]
pub struct InMemoryEventRepository {
    events: Mutex<Vec<(u64, SecurityEvent)>>,
}

impl InMemoryEventRepository {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventRepository for InMemoryEventRepository {
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError> {
        let mut events = lock(&self.events);
        let next = events.last().map_or(1, |(seq, _)| seq + 1);
        events.push((next, event.clone()));
        Ok(())
    }

    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        let events = lock(&self.events);
        let mut mine: Vec<&(u64, SecurityEvent)> =
            events.iter().filter(|(_, e)| e.user_id == user).collect();
        mine.sort_by(|a, b| b.1.at.cmp(&a.1.at).then(b.0.cmp(&a.0)));
        Ok(mine
            .into_iter()
            .take(limit as usize)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut events = lock(&self.events);
        let mut removed = 0_u64;
        events.retain(|(_, event)| {
            let old = event.at < before && removed < u64::from(batch);
            removed += u64::from(old);
            !old
        });
        Ok(removed)
    }
}

/// Memory is always ready.
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysReady;

#[async_trait]
impl Readiness for AlwaysReady {
    async fn check(&self) -> Result<(), RepoError> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct TaskStore {
    last_id: i64,
    tasks: BTreeMap<TaskId, Task>,
    /// How many tasks each owner holds, for the quota (like `users.task_count`).
    held: HashMap<UserId, u32>,
}

impl TaskStore {
    fn owned_mut(&mut self, owner: UserId, id: TaskId) -> Result<&mut Task, RepoError> {
        self.tasks
            .get_mut(&id)
            .filter(|task| task.is_owned_by(owner))
            .ok_or(RepoError::NotFound)
    }
}

/// Tasks in memory, with ids from one counter like a database sequence.
#[derive(Debug, Default)]
pub struct InMemoryTaskRepository {
    store: Mutex<TaskStore>,
}

impl InMemoryTaskRepository {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TaskRepository for InMemoryTaskRepository {
    async fn list(
        &self,
        owner: UserId,
        filter: TaskStatusFilter,
        limit: u32,
        offset: u64,
    ) -> Result<TaskPage, RepoError> {
        let store = lock(&self.store);
        let mut matching: Vec<&Task> = store
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
        let mut store = lock(&self.store);
        let held = store.held.entry(owner).or_default();
        if *held >= max_tasks {
            return Err(RepoError::LimitReached);
        }
        *held += 1;
        store.last_id += 1;
        let task = Task {
            id: TaskId::new(store.last_id),
            owner,
            title: task.title,
            description: task.description,
            completed: false,
            created_at: now,
            updated_at: now,
        };
        store.tasks.insert(task.id, task.clone());
        Ok(task)
    }

    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError> {
        lock(&self.store)
            .owned_mut(owner, id)
            .map(|task| task.clone())
    }

    async fn update(
        &self,
        owner: UserId,
        id: TaskId,
        changes: &TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        let mut store = lock(&self.store);
        let task = store.owned_mut(owner, id)?;
        task.apply(changes, now);
        Ok(task.clone())
    }

    async fn toggle(
        &self,
        owner: UserId,
        id: TaskId,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        let mut store = lock(&self.store);
        let task = store.owned_mut(owner, id)?;
        let changes = TaskChanges {
            completed: Some(!task.completed),
            ..TaskChanges::default()
        };
        task.apply(&changes, now);
        Ok(task.clone())
    }

    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError> {
        let mut store = lock(&self.store);
        store.owned_mut(owner, id)?;
        store.tasks.remove(&id);
        if let Some(held) = store.held.get_mut(&owner) {
            *held = held.saturating_sub(1);
        }
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
    async fn insert(&self, _: &NewUser, _: &Session) -> Result<(), RepoError> {
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
