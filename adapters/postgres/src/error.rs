//! Database and pool errors to port errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError as ConnectionError;
use diesel_async::pooled_connection::deadpool::PoolError;
use tessera_application::ports::RepoError;

/// The unique index of accounts' emails (any letter case): the one constraint whose
/// violation is a [`RepoError::Conflict`]. Any other (a session id taken, say) is a fault.
const EMAIL_KEY: &str = "users_email_lower_key";

/// A query's failure as the ports see it.
pub(crate) fn query_error(error: DieselError) -> RepoError {
    match error {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info)
            if info.constraint_name() == Some(EMAIL_KEY) =>
        {
            RepoError::Conflict
        }
        // A connection lost mid-query (network cut, server restart or shutdown): the
        // database is away, not broken; retrying later is the right advice.
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => RepoError::Unavailable(Some(Box::new(error))),
        DieselError::DatabaseError(_, ref info) if is_timeout(info.message()) => {
            RepoError::Unavailable(Some(Box::new(error)))
        }
        other => RepoError::Other(Box::new(other)),
    }
}

/// Whether the database cancelled a statement for running or waiting for a lock too
/// long (`statement_timeout`, `lock_timeout`): the database is busy, not broken. Neither
/// diesel nor diesel-async exposes the SQLSTATE (57014, 55P03), so the server's message
/// is read; it is English unless the server's `lc_messages` says otherwise.
fn is_timeout(message: &str) -> bool {
    message.starts_with("canceling statement due to statement timeout")
        || message.starts_with("canceling statement due to lock timeout")
        || message.starts_with("could not obtain lock")
}

/// Getting a connection failed: the database is unreachable, or every connection stayed
/// busy for the whole wait. Either way the request is worth retrying.
pub(crate) fn pool_error(error: PoolError) -> RepoError {
    match error {
        PoolError::Timeout(_)
        | PoolError::Closed
        | PoolError::Backend(ConnectionError::ConnectionError(_)) => {
            RepoError::Unavailable(Some(Box::new(error)))
        }
        PoolError::Backend(ConnectionError::QueryError(e)) => query_error(e),
        other => RepoError::Other(Box::new(other)),
    }
}
