//! What a service refuses or fails with. Each door renders it its own way: the web edge turns
//! it into an [`AppError`](crate::web::AppError) (a re-rendered form, a page, problem+json),
//! the command line into an error with context.

use crate::domain::fields::FieldErrors;

/// Why a service did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input did not validate; the messages go beside their fields.
    #[error("the input did not validate")]
    Invalid(FieldErrors),
    /// The record does not exist or the caller may not see or change it.
    #[error("not found")]
    NotFound,
    /// The change collides with what is already there; the message is safe to show.
    #[error("{0}")]
    Conflict(String),
    /// The change is well-formed but refused; the message says why and is safe to show.
    #[error("{0}")]
    Refused(String),
    /// The database failed (the cause is the error's source, so `{:#}` prints it).
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Anything else that failed on our side (the cause is the error's source).
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    /// Input refused with one field's message.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        Self::Invalid(errors)
    }
}

/// The result of a service call.
pub type ServiceResult<T> = Result<T, ServiceError>;
