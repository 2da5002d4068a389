//! The repository ports on [`SqliteStore`], in SQL that SQLite runs as PostgreSQL runs
//! its own: every task statement filters by owner, each multi-statement write is one
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{OptionalExtension, QueryResult, QueryableByName, RunQueryDsl, sql_query};
use tessera_application::ports::{
    EventRepository, NewTask, Readiness, RepoError, SessionRepository, TaskPage, TaskRepository,
    UserRepository,
};
use tessera_domain::{
    ClientInfo, CredentialVersion, Credentials, EmailAddress, NewUser, PasswordHash, SecurityEvent,
    Session, SessionId, Task, TaskChanges, TaskDescription, TaskId, TaskStatusFilter, TaskTitle,
    User, UserId, UserName,
};

use crate::SqliteStore;
use crate::convert::{instant, micros, uuid};

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    password_hash: String,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    updated_at: i64,
    #[diesel(sql_type = BigInt)]
    credential_version: i64,
}

impl UserRow {
    fn into_domain(self) -> Credentials {
        let user = User {
            id: UserId::from_uuid(uuid(&self.id)),
            email: EmailAddress::from_trusted(self.email),
            name: UserName::from_trusted(self.name),
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

const USER_COLUMNS: &str =
    "id, email, name, password_hash, created_at, updated_at, credential_version";

/// The credential version of a user, if the user exists.
fn credential_version(conn: &mut SqliteConnection, user: UserId) -> QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        credential_version: i64,
    }
    sql_query("SELECT credential_version FROM users WHERE id = ?")
        .bind::<Text, _>(user.to_string())
        .get_result::<Version>(conn)
        .optional()
        .map(|row| row.map(|row| row.credential_version))
}

#[derive(QueryableByName)]
struct SessionRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
    expires_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    ended_at: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent: Option<String>,
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

const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, ended_at, ip, user_agent";

#[derive(QueryableByName)]
struct TaskRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = Bool)]
    completed: bool,
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = BigInt)]
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

const TASK_COLUMNS: &str = "id, user_id, title, description, completed, created_at, updated_at";

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    at: i64,
    #[diesel(sql_type = Nullable<Text>)]
    ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn insert_session(conn: &mut SqliteConnection, session: &Session) -> QueryResult<usize> {
    let (ip, user_agent) = session.client.to_columns();
    sql_query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, ended_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind::<Text, _>(session.id.to_string())
    .bind::<Text, _>(session.user_id.to_string())
    .bind::<BigInt, _>(micros(session.created_at))
    .bind::<BigInt, _>(micros(session.expires_at))
    .bind::<Nullable<BigInt>, _>(session.ended_at.map(micros))
    .bind::<Nullable<Text>, _>(ip)
    .bind::<Nullable<Text>, _>(user_agent)
    .execute(conn)
}

/// `updated_at` of a change at `now` to a row last changed at the stored value: never
/// backwards (see `Task::next_updated_at`), in SQL.
const NEXT_UPDATED_AT: &str = "max(?, updated_at + 1)";

#[async_trait]
impl UserRepository for SqliteStore {
    async fn insert(&self, new_user: &NewUser, first_session: &Session) -> Result<(), RepoError> {
        let user = new_user.user.clone();
        let hash = new_user.password_hash.as_str().to_owned();
        let session = first_session.clone();
        let inserted = self
            .write(move |conn| {
                sql_query(
                    "INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind::<Text, _>(user.id.to_string())
                .bind::<Text, _>(user.email.as_str())
                .bind::<Text, _>(user.name.as_str())
                .bind::<Text, _>(&hash)
                .bind::<BigInt, _>(micros(user.created_at))
                .bind::<BigInt, _>(micros(user.updated_at))
                .execute(conn)?;
                // Only a taken email is a conflict for the caller.
                insert_session(conn, &session)
            })
            .await;
        inserted.map(drop)
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &PasswordHash,
        version: CredentialVersion,
    ) -> Result<(), RepoError> {
        let hash = hash.as_str().to_owned();
        self.write(move |conn| {
            sql_query("UPDATE users SET password_hash = ? WHERE id = ? AND credential_version = ?")
                .bind::<Text, _>(hash)
                .bind::<Text, _>(id.to_string())
                .bind::<BigInt, _>(version.get())
                .execute(conn)
        })
        .await
        .map(drop)
    }

    async fn set_name(
        &self,
        id: UserId,
        name: &UserName,
        at: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        let name = name.as_str().to_owned();
        self.write(move |conn| {
            sql_query(format!(
                "UPDATE users SET name = ?, updated_at = {NEXT_UPDATED_AT} WHERE id = ?
                 RETURNING {USER_COLUMNS}"
            ))
            .bind::<Text, _>(name)
            .bind::<BigInt, _>(micros(at))
            .bind::<Text, _>(id.to_string())
            .get_result::<UserRow>(conn)
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
    ) -> Result<(), RepoError> {
        let hash = hash.as_str().to_owned();
        let session = new_session.clone();
        // One writer at a time (BEGIN IMMEDIATE): the version read here is the latest.
        self.write(move |conn| {
            match credential_version(conn, id)? {
                None => return Ok(Err(RepoError::NotFound)),
                Some(stored) if stored != checked.get() => return Ok(Err(RepoError::Conflict)),
                Some(_) => {}
            }
            sql_query(format!(
                "UPDATE users SET password_hash = ?, credential_version = ?,
                 updated_at = {NEXT_UPDATED_AT} WHERE id = ?"
            ))
            .bind::<Text, _>(hash)
            .bind::<BigInt, _>(checked.next().get())
            .bind::<BigInt, _>(micros(at))
            .bind::<Text, _>(id.to_string())
            .execute(conn)?;
            sql_query("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL")
                .bind::<BigInt, _>(micros(at))
                .bind::<Text, _>(id.to_string())
                .execute(conn)?;
            insert_session(conn, &session)?;
            Ok(Ok(()))
        })
        .await?
    }

    async fn delete(&self, id: UserId) -> Result<(), RepoError> {
        // Tasks, sessions and events go with the account (ON DELETE CASCADE).
        let deleted = self
            .write(move |conn| {
                sql_query("DELETE FROM users WHERE id = ?")
                    .bind::<Text, _>(id.to_string())
                    .execute(conn)
            })
            .await?;
        if deleted == 0 {
            Err(RepoError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>, RepoError> {
        let email = email.to_owned();
        self.run(move |conn| {
            sql_query(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower(?)"
            ))
            .bind::<Text, _>(email)
            .get_result::<UserRow>(conn)
            .optional()
        })
        .await
        .map(|row| row.map(UserRow::into_domain))
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        self.run(move |conn| {
            sql_query(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
                .bind::<Text, _>(id.to_string())
                .get_result::<UserRow>(conn)
                .optional()
        })
        .await
        .map(|row| row.map(|row| row.into_domain().user))
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
            // `cap`, it included.
            sql_query(
                "UPDATE sessions SET ended_at = ?1 WHERE id IN (
                    SELECT id FROM sessions
                    WHERE user_id = ?2 AND ended_at IS NULL AND expires_at > ?1
                    ORDER BY created_at DESC, id DESC
                    LIMIT -1 OFFSET ?3)",
            )
            .bind::<BigInt, _>(micros(session.created_at))
            .bind::<Text, _>(session.user_id.to_string())
            .bind::<BigInt, _>(i64::from(cap))
            .execute(conn)?;
            Ok(Ok(()))
        })
        .await?
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        self.run(move |conn| {
            sql_query(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
            ))
            .bind::<Text, _>(id.to_string())
            .get_result::<SessionRow>(conn)
            .optional()
        })
        .await
        .map(|row| row.map(Session::from))
    }

    async fn end(&self, user: UserId, id: SessionId, at: DateTime<Utc>) -> Result<bool, RepoError> {
        self.write(move |conn| {
            sql_query(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND user_id = ? AND ended_at IS NULL",
            )
            .bind::<BigInt, _>(micros(at))
            .bind::<Text, _>(id.to_string())
            .bind::<Text, _>(user.to_string())
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
            sql_query(
                "UPDATE sessions SET ended_at = ?
                 WHERE user_id = ? AND ended_at IS NULL AND id <> ?",
            )
            .bind::<BigInt, _>(micros(at))
            .bind::<Text, _>(user.to_string())
            .bind::<Text, _>(spared)
            .execute(conn)
        })
        .await
        .map(|ended| ended as u64)
    }

    async fn list_live(&self, user: UserId, now: DateTime<Utc>) -> Result<Vec<Session>, RepoError> {
        self.run(move |conn| {
            sql_query(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions
                 WHERE user_id = ? AND ended_at IS NULL AND expires_at > ?
                 ORDER BY created_at DESC, id DESC"
            ))
            .bind::<Text, _>(user.to_string())
            .bind::<BigInt, _>(micros(now))
            .load::<SessionRow>(conn)
        })
        .await
        .map(|rows| rows.into_iter().map(Session::from).collect())
    }

    async fn prune(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, RepoError> {
        self.write(move |conn| {
            sql_query(
                "DELETE FROM sessions WHERE id IN (
                    SELECT id FROM sessions WHERE ended_at < ?1 OR expires_at < ?1 LIMIT ?2)",
            )
            .bind::<BigInt, _>(micros(before))
            .bind::<BigInt, _>(i64::from(batch))
            .execute(conn)
        })
        .await
        .map(|deleted| deleted as u64)
    }
}

#[async_trait]
impl EventRepository for SqliteStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), RepoError> {
        let (ip, user_agent) = event.client.to_columns();
        let event = event.clone();
        // An event of an account deleted meanwhile is dropped (nothing to insert into).
        self.write(move |conn| {
            sql_query(
                "INSERT INTO security_events (user_id, kind, at, ip, user_agent)
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1)",
            )
            .bind::<Text, _>(event.user_id.to_string())
            .bind::<Text, _>(event.kind.as_str())
            .bind::<BigInt, _>(micros(event.at))
            .bind::<Nullable<Text>, _>(ip)
            .bind::<Nullable<Text>, _>(user_agent)
            .execute(conn)
            .map(drop)
        })
        .await
    }

    async fn list(&self, user: UserId, limit: u32) -> Result<Vec<SecurityEvent>, RepoError> {
        let rows = self
            .run(move |conn| {
                sql_query(
                    "SELECT user_id, kind, at, ip, user_agent FROM security_events
                     WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                )
                .bind::<Text, _>(user.to_string())
                .bind::<BigInt, _>(i64::from(limit))
                .load::<EventRow>(conn)
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
            sql_query(
                "DELETE FROM security_events WHERE id IN (
                    SELECT id FROM security_events WHERE at < ? LIMIT ?)",
            )
            .bind::<BigInt, _>(micros(before))
            .bind::<BigInt, _>(i64::from(batch))
            .execute(conn)
        })
        .await
        .map(|deleted| deleted as u64)
    }
}

/// The `completed` condition of a listing, as SQL.
fn status_condition(filter: TaskStatusFilter) -> &'static str {
    match filter {
        TaskStatusFilter::All => "",
        TaskStatusFilter::Pending => " AND completed = 0",
        TaskStatusFilter::Completed => " AND completed = 1",
    }
}

fn owned_task(conn: &mut SqliteConnection, owner: UserId, id: TaskId) -> QueryResult<TaskRow> {
    sql_query(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE id = ? AND user_id = ?"
    ))
    .bind::<BigInt, _>(id.get())
    .bind::<Text, _>(owner.to_string())
    .get_result::<TaskRow>(conn)
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
        let condition = status_condition(filter);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.run(move |conn| {
            let total = sql_query(format!(
                "SELECT count(*) AS n FROM tasks WHERE user_id = ?{condition}"
            ))
            .bind::<Text, _>(owner.to_string())
            .get_result::<Count>(conn)?;
            let rows = sql_query(format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?{condition}
                 ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
            ))
            .bind::<Text, _>(owner.to_string())
            .bind::<BigInt, _>(i64::from(limit))
            .bind::<BigInt, _>(offset)
            .load::<TaskRow>(conn)?;
            Ok(TaskPage {
                tasks: rows.into_iter().map(Task::from).collect(),
                total: u64::try_from(total.n).unwrap_or_default(),
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
                let counted = sql_query(
                    "UPDATE users SET task_count = task_count + 1 WHERE id = ? AND task_count < ?",
                )
                .bind::<Text, _>(owner.to_string())
                .bind::<Integer, _>(i32::try_from(max_tasks).unwrap_or(i32::MAX))
                .execute(conn)?;
                if counted == 0 {
                    return Ok(None);
                }
                sql_query(format!(
                    "INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at)
                     VALUES (?, ?, ?, 0, ?, ?) RETURNING {TASK_COLUMNS}"
                ))
                .bind::<Text, _>(owner.to_string())
                .bind::<Text, _>(title)
                .bind::<Nullable<Text>, _>(description)
                .bind::<BigInt, _>(micros(now))
                .bind::<BigInt, _>(micros(now))
                .get_result::<TaskRow>(conn)
                .map(Some)
            })
            .await?;
        created.map(Task::from).ok_or(RepoError::LimitReached)
    }

    async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, RepoError> {
        self.run(move |conn| owned_task(conn, owner, id))
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
        let changes = changes.clone();
        self.write(move |conn| {
            let mut task = Task::from(owned_task(conn, owner, id)?);
            task.apply(&changes, now);
            sql_query(format!(
                "UPDATE tasks SET title = ?, description = ?, completed = ?,
                 updated_at = {NEXT_UPDATED_AT}
                 WHERE id = ? AND user_id = ? RETURNING {TASK_COLUMNS}"
            ))
            .bind::<Text, _>(task.title.as_str())
            .bind::<Nullable<Text>, _>(task.description.as_ref().map(TaskDescription::as_str))
            .bind::<Bool, _>(task.completed)
            .bind::<BigInt, _>(micros(now))
            .bind::<BigInt, _>(id.get())
            .bind::<Text, _>(owner.to_string())
            .get_result::<TaskRow>(conn)
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
        self.write(move |conn| {
            sql_query(format!(
                "UPDATE tasks SET completed = 1 - completed, updated_at = {NEXT_UPDATED_AT}
                 WHERE id = ? AND user_id = ? RETURNING {TASK_COLUMNS}"
            ))
            .bind::<BigInt, _>(micros(now))
            .bind::<BigInt, _>(id.get())
            .bind::<Text, _>(owner.to_string())
            .get_result::<TaskRow>(conn)
        })
        .await
        .map(Task::from)
    }

    async fn delete(&self, owner: UserId, id: TaskId) -> Result<(), RepoError> {
        let deleted = self
            .write(move |conn| {
                let deleted = sql_query("DELETE FROM tasks WHERE id = ? AND user_id = ?")
                    .bind::<BigInt, _>(id.get())
                    .bind::<Text, _>(owner.to_string())
                    .execute(conn)?;
                if deleted > 0 {
                    sql_query("UPDATE users SET task_count = task_count - 1 WHERE id = ?")
                        .bind::<Text, _>(owner.to_string())
                        .execute(conn)?;
                }
                Ok(deleted)
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
impl Readiness for SqliteStore {
    async fn check(&self) -> Result<(), RepoError> {
        self.ping().await
    }
}
