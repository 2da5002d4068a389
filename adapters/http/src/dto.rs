//! Request bodies and response documents: the wire format, kept out of the use cases.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tessera_application::{
    ChangeEmail, ChangePassword, DeleteAccount, IssuedSession, NewTask, SessionView, SignIn,
    SignUp, ValidationErrors,
};
use tessera_domain::{
    AccessToken, EmailAddress, EmailKey, LinkToken, PageQuery, Password, PasswordCandidate,
    PasswordCandidateError, REDACTED, SecurityEvent, SignOutScope, Task, TaskChanges,
    TaskDescription, TaskTitle, User, UserName,
};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 in UTC with a `Z`, with fractional seconds only when there are some.
fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// An access token as its text.
fn token_text<S: Serializer>(token: &AccessToken, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(token.as_str())
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

/// Reads a request body the one way the service reads every body: a strict JSON object
/// (see [`Object`]) of `T`'s fields.
///
/// # Errors
/// When the bytes are not such an object.
pub fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice::<Object<T>>(bytes).map(|Object(body)| body)
}

/// A password as it arrives in a body; `Debug` does not show it.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The text of an optional field; absent and `null` read as empty.
fn text(field: Option<&String>) -> &str {
    field.map_or("", String::as_str)
}

/// The text of an optional secret field; absent and `null` read as empty.
fn secret(field: Option<&SecretText>) -> &str {
    field.map_or("", |secret| secret.0.as_str())
}

/// `Ok` with `value` when no field was refused, the refusals otherwise.
fn collected<T>(errors: ValidationErrors, value: Option<T>) -> Result<T, ValidationErrors> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(errors),
    }
}

/// `POST /api/auth/signup`.
#[derive(Debug, Deserialize, ToSchema)]
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
    password: Option<SecretText>,
}

impl TryFrom<SignUpBody> for SignUp {
    type Error = ValidationErrors;

    fn try_from(body: SignUpBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.check("name", UserName::parse(text(body.name.as_ref())));
        let email = errors.check("email", EmailAddress::parse(text(body.email.as_ref())));
        let password = errors.check("password", Password::parse(secret(body.password.as_ref())));
        let signup = match (name, email, password) {
            (Some(name), Some(email), Some(password)) => Some(Self {
                name,
                email,
                password,
            }),
            _ => None,
        };
        collected(errors, signup)
    }
}

/// `POST /api/auth/signin`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.com", "password": "securepassword123"}))]
pub struct SignInBody {
    /// Any letter case.
    #[schema(value_type = String, min_length = 1)]
    email: Option<String>,
    /// The password.
    #[schema(value_type = String, min_length = 1)]
    password: Option<SecretText>,
}

impl TryFrom<SignInBody> for SignIn {
    type Error = ValidationErrors;

    fn try_from(body: SignInBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", EmailKey::parse(text(body.email.as_ref())));
        let password = errors.check(
            "password",
            PasswordCandidate::parse(secret(body.password.as_ref())),
        );
        let signin = email
            .zip(password)
            .map(|(email, password)| Self { email, password });
        collected(errors, signin)
    }
}

/// `PATCH /api/auth/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Alice Smith"}))]
pub struct UpdateMeBody {
    /// Trimmed; 1 to 100 characters.
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Option<String>,
}

impl TryFrom<UpdateMeBody> for UserName {
    type Error = ValidationErrors;

    fn try_from(body: UpdateMeBody) -> Result<Self, ValidationErrors> {
        UserName::parse(text(body.name.as_ref())).map_err(|e| ValidationErrors::single("name", e))
    }
}

/// `POST /api/auth/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "securepassword123", "new_password": "another-long-secret-42"}))]
pub struct ChangePasswordBody {
    /// The password in use.
    #[schema(value_type = String, min_length = 1)]
    current_password: Option<SecretText>,
    /// 8 characters to 72 bytes; not a common password.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    new_password: Option<SecretText>,
}

impl TryFrom<ChangePasswordBody> for ChangePassword {
    type Error = ValidationErrors;

    fn try_from(body: ChangePasswordBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let current = PasswordCandidate::parse(secret(body.current_password.as_ref()))
            .map_err(|e| match e {
                PasswordCandidateError::Required => {
                    errors.add("current_password", "Current password is required")
                }
                other => errors.add("current_password", other),
            })
            .ok();
        let new = errors.check(
            "new_password",
            Password::parse(secret(body.new_password.as_ref())),
        );
        let change = current.zip(new).map(|(current, new)| Self { current, new });
        collected(errors, change)
    }
}

/// `DELETE /api/auth/me`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"password": "securepassword123"}))]
pub struct DeleteAccountBody {
    /// The account's password.
    #[schema(value_type = String, min_length = 1)]
    password: Option<SecretText>,
}

impl TryFrom<DeleteAccountBody> for DeleteAccount {
    type Error = ValidationErrors;

    fn try_from(body: DeleteAccountBody) -> Result<Self, ValidationErrors> {
        PasswordCandidate::parse(secret(body.password.as_ref()))
            .map(|password| Self { password })
            .map_err(|e| ValidationErrors::single("password", e))
    }
}

/// `POST /api/auth/password/forgot`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "alice@example.com"}))]
pub struct ForgotPasswordBody {
    /// The signup email rules: trimmed and lower-cased; a valid address.
    #[schema(value_type = String, format = Email, max_length = 254)]
    email: Option<String>,
}

impl TryFrom<ForgotPasswordBody> for EmailKey {
    type Error = ValidationErrors;

    fn try_from(body: ForgotPasswordBody) -> Result<Self, ValidationErrors> {
        EmailAddress::parse(text(body.email.as_ref()))
            .map(|email| Self::from(&email))
            .map_err(|e| ValidationErrors::single("email", e))
    }
}

/// `POST /api/auth/password/reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "q3Vx1b2C9mZtY8rW0aP4sLkJdHfGeN6oUiTyRqE5wXc", "new_password": "anewpassword456"}))]
pub struct ResetPasswordBody {
    /// The token of the link (after `token=`): 43 characters of base64url.
    #[schema(value_type = String, min_length = 43, max_length = 43)]
    token: Option<SecretText>,
    /// 8 characters to 72 bytes; not a common password.
    #[schema(value_type = String, min_length = 8, max_length = 72)]
    new_password: Option<SecretText>,
}

impl ResetPasswordBody {
    /// The new password (checked first), and the token if it has the form of one
    /// (anything else is as dead a link as an unknown one).
    ///
    /// # Errors
    /// The password's refusal, under `new_password`.
    pub fn parse(self) -> Result<(Option<LinkToken>, Password), ValidationErrors> {
        let password = Password::parse(secret(self.new_password.as_ref()))
            .map_err(|e| ValidationErrors::single("new_password", e))?;
        Ok((LinkToken::parse(secret(self.token.as_ref())), password))
    }
}

/// `POST /api/auth/email/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "q3Vx1b2C9mZtY8rW0aP4sLkJdHfGeN6oUiTyRqE5wXc"}))]
pub struct VerifyEmailBody {
    /// The token of the link (after `token=`): 43 characters of base64url.
    #[schema(value_type = String, min_length = 43, max_length = 43)]
    token: Option<SecretText>,
}

impl VerifyEmailBody {
    /// The token, if it has the form of one.
    #[must_use]
    pub fn token(&self) -> Option<LinkToken> {
        LinkToken::parse(secret(self.token.as_ref()))
    }
}

/// `POST /api/auth/email`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"new_email": "alice@new.example", "password": "securepassword123"}))]
pub struct ChangeEmailBody {
    /// The signup email rules; not the current address.
    #[schema(value_type = String, format = Email, max_length = 254)]
    new_email: Option<String>,
    /// The account's password.
    #[schema(value_type = String, min_length = 1)]
    password: Option<SecretText>,
}

impl ChangeEmailBody {
    /// The change asked for, by the account whose address is `current`: every field's
    /// refusal, in body order (a new address equal to `current` is one).
    ///
    /// # Errors
    /// The refused fields.
    pub fn parse(self, current: &EmailAddress) -> Result<ChangeEmail, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let new_email = errors
            .check(
                "new_email",
                EmailAddress::parse(text(self.new_email.as_ref())),
            )
            .filter(|new_email| {
                let differs = new_email != current;
                if !differs {
                    errors.add("new_email", SAME_EMAIL);
                }
                differs
            });
        let password = errors.check(
            "password",
            PasswordCandidate::parse(secret(self.password.as_ref())),
        );
        let change = new_email
            .zip(password)
            .map(|(new_email, password)| ChangeEmail {
                new_email,
                password,
            });
        collected(errors, change)
    }
}

/// The refusal of a new address that is the account's own.
pub const SAME_EMAIL: &str = "New email must differ from the current one";

/// The answer of a signup: signed in, or (`EMAIL_VERIFICATION=required`) waiting for the
/// address to be proven, with no token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignUpResponse {
    /// Signed in: a token and its session.
    SignedIn(AuthResponse),
    /// No session until the mailed link is opened.
    Pending(PendingSignUpResponse),
}

/// The answer of a signup that waits for the address to be proven
/// (`EMAIL_VERIFICATION=required`): no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingSignUpResponse {
    /// The new account.
    pub user: UserResponse,
    /// Always `true`.
    pub verification_required: bool,
}

/// `GET /api/auth/events` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEventsParams {
    /// Most events, 1 to 100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

impl ListEventsParams {
    /// Default number of events listed.
    pub const DEFAULT: u32 = 50;
    /// Most events listed.
    pub const MAX: u32 = 100;

    /// How many events to list.
    ///
    /// # Errors
    /// For a `limit` that is not a whole number from 1 to [`ListEventsParams::MAX`].
    pub fn limit(&self) -> Result<u32, ValidationErrors> {
        let Some(raw) = &self.limit else {
            return Ok(Self::DEFAULT);
        };
        raw.parse::<u32>()
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .ok_or_else(|| {
                let message = format!("Limit must be a whole number from 1 to {}", Self::MAX);
                ValidationErrors::single("limit", message)
            })
    }
}

/// `POST /api/auth/signout`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"scope": "local"}))]
pub struct SignOutBody {
    /// `local` (default), `global` or `others`.
    #[schema(pattern = "^(local|global|others)$")]
    scope: Option<String>,
}

impl TryFrom<SignOutBody> for SignOutScope {
    type Error = ValidationErrors;

    fn try_from(body: SignOutBody) -> Result<Self, ValidationErrors> {
        body.scope.map_or(Ok(Self::default()), |raw| {
            Self::parse(&raw).map_err(|e| ValidationErrors::single("scope", e))
        })
    }
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

/// A title and a description as a replacement or a creation gives them: both checked,
/// an absent description none.
fn title_and_description(
    title: Option<&String>,
    description: Option<&String>,
) -> Result<(TaskTitle, Option<TaskDescription>), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let title = errors.check("title", TaskTitle::parse(text(title)));
    let description = errors.check("description", TaskDescription::parse(text(description)));
    collected(errors, title.zip(description))
}

impl TryFrom<CreateTaskBody> for NewTask {
    type Error = ValidationErrors;

    fn try_from(body: CreateTaskBody) -> Result<Self, ValidationErrors> {
        let (title, description) =
            title_and_description(body.title.as_ref(), body.description.as_ref())?;
        Ok(Self { title, description })
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

impl TryFrom<ReplaceTaskBody> for TaskChanges {
    type Error = ValidationErrors;

    fn try_from(body: ReplaceTaskBody) -> Result<Self, ValidationErrors> {
        let (title, description) =
            title_and_description(body.title.as_ref(), body.description.as_ref())?;
        Ok(Self {
            title: Some(title),
            description: Some(description),
            completed: body.completed,
        })
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

impl TryFrom<PatchTaskBody> for TaskChanges {
    type Error = ValidationErrors;

    fn try_from(body: PatchTaskBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        // A `null` title is a missing one; a `null` description clears it.
        let title = body
            .title
            .map(|title| errors.check("title", TaskTitle::parse(text(title.as_ref()))));
        let description = body.description.map(|description| {
            errors.check(
                "description",
                TaskDescription::parse(text(description.as_ref())),
            )
        });
        let changes = Self {
            title: title.flatten(),
            description: description.flatten(),
            completed: body.completed,
        };
        collected(errors, Some(changes))
    }
}

/// `GET /api/{user_id}/tasks` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasksParams {
    /// `all` (default), `pending` or `completed`.
    #[param(pattern = "^(all|pending|completed)$")]
    status: Option<String>,
    /// Page size, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// Tasks to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0)]
    offset: Option<String>,
}

impl ListTasksParams {
    /// The page asked for; no offset is greater than `max_offset`.
    ///
    /// # Errors
    /// Every value that is not one the listing takes, in query order.
    pub fn page(&self, max_offset: u32) -> Result<PageQuery, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let default = PageQuery::default();
        let status = self.status.as_deref().map_or(Some(default.status), |raw| {
            errors.check("status", PageQuery::status(raw))
        });
        let limit = self.limit.as_deref().map_or(Some(default.limit), |raw| {
            errors.check("limit", PageQuery::limit(raw))
        });
        let offset = self.offset.as_deref().map_or(Some(default.offset), |raw| {
            errors.check("offset", PageQuery::offset(raw, max_offset))
        });
        let page = match (status, limit, offset) {
            (Some(status), Some(limit), Some(offset)) => Some(PageQuery {
                status,
                limit,
                offset,
            }),
            _ => None,
        };
        collected(errors, page)
    }
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
    /// Whether the owner has proven the address (a verification link, or a password
    /// reset through a link).
    email_verified: bool,
    #[serde(serialize_with = "rfc3339")]
    created_at: DateTime<Utc>,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            email_verified: user.email_verified,
            created_at: user.created_at,
        }
    }
}

/// The answer to a signup or signin.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthResponse {
    user: UserResponse,
    #[serde(serialize_with = "token_text")]
    #[schema(value_type = String)]
    token: AccessToken,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    #[serde(serialize_with = "rfc3339")]
    expires_at: DateTime<Utc>,
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
        let (ip, user_agent) = session.client.to_columns();
        Self {
            id: session.id.to_string(),
            created_at: session.created_at,
            expires_at: session.expires_at,
            current: view.current,
            ip,
            user_agent,
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
        let (ip, user_agent) = event.client.to_columns();
        Self {
            kind: event.kind.as_str(),
            at: event.at,
            ip,
            user_agent,
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
                email_verified: false,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            token: AccessToken::new(secret.to_owned()),
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

    fn body<T: serde::de::DeserializeOwned>(json: &str) -> T {
        match from_json::<T>(json.as_bytes()) {
            Ok(body) => body,
            Err(e) => panic!("{json}: {e}"),
        }
    }

    #[test]
    fn signup_reports_every_invalid_field_in_body_order() {
        match SignUp::try_from(body::<SignUpBody>("{}")) {
            Err(errors) => {
                let fields: Vec<_> = errors.fields().iter().map(|f| f.field).collect();
                assert_eq!(fields, ["name", "email", "password"]);
                assert_eq!(errors.to_string(), "Name is required");
            }
            Ok(signup) => panic!("expected a validation error, got {signup:?}"),
        }
    }

    #[test]
    fn signin_requires_both_fields() {
        match SignIn::try_from(body::<SignInBody>("{}")) {
            Err(errors) => {
                let messages: Vec<_> = errors.fields().iter().map(|f| f.message.as_str()).collect();
                assert_eq!(messages, ["Email is required", "Password is required"]);
            }
            Ok(signin) => panic!("expected a validation error, got {signin:?}"),
        }
    }

    #[test]
    fn an_unknown_signout_scope_is_refused_and_none_is_local() {
        let bad = SignOutScope::try_from(body::<SignOutBody>(r#"{"scope": "everything"}"#));
        assert!(bad.is_err());
        let none = SignOutScope::try_from(body::<SignOutBody>("{}"));
        assert_eq!(none, Ok(SignOutScope::Local));
    }

    #[test]
    fn listing_values_out_of_range_are_refused_naming_the_field() {
        for (query, field) in [
            (
                r#"{"status": "bogus", "limit": "1", "offset": "0"}"#,
                "status",
            ),
            (r#"{"status": "all", "limit": "0", "offset": "0"}"#, "limit"),
            (
                r#"{"status": "all", "limit": "501", "offset": "0"}"#,
                "limit",
            ),
            (
                r#"{"status": "all", "limit": "ten", "offset": "0"}"#,
                "limit",
            ),
            (
                r#"{"status": "all", "limit": "1", "offset": "-1"}"#,
                "offset",
            ),
        ] {
            match body::<ListTasksParams>(query).page(10_000) {
                Err(errors) => assert_eq!(errors.fields()[0].field, field),
                Ok(page) => panic!("{query}: {page:?}"),
            }
        }
        assert_eq!(
            body::<ListTasksParams>("{}").page(10_000),
            Ok(PageQuery::default())
        );
    }

    #[test]
    fn a_null_title_in_a_patch_is_refused_and_a_null_description_clears() {
        assert!(TaskChanges::try_from(body::<PatchTaskBody>(r#"{"title": null}"#)).is_err());
        let cleared = TaskChanges::try_from(body::<PatchTaskBody>(r#"{"description": null}"#));
        assert_eq!(
            cleared,
            Ok(TaskChanges {
                description: Some(None),
                ..TaskChanges::default()
            })
        );
    }
}
