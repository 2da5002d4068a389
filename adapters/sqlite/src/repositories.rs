//! The repository ports on [`SqliteStore`], in diesel's DSL over the typed schema: every
//! task statement filters by owner, each multi-statement write is one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use tessera_application::ports::{
    EventRepository, LinkRecord, NewTask, QueuedMail, Readiness, RepoError, SessionRepository,
    TaskPage, TaskRepository, UserRepository,
};
use tessera_domain::{
    ClientInfo, CredentialVersion, Credentials, EmailAddress, NewUser, PasswordHash, SecurityEvent,
    Session, SessionId, Task, TaskChanges, TaskDescription, TaskId, TaskStatusFilter, TaskTitle,
    User, UserId, UserName,
};

use crate::SqliteStore;
use crate::convert::{instant, micros, uuid};
use crate::schema::{security_events, sessions, tasks, users};

diesel::define_sql_function! {
    /// SQL `lower(text)`, to match the unique index on `lower(email)`.
    fn lower(x: Text) -> Text;
}

diesel::define_sql_function! {
    /// SQLite's scalar `max(a, b)`.
    #[sql_name = "max"]
    fn later(a: BigInt, b: BigInt) -> BigInt;
}

/// [`Task::next_updated_at`] in SQL, against the row as it is stored when the update runs:
/// `now`, or one microsecond after the stored `updated_at` of a row written by a process
/// whose clock is ahead. One rule for every table with an `updated_at`.
macro_rules! next_updated_at {
    ($table:ident, $now:expr) => {
        $table::updated_at.eq(later(micros($now), $table::updated_at + 1))
    };
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(Sqlite))]
struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: String,
    created_at: i64,
    updated_at: i64,
    credential_version: i64,
    email_verified: bool,
}

impl UserRow {
    fn into_domain(self) -> Credentials {
        let user = User {
            id: UserId::from_uuid(uuid(&self.id)),
            email: EmailAddress::from_trusted(self.email),
            name: UserName::from_trusted(self.name),
            email_verified: self.email_verified,
            created_at: instant(self.created_at),
            updated_at: instant(self.updated_at),
        };
        Credentials {
            user,
            hash: PasswordHash::new(self.password_hash),
            version: CredentialVersion::from_stored(self.credential_version),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(Sqlite))]
struct SessionRow {
    id: String,
    user_id: String,
    created_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<&Session> for SessionRow {
    fn from(session: &Session) -> Self {
        let (ip, user_agent) = session.client.to_columns();
        Self {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            created_at: micros(session.created_at),
            expires_at: micros(session.expires_at),
            ended_at: session.ended_at.map(micros),
            ip,
            user_agent,
        }
    }
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Self {
            id: SessionId::from_uuid(uuid(&row.id)),
            user_id: UserId::from_uuid(uuid(&row.user_id)),
            created_at: instant(row.created_at),
            expires_at: instant(row.expires_at),
            ended_at: row.ended_at.map(instant),
            client: ClientInfo::from_columns(row.ip, row.user_agent),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(Sqlite))]
struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Self {
            id: TaskId::new(row.id),
            owner: UserId::from_uuid(uuid(&row.user_id)),
            title: TaskTitle::from_trusted(row.title),
            description: row.description.map(TaskDescription::from_trusted),
            completed: row.completed,
            created_at: instant(row.created_at),
            updated_at: instant(row.updated_at),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events, check_for_backend(Sqlite))]
struct EventRow {
    user_id: String,
    kind: String,
    at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The credential version of a user, if the user exists.
fn credential_version(conn: &mut SqliteConnection, user: UserId) -> QueryResult<Option<i64>> {
    users::table
        .find(user.to_string())
        .select(users::credential_version)
        .first(conn)
        .optional()
}

fn insert_session(conn: &mut SqliteConnection, session: &Session) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values(SessionRow::from(session))
        .execute(conn)
}

/// A reset's change of the account `user`, in the caller's transaction: the new hash with
/// the version moved on, the address proven, every active session ended at `now` and
/// `new_session` stored. Returns the account as stored.
pub(crate) fn reset_account(
    conn: &mut SqliteConnection,
    user: &str,
    hash: &PasswordHash,
    new_session: &Session,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    let row = diesel::update(users::table.find(user))
        .set((
            users::password_hash.eq(hash.as_str()),
            users::credential_version.eq(users::credential_version + 1),
            users::email_verified.eq(true),
            next_updated_at!(users, now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)?;
    end_active_sessions(conn, user, now)?;
    insert_session(conn, new_session)?;
    Ok(row.into_domain().user)
}

/// Marks the address of `user` proven, after making it `new_email` if given (a taken
/// address fails the unique index), and returns the account.
pub(crate) fn prove_address(
    conn: &mut SqliteConnection,
    user: &str,
    new_email: Option<&EmailAddress>,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    let update = diesel::update(users::table.find(user));
    let row = match new_email {
        Some(email) => update
            .set((
                users::email.eq(email.as_str()),
                users::email_verified.eq(true),
                next_updated_at!(users, now),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?,
        None => update
            .set((users::email_verified.eq(true), next_updated_at!(users, now)))
            .returning(UserRow::as_returning())
            .get_result(conn)?,
    };
    Ok(row.into_domain().user)
}

/// Ends every active session of `user` at `at`.
fn end_active_sessions(
    conn: &mut SqliteConnection,
    user: &str,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(micros(at)))
    .execute(conn)
}

#[async_trait]
impl UserRepository for SqliteStore {
    async fn insert(
        &self,
        new_user: &NewUser,
        first_session: Option<&Session>,
        verification: Option<(&QueuedMail, &LinkRecord)>,
    ) -> Result<(), RepoError> {
        let user = &new_user.user;
        let row = UserRow {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            password_hash: new_user.password_hash.as_str().to_owned(),
            created_at: micros(user.created_at),
            updated_at: micros(user.updated_at),
            credential_version: CredentialVersion::INITIAL.get(),
            email_verified: user.email_verified,
        };
        let session = first_session.cloned();
        let verification = verification.map(|(mail, link)| (mail.clone(), link.clone()));
        self.write(move |conn| {
            diesel::insert_into(users::table)
                .values(row)
                .execute(conn)?;
            // Only a taken email is a conflict for the caller.
            if let Some(session) = &session {
                insert_session(conn, session)?;
            }
            if let Some((mail, link)) = &verification {
                crate::mail::add_link(conn, link)?;
                crate::mail::enqueue(conn, mail, mail.queued_at)?;
            }
            Ok(())
        })
        .await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        version: CredentialVersion,
    ) -> Result<(), RepoError> {
        let hash = hash.as_str().to_owned();
        self.write(move |conn| {
            diesel::update(
                users::table
                    .find(id.to_string())
                    .filter(users::credential_version.eq(version.get())),
            )
            .set(users::password_hash.eq(hash))
            .execute(conn)
            .map(drop)
        })
        .await
    }

    async fn set_name(
        &self,
        id: UserId,
        name: &UserName,
        at: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let name = name.as_str().to_owned();
        self.write(move |conn| {
            diesel::update(users::table.find(id.to_string()))
                .set((users::name.eq(name), next_updated_at!(users, at)))
                .returning(UserRow::as_returning())
                .get_result(conn)
        })
        .await
        .map(|row| row.into_domain().user)
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
        let hash = hash.as_str().to_owned();
        let (session, notice) = (new_session.clone(), notice.clone());
        // One writer at a time (BEGIN IMMEDIATE): the version read here is the latest.
        self.write(move |conn| {
            match credential_version(conn, id)? {
                None => return Ok(Err(RepoError::NotFound)),
                Some(stored) if stored != checked.get() => return Ok(Err(RepoError::Conflict)),
                Some(_) => {}
            }
            let user = id.to_string();
            diesel::update(users::table.find(&user))
                .set((
                    users::password_hash.eq(hash),
                    users::credential_version.eq(checked.next().get()),
                    next_updated_at!(users, at),
                ))
                .execute(conn)?;
            end_active_sessions(conn, &user, at)?;
            insert_session(conn, &session)?;
            crate::mail::void_all(conn, &user)?;
            crate::mail::enqueue(conn, &notice, at)?;
            Ok(Ok(()))
        })
        .await?
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        // Tasks, sessions and events go with the account (ON DELETE CASCADE).
        self.write(move |conn| {
            diesel::delete(users::table.find(id.to_string()))
                .execute(conn)
                .and_then(one_row)
        })
        .await
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError> {
        let email = email.to_owned();
        self.run(move |conn| {
            users::table
                .filter(lower(users::email).eq(lower(email)))
                .select(UserRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.map(UserRow::into_domain))
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        self.run(move |conn| {
            users::table
                .find(id.to_string())
                .select(UserRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.map(|row| row.into_domain().user))
    }
}

/// A write that must have touched one row: none is `NotFound`.
fn one_row(changed: usize) -> QueryResult<()> {
    if changed == 0 {
        Err(diesel::result::Error::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl SessionRepository for SqliteStore {
    async fn create(
        &self,
        session: &Session,
        cap: u32,
        checked: CredentialVersion,
    ) -> Result<(), RepoError> {
        let session = session.clone();
        // One writer at a time (BEGIN IMMEDIATE): a password change or a deletion either
        // committed before this reads the version, or waits until this commits.
        self.write(move |conn| {
            if credential_version(conn, session.user_id)? != Some(checked.get()) {
                return Ok(Err(RepoError::NotFound));
            }
            insert_session(conn, &session)?;
            // After the insert the new session is among the live ones: keep the newest
            // `cap`, it included. (The write lock, taken at BEGIN IMMEDIATE, makes the
            // select and the update one step: diesel takes no subquery in an update's
            // filter.)
            let at = micros(session.created_at);
            let beyond_cap = sessions::table
                .filter(sessions::user_id.eq(session.user_id.to_string()))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(at))
                .order((sessions::created_at.desc(), sessions::id.desc()))
                .offset(i64::from(cap))
                .select(sessions::id)
                .load::<String>(conn)?;
            diesel::update(sessions::table.filter(sessions::id.eq_any(beyond_cap)))
                .set(sessions::ended_at.eq(at))
                .execute(conn)?;
            Ok(Ok(()))
        })
        .await?
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        self.run(move |conn| {
            sessions::table
                .find(id.to_string())
                .select(SessionRow::as_select())
                .first(conn)
                .optional()
        })
        .await
        .map(|row| row.map(Session::from))
    }

    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        self.write(move |conn| {
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id.to_string()))
                    .filter(sessions::user_id.eq(user.to_string()))
                    .filter(sessions::ended_at.is_null()),
            )
            .set(sessions::ended_at.eq(micros(at)))
            .execute(conn)
        })
        .await
        .map(|ended| ended > 0)
    }

    async fn end_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<u64, RepoError> {
        // The nil UUID is never a session id: with no exception, nothing is spared.
        let spared = except.map_or_else(|| uuid::Uuid::nil().to_string(), |id| id.to_string());
        self.write(move |conn| {
            diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(user.to_string()))
                    .filter(sessions::ended_at.is_null())
                    .filter(sessions::id.ne(spared)),
            )
            .set(sessions::ended_at.eq(micros(at)))
            .execute(conn)
        })
        .await
        .map(|ended| ended as u64)
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        self.run(move |conn| {
            sessions::table
                .filter(sessions::user_id.eq(user.to_string()))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::expires_at.gt(micros(now)))
                .order((sessions::created_at.desc(), sessions::id.desc()))
                .select(SessionRow::as_select())
                .load(conn)
        })
        .await
        .map(|rows| rows.into_iter().map(Session::from).collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let before = micros(before);
        self.write(move |conn| {
            let done = sessions::table
                .filter(
                    sessions::ended_at
                        .lt(before)
                        .or(sessions::expires_at.lt(before)),
                )
                .limit(i64::from(batch))
                .select(sessions::id)
                .load::<String>(conn)?;
            diesel::delete(sessions::table.filter(sessions::id.eq_any(done))).execute(conn)
        })
        .await
        .map(|deleted| deleted as u64)
    }
}

#[async_trait]
impl EventRepository for SqliteStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError> {
        let (ip, user_agent) = event.client.to_columns();
        let row = EventRow {
            user_id: event.user_id.to_string(),
            kind: event.kind.as_str().to_owned(),
            at: micros(event.at),
            ip,
            user_agent,
        };
        // An event of an account deleted meanwhile is dropped (nothing to insert into);
        // the write lock, taken at BEGIN IMMEDIATE, makes the check and the insert one step.
        self.write(move |conn| {
            let owner = users::table.find(&row.user_id).select(users::id);
            if diesel::select(diesel::dsl::exists(owner)).get_result(conn)? {
                diesel::insert_into(security_events::table)
                    .values(&row)
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        let rows = self
            .run(move |conn| {
                security_events::table
                    .filter(security_events::user_id.eq(user.to_string()))
                    .order((security_events::at.desc(), security_events::id.desc()))
                    .limit(i64::from(limit))
                    .select(EventRow::as_select())
                    .load(conn)
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(SecurityEvent {
                    user_id: UserId::from_uuid(uuid(&row.user_id)),
                    kind: row.kind.parse().ok()?,
                    at: instant(row.at),
                    client: ClientInfo::from_columns(row.ip, row.user_agent),
                })
            })
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        self.write(move |conn| {
            let old = security_events::table
                .filter(security_events::at.lt(micros(before)))
                .limit(i64::from(batch))
                .select(security_events::id)
                .load::<i64>(conn)?;
            diesel::delete(security_events::table.filter(security_events::id.eq_any(old)))
                .execute(conn)
        })
        .await
        .map(|deleted| deleted as u64)
    }
}

/// The tasks of `owner` that `filter` lets through: the isolation rule, in SQL, for every
/// task statement.
fn owned_tasks(owner: UserId, filter: TaskStatusFilter) -> tasks::BoxedQuery<'static, Sqlite> {
    let owned = tasks::table
        .filter(tasks::user_id.eq(owner.to_string()))
        .into_boxed();
    match filter {
        TaskStatusFilter::All => owned,
        TaskStatusFilter::Pending => owned.filter(tasks::completed.eq(false)),
        TaskStatusFilter::Completed => owned.filter(tasks::completed.eq(true)),
    }
}

type OwnedTask = diesel::dsl::Filter<
    diesel::dsl::Filter<tasks::table, diesel::dsl::Eq<tasks::id, i64>>,
    diesel::dsl::Eq<tasks::user_id, String>,
>;

/// One task, only if `owner` owns it.
fn owned_task(owner: UserId, id: TaskId) -> OwnedTask {
    tasks::table
        .filter(tasks::id.eq(id.get()))
        .filter(tasks::user_id.eq(owner.to_string()))
}

#[async_trait]
impl TaskRepository for SqliteStore {
    async fn list(
        &self,
        owner: UserId,
        filter: TaskStatusFilter,
        limit: u32,
        offset: u64,
    ) -> Result<TaskPage, RepoError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.run(move |conn| {
            let total: i64 = owned_tasks(owner, filter).count().get_result(conn)?;
            let rows: Vec<TaskRow> = owned_tasks(owner, filter)
                .order((tasks::created_at.desc(), tasks::id.desc()))
                .limit(i64::from(limit))
                .offset(offset)
                .select(TaskRow::as_select())
                .load(conn)?;
            Ok(TaskPage {
                tasks: rows.into_iter().map(Task::from).collect(),
                total: u64::try_from(total).unwrap_or_default(),
            })
        })
        .await
    }

    async fn create(
        &self,
        owner: UserId,
        task: NewTask,
        now: DateTime<Utc>,
        max_tasks: u32,
    ) -> Result<Task, RepoError> {
        let title = task.title.as_str().to_owned();
        let description = task.description.map(|d| d.as_str().to_owned());
        let created = self
            .write(move |conn| {
                // The count rises only while under the limit; the write lock, taken at
                // BEGIN IMMEDIATE, makes the check and the insert one step.
                let owner = owner.to_string();
                let counted =
                    diesel::update(users::table.find(&owner).filter(
                        users::task_count.lt(i32::try_from(max_tasks).unwrap_or(i32::MAX)),
                    ))
                    .set(users::task_count.eq(users::task_count + 1))
                    .execute(conn)?;
                if counted == 0 {
                    return Ok(None);
                }
                diesel::insert_into(tasks::table)
                    .values((
                        tasks::user_id.eq(owner),
                        tasks::title.eq(title),
                        tasks::description.eq(description),
                        tasks::completed.eq(false),
                        tasks::created_at.eq(micros(now)),
                        tasks::updated_at.eq(micros(now)),
                    ))
                    .returning(TaskRow::as_returning())
                    .get_result(conn)
                    .map(Some)
            })
            .await?;
        created.map(Task::from).ok_or(RepoError::LimitReached)
    }

    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError> {
        self.run(move |conn| {
            owned_task(owner, id)
                .select(TaskRow::as_select())
                .first(conn)
        })
        .await
        .map(Task::from)
    }

    async fn update(
        &self,
        owner: UserId,
        id: TaskId,
        changes: &TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        let changes = changes.clone();
        // The stored task, changed as the domain changes it (an empty change moves
        // nothing), then written back with the stored `updated_at` as the floor.
        self.write(move |conn| {
            let stored = owned_task(owner, id)
                .select(TaskRow::as_select())
                .first(conn)?;
            let mut task = Task::from(stored);
            if changes.is_empty() {
                return Ok(task);
            }
            task.apply(&changes, now);
            diesel::update(owned_task(owner, id))
                .set((
                    tasks::title.eq(task.title.as_str()),
                    tasks::description.eq(task.description.as_ref().map(TaskDescription::as_str)),
                    tasks::completed.eq(task.completed),
                    next_updated_at!(tasks, now),
                ))
                .returning(TaskRow::as_returning())
                .get_result(conn)
                .map(Task::from)
        })
        .await
    }

    async fn toggle(
        &self,
        owner: UserId,
        id: TaskId,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        self.write(move |conn| {
            diesel::update(owned_task(owner, id))
                .set((
                    tasks::completed.eq(diesel::dsl::not(tasks::completed)),
                    next_updated_at!(tasks, now),
                ))
                .returning(TaskRow::as_returning())
                .get_result(conn)
        })
        .await
        .map(Task::from)
    }

    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError> {
        self.write(move |conn| {
            diesel::delete(owned_task(owner, id))
                .execute(conn)
                .and_then(one_row)?;
            diesel::update(users::table.find(owner.to_string()))
                .set(users::task_count.eq(users::task_count - 1))
                .execute(conn)
                .map(drop)
        })
        .await
    }
}

#[async_trait]
impl Readiness for SqliteStore {
    async fn check(&self) -> Result<(), RepoError> {
        self.ping().await
    }
}
