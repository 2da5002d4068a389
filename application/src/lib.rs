//! Tessera's use cases (signup, signin, signout, the task operations) and the ports they
//! reach the outside world through.
//!
//! Adapters implement the traits of [`ports`]; `bin` picks the adapters and hands them
//! to [`AuthService`] and [`TaskService`]. Nothing here knows about HTTP, SQL or bcrypt.

pub mod auth;
pub mod error;
pub mod ports;
pub mod tasks;
pub mod throttle;

pub use auth::{
    AuthService, AuthSettings, AuthenticateError, Authenticated, IssuedSession, REDACTED,
    SignInCommand, SignInError, SignOutCommand, SignOutError, SignUpCommand, SignUpError,
};
pub use error::{Fault, FieldError, ValidationErrors};
pub use tasks::{
    CreateTaskCommand, ListTasksQuery, PatchTaskCommand, ReplaceTaskCommand, TaskError, TaskList,
    TaskService,
};
pub use throttle::{AccountAttempt, Refusal, Throttle, ThrottleSettings};
