//! The login backend for `axum-login`: checks credentials and loads the session's user.

use axum_login::{AuthUser, AuthnBackend};
use sqlx::PgPool;

use super::password;
use crate::db;
use crate::domain::users::{User, UserId};

/// Loads users from PostgreSQL and verifies their passwords.
#[derive(Debug, Clone)]
pub struct Backend {
    pool: PgPool,
}

impl Backend {
    /// A backend over this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// What the login form sends.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The e-mail address as typed.
    pub email: String,
    /// The password as typed.
    pub password: String,
}

/// A backend failure: the database, or the hashing task.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Hashing failed.
    #[error(transparent)]
    Hashing(#[from] anyhow::Error),
}

impl AuthUser for User {
    type Id = UserId;

    fn id(&self) -> UserId {
        self.id
    }

    /// A session is valid only while the user's session epoch is unchanged: changing the
    /// password or deactivating the account bumps it and so ends every other session.
    fn session_auth_hash(&self) -> &[u8] {
        User::session_auth_hash(self)
    }
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = BackendError;

    /// The user, if the e-mail is known, the password matches and the account is active. An
    /// unknown e-mail costs the same hashing work as a wrong password.
    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, BackendError> {
        let found = db::users::login_credentials(&self.pool, &creds.email).await?;
        let (id, hash) = match found {
            Some((id, hash)) => (Some(id), Some(hash)),
            None => (None, None),
        };
        if !password::verify(creds.password, hash).await? {
            return Ok(None);
        }
        let Some(id) = id else { return Ok(None) };
        let user = db::users::find(&self.pool, id).await?;
        Ok(user.filter(User::is_active))
    }

    /// The session's user while the account is active; a deactivated user's session is
    /// refused on its next request.
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, BackendError> {
        // Every request reads its user here, outside any handler: a connection PostgreSQL
        // ended is met once and then dropped by the pool, so try again with another.
        let mut tries = 1;
        let user = loop {
            match db::users::find(&self.pool, *id).await {
                Err(error) if tries < 3 && db::is_connection_error(&error) => tries += 1,
                other => break other?,
            }
        };
        Ok(user.filter(User::is_active))
    }
}
