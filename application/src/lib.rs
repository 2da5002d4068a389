//! Tessera's use cases (signup, signin, signout, the task operations) and the ports they
//! reach the outside world through.
//!
//! Adapters implement the traits of [`ports`]; `bin` picks the adapters and hands them
//! to [`AuthService`] and [`TaskService`]. Nothing here knows about HTTP, SQL or bcrypt.

pub mod account;
pub mod auth;
mod common;
pub mod error;
pub mod mailing;
pub mod ports;
pub mod recovery;
pub mod retention;
pub mod tasks;
pub mod throttle;
pub mod writes;

pub use account::{
    AccountError, AccountService, ChangeEmail, ChangePassword, DeleteAccount, SessionView,
};
pub use auth::{
    AuthService, AuthSettings, AuthenticateError, Authenticated, IssuedSession, SignIn,
    SignInError, SignOut, SignUp, SignUpError, SignedUp,
};
pub use error::{Fault, FieldError, ValidationErrors};
pub use mailing::{MailSender, MailSettings, Mailing, PassReport};
pub use ports::{NewTask, Stores};
pub use recovery::{RecoveryService, ResetError, VerifyError};
pub use retention::{Pruned, Retention};
pub use tasks::{TaskError, TaskList, TaskService, TaskWriter};
pub use throttle::{AccountAttempt, AccountRefusal, Refusal, Throttle, ThrottleSettings};
pub use writes::{WriteBudget, WriteBudgetSettings};
