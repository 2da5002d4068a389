//! The repository ports on [`PgStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::pg::data_types::PgInterval;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tessera_application::ports::{
    EventRepository, LinkRecord, NewTask, QueuedMail, Readiness, RepoError, SessionRepository,
    TaskPage, TaskRepository, UserRepository,
};
use tessera_domain::{
    ClientInfo, CredentialVersion, Credentials, EmailAddress, NewUser, PasswordHash, SecurityEvent,
    Session, SessionId, Task, TaskChanges, TaskDescription, TaskId, TaskStatusFilter, TaskTitle,
    User, UserId, UserName,
};
use uuid::Uuid;

use crate::error::query_error;
use crate::pool::PgStore;
use crate::schema::{security_events, sessions, tasks, users};

diesel::define_sql_function! {
    /// SQL `lower(text)`, to match the unique index on `lower(email)`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `greatest(a, b)` of two instants.
    fn greatest(a: diesel::sql_types::Timestamptz, b: diesel::sql_types::Timestamptz) -> diesel::sql_types::Timestamptz;
}

/// [`Task::next_updated_at`] in SQL, against the row as it is stored when the update
/// runs: `now`, or one microsecond after the stored `updated_at` when this instance's
/// clock is behind the one that wrote it. One rule for every table with an `updated_at`.
macro_rules! next_updated_at {
    ($table:ident, $now:expr) => {
        $table::updated_at.eq(greatest(
            $now.into_sql::<diesel::sql_types::Timestamptz>(),
            $table::updated_at + PgInterval::from_microseconds(1),
        ))
    };
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    password_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    credential_version: i64,
    email_verified: bool,
}

impl UserRow {
    fn into_domain(self) -> Credentials {
        let user = User {
            id: UserId::from_uuid(self.id),
            email: EmailAddress::from_trusted(self.email),
            name: UserName::from_trusted(self.name),
            email_verified: self.email_verified,
            created_at: self.created_at,
            updated_at: self.updated_at,
        };
        Credentials {
            user,
            hash: PasswordHash::new(self.password_hash),
            version: CredentialVersion::from_stored(self.credential_version),
        }
    }
}

/// A reset's change of the account `user`, in the caller's transaction: the new hash with
/// the version moved on, the address proven, every active session ended at `now` and
/// `new_session` stored. Returns the account as stored.
pub(crate) async fn reset_account(
    conn: &mut diesel_async::AsyncPgConnection,
    user: Uuid,
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
        .get_result(conn)
        .await?;
    end_active_sessions(conn, user, now).await?;
    diesel::insert_into(sessions::table)
        .values(&SessionRow::from(new_session))
        .execute(conn)
        .await?;
    Ok(row.into_domain().user)
}

/// Marks the address of `user` proven, after making it `new_email` if given (a taken
/// address fails the unique index), and returns the account.
pub(crate) async fn prove_address(
    conn: &mut diesel_async::AsyncPgConnection,
    user: Uuid,
    new_email: Option<&EmailAddress>,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    let update = diesel::update(users::table.find(user));
    let row = match new_email {
        Some(email) => {
            update
                .set((
                    users::email.eq(email.as_str()),
                    users::email_verified.eq(true),
                    next_updated_at!(users, now),
                ))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await?
        }
        None => {
            update
                .set((users::email_verified.eq(true), next_updated_at!(users, now)))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await?
        }
    };
    Ok(row.into_domain().user)
}

/// Ends every active session of `user` at `at`.
async fn end_active_sessions(
    conn: &mut diesel_async::AsyncPgConnection,
    user: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(at))
    .execute(conn)
    .await
}

#[async_trait]
impl UserRepository for PgStore {
    async fn insert(
        &self,
        new_user: &NewUser,
        first_session: Option<&Session>,
        verification: Option<(&QueuedMail, &LinkRecord)>,
    ) -> Result<(), RepoError> {
        let user = &new_user.user;
        let row = UserRow {
            id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            password_hash: new_user.password_hash.as_str().to_owned(),
            created_at: user.created_at,
            updated_at: user.updated_at,
            credential_version: CredentialVersion::INITIAL.get(),
            email_verified: user.email_verified,
        };
        let session = first_session.map(SessionRow::from);
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(users::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                // Only a taken email is a conflict for the caller.
                if let Some(session) = &session {
                    diesel::insert_into(sessions::table)
                        .values(session)
                        .execute(conn)
                        .await?;
                }
                if let Some((mail, link)) = verification {
                    crate::mail::add_link(conn, link).await?;
                    crate::mail::enqueue(conn, mail, mail.queued_at).await?;
                }
                Ok(())
            })
            .await
        })
        .await
    }

    async fn set_name(
        &self,
        id: UserId,
        name: &UserName,
        at: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::update(users::table.find(id.as_uuid()))
            .set((users::name.eq(name.as_str()), next_updated_at!(users, at)))
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(|row| row.into_domain().user)
            .map_err(query_error)
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
        let session = SessionRow::from(new_session);
        let user = id.as_uuid();
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // The row lock of the update orders this change after any signin
                // storing a session of the old password, and after another change;
                // one that committed first leaves no row at `checked`.
                let changed = diesel::update(
                    users::table
                        .find(user)
                        .filter(users::credential_version.eq(checked.get())),
                )
                .set((
                    users::password_hash.eq(hash.as_str()),
                    users::credential_version.eq(checked.next().get()),
                    next_updated_at!(users, at),
                ))
                .execute(conn)
                .await?;
                if changed == 0 {
                    let exists = users::table
                        .find(user)
                        .select(users::id)
                        .first::<Uuid>(conn)
                        .await
                        .optional()?;
                    return Ok(if exists.is_some() {
                        Err(RepoError::Conflict)
                    } else {
                        Err(RepoError::NotFound)
                    });
                }
                end_active_sessions(conn, user, at).await?;
                diesel::insert_into(sessions::table)
                    .values(&session)
                    .execute(conn)
                    .await?;
                crate::mail::void_all(conn, user).await?;
                crate::mail::enqueue(conn, notice, at).await?;
                Ok(Ok(()))
            })
            .await
        })
        .await?
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        // Tasks, sessions and events go with the account (ON DELETE CASCADE): one
        // statement, so all or nothing.
        let mut conn = self.auth_conn().await?;
        let deleted = diesel::delete(users::table.find(id.as_uuid()))
            .execute(&mut conn)
            .await
            .map_err(query_error)?;
        if deleted == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        version: CredentialVersion,
    ) -> Result<(), RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::update(
            users::table
                .find(id.as_uuid())
                .filter(users::credential_version.eq(version.get())),
        )
        .set(users::password_hash.eq(hash.as_str()))
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(query_error)
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError> {
        // PostgreSQL refuses text holding NUL; no stored address holds one.
        if email.contains('\0') {
            return Ok(None);
        }
        let mut conn = self.auth_conn().await?;
        users::table
            .filter(lower(users::email).eq(lower(email)))
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(UserRow::into_domain))
            .map_err(query_error)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let mut conn = self.auth_conn().await?;
        users::table
            .find(id.as_uuid())
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(|row| row.into_domain().user))
            .map_err(query_error)
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<&Session> for SessionRow {
    fn from(session: &Session) -> Self {
        let (ip, user_agent) = session.client.to_columns();
        Self {
            id: session.id.as_uuid(),
            user_id: session.user_id.as_uuid(),
            created_at: session.created_at,
            expires_at: session.expires_at,
            ended_at: session.ended_at,
            ip,
            user_agent,
        }
    }
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Self {
            id: SessionId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at,
            expires_at: row.expires_at,
            ended_at: row.ended_at,
            client: ClientInfo::from_columns(row.ip, row.user_agent),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events, check_for_backend(diesel::pg::Pg))]
struct EventRow {
    user_id: Uuid,
    kind: String,
    at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The ids of the oldest live sessions of a user beyond a cap, as of an instant; `$1`
/// the user, `$2` the instant, `$3` how many newest to keep.
const SESSIONS_BEYOND_CAP: &str = "UPDATE sessions SET ended_at = $2 WHERE id IN (
    SELECT id FROM sessions
    WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2
    ORDER BY created_at DESC, id DESC
    OFFSET $3)";

#[async_trait]
impl SessionRepository for PgStore {
    async fn create(
        &self,
        session: &Session,
        cap: u32,
        checked: CredentialVersion,
    ) -> Result<(), RepoError> {
        let row = SessionRow::from(session);
        let user = session.user_id.as_uuid();
        let at = session.created_at;
        // Run after the insert, the statement sees the new session too: it keeps the
        // newest `cap`, the new one among them.
        let keep = i64::from(cap);
        self.on_auth(async |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // One signin of a user at a time past this point, so that two at once
                // cannot both keep the cap's last place. NO KEY UPDATE: inserts that only
                // reference the user (tasks, events) are not held up. The lock also waits
                // for a password change or a deletion in flight, and then reads what it
                // committed.
                let version = users::table
                    .find(user)
                    .select(users::credential_version)
                    .for_no_key_update()
                    .first::<i64>(conn)
                    .await
                    .optional()?;
                if version != Some(checked.get()) {
                    return Ok(Err(RepoError::NotFound));
                }
                diesel::insert_into(sessions::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                diesel::sql_query(SESSIONS_BEYOND_CAP)
                    .bind::<diesel::sql_types::Uuid, _>(user)
                    .bind::<diesel::sql_types::Timestamptz, _>(at)
                    .bind::<diesel::sql_types::BigInt, _>(keep)
                    .execute(conn)
                    .await?;
                Ok(Ok(()))
            })
            .await
        })
        .await?
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        let mut conn = self.auth_conn().await?;
        sessions::table
            .find(id.as_uuid())
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(Session::from))
            .map_err(query_error)
    }

    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::update(
            sessions::table
                .filter(sessions::id.eq(id.as_uuid()))
                .filter(sessions::user_id.eq(user.as_uuid()))
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(at))
        .execute(&mut conn)
        .await
        .map(|ended| ended > 0)
        .map_err(query_error)
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        let mut conn = self.auth_conn().await?;
        sessions::table
            .filter(sessions::user_id.eq(user.as_uuid()))
            .filter(sessions::ended_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .select(SessionRow::as_select())
            .load(&mut conn)
            .await
            .map(|rows| rows.into_iter().map(Session::from).collect())
            .map_err(query_error)
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::sql_query(
            "DELETE FROM sessions WHERE id IN (
                SELECT id FROM sessions WHERE ended_at < $1 OR expires_at < $1
                LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(i64::from(batch))
        .execute(&mut conn)
        .await
        .map(|deleted| deleted as u64)
        .map_err(query_error)
    }

    async fn end_all(
        &self,
        user: UserId,
        except: Option<SessionId>,
        at: DateTime<Utc>,
    ) -> Result<u64, RepoError> {
        // The nil UUID is never a session id: with no exception, nothing is spared.
        let spared = except.map_or(Uuid::nil(), |id| id.as_uuid());
        let mut conn = self.auth_conn().await?;
        let ended = diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user.as_uuid()))
                .filter(sessions::ended_at.is_null())
                .filter(sessions::id.ne(spared)),
        )
        .set(sessions::ended_at.eq(at))
        .execute(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(ended as u64)
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
struct TaskRow {
    id: i64,
    user_id: Uuid,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Self {
            id: TaskId::new(row.id),
            owner: UserId::from_uuid(row.user_id),
            title: TaskTitle::from_trusted(row.title),
            description: row.description.map(TaskDescription::from_trusted),
            completed: row.completed,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// `None` leaves a column alone; `description: Some(None)` sets it to NULL.
#[derive(AsChangeset)]
#[diesel(table_name = tasks)]
struct TaskChangeset {
    title: Option<String>,
    description: Option<Option<String>>,
    completed: Option<bool>,
}

type OwnedTask = diesel::dsl::Filter<
    diesel::dsl::Filter<tasks::table, diesel::dsl::Eq<tasks::id, i64>>,
    diesel::dsl::Eq<tasks::user_id, Uuid>,
>;

/// One task, only if `owner` owns it: the isolation rule, in SQL, for every single-task
/// statement.
fn owned_task(owner: UserId, id: TaskId) -> OwnedTask {
    tasks::table
        .filter(tasks::id.eq(id.get()))
        .filter(tasks::user_id.eq(owner.as_uuid()))
}

#[async_trait]
impl TaskRepository for PgStore {
    async fn list(
        &self,
        owner: UserId,
        filter: TaskStatusFilter,
        limit: u32,
        offset: u64,
    ) -> Result<TaskPage, RepoError> {
        let owned = tasks::table.filter(tasks::user_id.eq(owner.as_uuid()));
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // One statement per filter, each with SQL fixed at compile time, so that every one
        // is prepared once per connection. The page carries the count of every matching
        // task (a window over the filtered rows, computed before LIMIT); only an empty page
        // needs a second statement to know it.
        macro_rules! page {
            ($query:expr, $conn:expr) => {
                $query
                    .order((tasks::created_at.desc(), tasks::id.desc()))
                    .limit(i64::from(limit))
                    .offset(offset)
                    .select((TaskRow::as_select(), dsl::count(tasks::id).over()))
                    .load::<(TaskRow, i64)>($conn)
                    .await
            };
        }
        macro_rules! count {
            ($query:expr, $conn:expr) => {
                $query.count().get_result::<i64>($conn).await
            };
        }
        let (rows, total) = self
            .on_tasks(async |conn| {
                let rows = match filter {
                    TaskStatusFilter::All => page!(owned, &mut *conn)?,
                    TaskStatusFilter::Pending => {
                        page!(owned.filter(tasks::completed.eq(false)), &mut *conn)?
                    }
                    TaskStatusFilter::Completed => {
                        page!(owned.filter(tasks::completed.eq(true)), &mut *conn)?
                    }
                };
                let total = match rows.as_slice() {
                    [(_, total), ..] => *total,
                    [] if offset == 0 => 0,
                    [] => match filter {
                        TaskStatusFilter::All => count!(owned, &mut *conn)?,
                        TaskStatusFilter::Pending => {
                            count!(owned.filter(tasks::completed.eq(false)), &mut *conn)?
                        }
                        TaskStatusFilter::Completed => {
                            count!(owned.filter(tasks::completed.eq(true)), &mut *conn)?
                        }
                    },
                };
                Ok((rows, total))
            })
            .await?;
        Ok(TaskPage {
            tasks: rows.into_iter().map(|(row, _)| Task::from(row)).collect(),
            total: u64::try_from(total).unwrap_or_default(),
        })
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
        // One statement: the owner's count rises only while under the limit (a second
        // creation at the limit waits for the first's row lock, then sees its count), and
        // the task is inserted only if it rose.
        let created: Option<TaskRow> = self
            .on_tasks(async |conn| {
                diesel::sql_query(
                    "WITH owner AS (
                        UPDATE users SET task_count = task_count + 1
                        WHERE id = $1 AND task_count < $2
                        RETURNING id)
                    INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at)
                    SELECT id, $3, $4, false, $5, $5 FROM owner
                    RETURNING id, user_id, title, description, completed, created_at, updated_at",
                )
                .bind::<diesel::sql_types::Uuid, _>(owner.as_uuid())
                .bind::<diesel::sql_types::Integer, _>(i32::try_from(max_tasks).unwrap_or(i32::MAX))
                .bind::<diesel::sql_types::Text, _>(&title)
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(&description)
                .bind::<diesel::sql_types::Timestamptz, _>(now)
                .get_result(conn)
                .await
                .optional()
            })
            .await?;
        created.map(Task::from).ok_or(RepoError::LimitReached)
    }

    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError> {
        self.on_tasks(async |conn| {
            owned_task(owner, id)
                .select(TaskRow::as_select())
                .first(conn)
                .await
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
        if changes.is_empty() {
            return self.get(owner, id).await;
        }
        let changeset = TaskChangeset {
            title: changes.title.as_ref().map(|t| t.as_str().to_owned()),
            description: changes
                .description
                .as_ref()
                .map(|d| d.as_ref().map(|d| d.as_str().to_owned())),
            completed: changes.completed,
        };
        self.on_tasks(async |conn| {
            diesel::update(owned_task(owner, id))
                .set((&changeset, next_updated_at!(tasks, now)))
                .returning(TaskRow::as_returning())
                .get_result(conn)
                .await
        })
        .await
        .map(Task::from)
    }

    async fn toggle(
        &self,
        owner: UserId,
        id: TaskId,
        now: DateTime<Utc>,
    ) -> Result<Task, RepoError> {
        self.on_tasks(async |conn| {
            diesel::update(owned_task(owner, id))
                .set((
                    tasks::completed.eq(diesel::dsl::not(tasks::completed)),
                    next_updated_at!(tasks, now),
                ))
                .returning(TaskRow::as_returning())
                .get_result(conn)
                .await
        })
        .await
        .map(Task::from)
    }

    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError> {
        // The task and the owner's count, in one statement.
        let deleted = self
            .on_tasks(async |conn| {
                diesel::sql_query(
                    "WITH gone AS (DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING user_id)
                    UPDATE users SET task_count = task_count - 1 WHERE id IN (SELECT user_id FROM gone)",
                )
                .bind::<diesel::sql_types::BigInt, _>(id.get())
                .bind::<diesel::sql_types::Uuid, _>(owner.as_uuid())
                .execute(conn)
                .await
            })
            .await?;
        if deleted == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl EventRepository for PgStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError> {
        let (ip, user_agent) = event.client.to_columns();
        let row = EventRow {
            user_id: event.user_id.as_uuid(),
            kind: event.kind.as_str().to_owned(),
            at: event.at,
            ip,
            user_agent,
        };
        let mut conn = self.auth_conn().await?;
        match diesel::insert_into(security_events::table)
            .values(&row)
            .execute(&mut conn)
            .await
        {
            Ok(_) => Ok(()),
            // The account was deleted meanwhile: its events went with it.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _,
            )) => Ok(()),
            Err(other) => Err(query_error(other)),
        }
    }

    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        let mut conn = self.auth_conn().await?;
        let rows: Vec<EventRow> = security_events::table
            .filter(security_events::user_id.eq(user.as_uuid()))
            .order((security_events::at.desc(), security_events::id.desc()))
            .limit(i64::from(limit))
            .select(EventRow::as_select())
            .load(&mut conn)
            .await
            .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(SecurityEvent {
                    user_id: UserId::from_uuid(row.user_id),
                    kind: row.kind.parse().ok()?,
                    at: row.at,
                    client: ClientInfo::from_columns(row.ip, row.user_agent),
                })
            })
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::sql_query(
            "DELETE FROM security_events WHERE id IN (
                SELECT id FROM security_events WHERE at < $1
                LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .bind::<diesel::sql_types::BigInt, _>(i64::from(batch))
        .execute(&mut conn)
        .await
        .map(|deleted| deleted as u64)
        .map_err(query_error)
    }
}

#[async_trait]
impl Readiness for PgStore {
    async fn check(&self) -> Result<(), RepoError> {
        self.ping().await
    }
}
