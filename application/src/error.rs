//! Errors shared by the use cases.

use std::fmt;

use thiserror::Error;

use crate::ports::{CryptoError, HashError, RepoError};

/// An opaque error kept as a source for logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One invalid field of a request, with the message the contract gives for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as it appears in the request.
    pub field: &'static str,
    /// The message to show.
    pub message: String,
}

/// Every invalid field of a request, in request-body order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// Records `field` as invalid.
    pub fn add(&mut self, field: &'static str, message: impl fmt::Display) {
        self.0.push(FieldError {
            field,
            message: message.to_string(),
        });
    }

    /// Keeps the value of a parse, or records its error under `field`.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed.map_err(|e| self.add(field, e)).ok()
    }

    /// A single invalid field.
    #[must_use]
    pub fn single(field: &'static str, message: impl fmt::Display) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Whether no field is invalid.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The invalid fields, in request-body order.
    #[must_use]
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(())` if no field is invalid.
    ///
    /// # Errors
    /// `self` when a field is invalid.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(first) => f.write_str(&first.message),
            None => f.write_str("no validation error"),
        }
    }
}

/// A failure that is not the caller's fault.
#[derive(Debug, Error)]
pub enum Fault {
    /// Storage cannot be reached, has no free connection, or a resource (a statement's
    /// time, password hashing) is saturated; worth retrying.
    #[error("temporarily unavailable")]
    Unavailable(#[source] Option<BoxError>),
    /// Anything else that went wrong on the server's side.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Fault {
    /// An internal fault described by a message.
    #[must_use]
    pub fn internal(message: &'static str) -> Self {
        Self::Internal(message.into())
    }
}

impl From<RepoError> for Fault {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(source) => Self::Unavailable(source),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<CryptoError> for Fault {
    fn from(error: CryptoError) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<HashError> for Fault {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Saturated => Self::Unavailable(Some(Box::new(error))),
            HashError::Failed(error) => error.into(),
        }
    }
}
