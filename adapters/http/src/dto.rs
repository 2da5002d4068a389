//! Request bodies and response documents: the wire format, kept out of the use cases.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tessera_application::{
    ChangePasswordCommand, CreateTaskCommand, DeleteAccountCommand, IssuedSession,
    PatchTaskCommand, REDACTED, ReplaceTaskCommand, SessionView, SignInCommand, SignUpCommand,
};
use tessera_domain::{ClientInfo, SecurityEvent, Task, User};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 in UTC with a `Z`, with fractional seconds only when there are some.
fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A request body that must be a JSON object with no key twice (at any depth, in any
/// spelling: see `tessera_json`). serde would otherwise also read a struct from an array
/// of its fields in order (`["Buy milk", null]`), and keep the last of two equal keys;
/// the contract refuses both as invalid JSON.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let tessera_json::StrictValue(value) =
            tessera_json::StrictValue::deserialize(deserializer)?;
        if !value.is_object() {
            return Err(D::Error::custom("expected a JSON object"));
        }
        T::deserialize(value).map(Object).map_err(D::Error::custom)
    }
}

/// `POST /api/auth/signup`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Alice Johnson", "email": "Alice@Example.com", "password": "securepassword123"}))]
pub struct SignUpBody {
    /// Trimmed; 1 to 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Option<String>,
    /// Trimmed and lower-cased; a valid address of at most 254 characters.
    #[schema(value_type = String, format = Email, max_length = 254)]
    email: Option<String>,
    /// 8 characters to 72 bytes; not a common password.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    password: Option<String>,
}

impl std::fmt::Debug for SignUpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpBody")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl From<SignUpBody> for SignUpCommand {
    fn from(body: SignUpBody) -> Self {
        Self {
            name: body.name,
            email: body.email,
            password: body.password,
            client: ClientInfo::default(),
        }
    }
}

/// `POST /api/auth/signin`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.com", "password": "securepassword123"}))]
pub struct SignInBody {
    /// Any letter case.
    #[schema(value_type = String, min_length = 1)]
    email: Option<String>,
    /// The password.
    #[schema(value_type = String, min_length = 1)]
    password: Option<String>,
}

impl std::fmt::Debug for SignInBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInBody")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl From<SignInBody> for SignInCommand {
    fn from(body: SignInBody) -> Self {
        Self {
            email: body.email,
            password: body.password,
            client: ClientInfo::default(),
        }
    }
}

/// `PATCH /api/auth/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Alice Smith"}))]
pub struct UpdateMeBody {
    /// Trimmed; 1 to 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// `POST /api/auth/password`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "securepassword123", "new_password": "another-long-secret-42"}))]
pub struct ChangePasswordBody {
    /// The password in use.
    #[schema(value_type = String, min_length = 1)]
    current_password: Option<String>,
    /// 8 characters to 72 bytes; not a common password.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    new_password: Option<String>,
}

impl std::fmt::Debug for ChangePasswordBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePasswordBody")
            .field(
                "current_password",
                &self.current_password.as_ref().map(|_| REDACTED),
            )
            .field(
                "new_password",
                &self.new_password.as_ref().map(|_| REDACTED),
            )
            .finish()
    }
}

impl From<ChangePasswordBody> for ChangePasswordCommand {
    fn from(body: ChangePasswordBody) -> Self {
        Self {
            current_password: body.current_password,
            new_password: body.new_password,
            client: ClientInfo::default(),
        }
    }
}

/// `DELETE /api/auth/me`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"password": "securepassword123"}))]
pub struct DeleteAccountBody {
    /// The account's password.
    #[schema(value_type = String, min_length = 1)]
    password: Option<String>,
}

impl std::fmt::Debug for DeleteAccountBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteAccountBody")
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl From<DeleteAccountBody> for DeleteAccountCommand {
    fn from(body: DeleteAccountBody) -> Self {
        Self {
            password: body.password,
            client: ClientInfo::default(),
        }
    }
}

/// `GET /api/auth/events` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEventsParams {
    /// Most events, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// `POST /api/auth/signout`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"scope": "local"}))]
pub struct SignOutBody {
    /// `local` (default), `global` or `others`.
    #[schema(pattern = "^(local|global|others)$")]
    pub scope: Option<String>,
}

/// `POST /api/{user_id}/tasks`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Buy groceries", "description": "Milk, eggs, bread"}))]
pub struct CreateTaskBody {
    /// Trimmed; 1 to 200 characters.
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    title: Option<String>,
    /// Trimmed; at most 1000 characters; empty means none.
    #[schema(max_length = 1000)]
    description: Option<String>,
}

impl From<CreateTaskBody> for CreateTaskCommand {
    fn from(body: CreateTaskBody) -> Self {
        Self {
            title: body.title,
            description: body.description,
        }
    }
}

/// `PUT /api/{user_id}/tasks/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Buy groceries", "description": "Milk", "completed": true}))]
pub struct ReplaceTaskBody {
    /// Trimmed; 1 to 200 characters.
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    title: Option<String>,
    /// Replaces the description; absent clears it.
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// Kept when absent.
    completed: Option<bool>,
}

impl From<ReplaceTaskBody> for ReplaceTaskCommand {
    fn from(body: ReplaceTaskBody) -> Self {
        Self {
            title: body.title,
            description: body.description,
            completed: body.completed,
        }
    }
}

/// `PATCH /api/{user_id}/tasks/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"completed": true}))]
pub struct PatchTaskBody {
    /// A new title (1 to 200 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    title: Option<Option<String>>,
    /// A new description; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    description: Option<Option<String>>,
    /// A new completion state.
    completed: Option<bool>,
}

impl From<PatchTaskBody> for PatchTaskCommand {
    fn from(body: PatchTaskBody) -> Self {
        Self {
            title: body.title,
            description: body.description,
            completed: body.completed,
        }
    }
}

/// `GET /api/{user_id}/tasks` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasksParams {
    /// `all` (default), `pending` or `completed`.
    #[param(pattern = "^(all|pending|completed)$")]
    pub status: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Tasks to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0)]
    pub offset: Option<String>,
}

/// The path of a single-task route, for the OpenAPI document (the handlers read it
/// through `TaskPath`, which never fails).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "describes the path in the document; never built")]
pub struct TaskPathParams {
    /// The caller's user id (UUID).
    user_id: String,
    /// The task id.
    task_id: i64,
}

/// A user as shown to its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(format = "uuid")]
    id: String,
    email: String,
    name: String,
    #[serde(serialize_with = "rfc3339")]
    created_at: DateTime<Utc>,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            created_at: user.created_at,
        }
    }
}

/// The answer to a signup or signin.
#[derive(Serialize, ToSchema)]
pub struct AuthResponse {
    user: UserResponse,
    token: String,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    #[serde(serialize_with = "rfc3339")]
    expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResponse")
            .field("user", &self.user)
            .field("token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<&IssuedSession> for AuthResponse {
    fn from(session: &IssuedSession) -> Self {
        Self {
            user: UserResponse::from(&session.user),
            token: session.token.clone(),
            token_type: "Bearer",
            expires_at: session.expires_at,
        }
    }
}

/// The answer to `GET /api/auth/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// The user.
    pub user: UserResponse,
    /// When the token expires.
    #[serde(serialize_with = "rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// The answer to `PATCH /api/auth/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserEnvelope {
    /// The user.
    pub user: UserResponse,
}

/// One live session, as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    #[schema(format = "uuid")]
    id: String,
    #[serde(serialize_with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    expires_at: DateTime<Utc>,
    /// Whether it is the caller's.
    current: bool,
    /// The client address at signin.
    #[schema(example = "203.0.113.7")]
    ip: Option<String>,
    /// The `User-Agent` at signin, at most 256 characters.
    user_agent: Option<String>,
}

impl From<&SessionView> for SessionResponse {
    fn from(view: &SessionView) -> Self {
        let session = &view.session;
        Self {
            id: session.id.to_string(),
            created_at: session.created_at,
            expires_at: session.expires_at,
            current: view.current,
            ip: session.client.ip.map(|ip| ip.to_string()),
            user_agent: session
                .client
                .user_agent
                .as_ref()
                .map(|ua| ua.as_str().to_owned()),
        }
    }
}

/// The answer to `GET /api/auth/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsResponse {
    /// The live sessions, newest first.
    pub sessions: Vec<SessionResponse>,
}

/// One security event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// `signup`, `signin`, `signin_failed`, `signout`, `session_ended`,
    /// `password_changed`, `name_changed` or `rate_limited`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "signin")]
    kind: &'static str,
    #[serde(serialize_with = "rfc3339")]
    at: DateTime<Utc>,
    /// The client address.
    ip: Option<String>,
    /// The `User-Agent`.
    user_agent: Option<String>,
}

impl From<&SecurityEvent> for EventResponse {
    fn from(event: &SecurityEvent) -> Self {
        Self {
            kind: event.kind.as_str(),
            at: event.at,
            ip: event.client.ip.map(|ip| ip.to_string()),
            user_agent: event
                .client
                .user_agent
                .as_ref()
                .map(|ua| ua.as_str().to_owned()),
        }
    }
}

/// The answer to `GET /api/auth/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    /// The events, newest first.
    pub events: Vec<EventResponse>,
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskResponse {
    id: i64,
    #[schema(format = "uuid")]
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    #[serde(serialize_with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    updated_at: DateTime<Utc>,
}

impl From<&Task> for TaskResponse {
    fn from(task: &Task) -> Self {
        Self {
            id: task.id.get(),
            user_id: task.owner.to_string(),
            title: task.title.as_str().to_owned(),
            description: task.description.as_ref().map(|d| d.as_str().to_owned()),
            completed: task.completed,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// Every error, whatever produced it.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"error": "Please enter a valid email", "code": "validation_failed", "fields": {"email": "Please enter a valid email"}}))]
pub struct ErrorResponse {
    /// A sentence that can be shown to an end user.
    pub error: String,
    /// A stable snake_case identifier.
    pub code: String,
    /// On validation errors only: one message per invalid field.
    pub fields: Option<std::collections::BTreeMap<String, String>>,
}

/// A confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// The sentence.
    #[schema(value_type = String)]
    pub message: &'static str,
}

/// The answer of `/health` and `/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// `ok` or `ready`.
    #[schema(value_type = String)]
    pub status: &'static str,
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use tessera_application::IssuedSession;
    use tessera_domain::{EmailAddress, User, UserId, UserName};

    use super::*;

    #[test]
    fn debug_output_never_shows_a_password_or_a_token() {
        let secret = "hunter2-very-secret";
        let body = format!(r#"{{"name":"A","email":"a@example.com","password":"{secret}"}}"#);
        let signup: Result<SignUpBody, _> = serde_json::from_str(&body);
        let signin: Result<SignInBody, _> = serde_json::from_str(&body);
        let session = IssuedSession {
            user: User {
                id: UserId::new_random(),
                email: EmailAddress::from_trusted("a@example.com".to_owned()),
                name: UserName::from_trusted("A".to_owned()),
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            token: secret.to_owned(),
            expires_at: Utc::now(),
        };
        let shown = [
            format!("{signup:?}"),
            format!("{signin:?}"),
            format!("{:?}", AuthResponse::from(&session)),
        ];
        for text in shown {
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains(REDACTED), "{text}");
        }
    }
}
