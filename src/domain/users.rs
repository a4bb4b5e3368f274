//! Users as the rest of the code sees them, and the rules their fields obey.

use std::fmt;

use serde::{Deserialize, Serialize};

record_id! {
    /// A user's id.
    UserId
}

record_id! {
    /// An API token's id (not the secret).
    TokenId
}

/// What an API token may do, chosen when it is created: stored as its scopes (`read`,
/// `write`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenAccess {
    /// Look only: every `GET`.
    ReadOnly,
    /// Look and change.
    #[default]
    ReadWrite,
}

impl TokenAccess {
    /// The stored scopes.
    pub fn scopes(self) -> Vec<String> {
        match self {
            Self::ReadOnly => vec!["read".into()],
            Self::ReadWrite => vec!["read".into(), "write".into()],
        }
    }

    /// The access the stored scopes give.
    pub fn of_scopes(scopes: &[String]) -> Self {
        if scopes.iter().any(|s| s == "write") {
            Self::ReadWrite
        } else {
            Self::ReadOnly
        }
    }

    /// Parses a form's or the command line's choice: `read` or `write` (which includes read).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "read" => Some(Self::ReadOnly),
            "write" | "" => Some(Self::ReadWrite),
            _ => None,
        }
    }

    /// How the settings page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::ReadOnly => "Read only",
            Self::ReadWrite => "Read and write",
        }
    }

    /// Whether the token may change things.
    pub fn can_write(self) -> bool {
        self == Self::ReadWrite
    }
}

/// What a user may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Logs asks and follows up; sees their own records.
    Rep,
    /// Sees the reports-to subtree below them and coaches it.
    Manager,
    /// Manages users; sees everything.
    Admin,
}

impl Role {
    /// Every role, for select boxes.
    pub const ALL: [Role; 3] = [Role::Rep, Role::Manager, Role::Admin];

    /// The database and form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rep => "rep",
            Self::Manager => "manager",
            Self::Admin => "admin",
        }
    }

    /// How the role is shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rep => "Sales rep",
            Self::Manager => "Manager",
            Self::Admin => "Admin",
        }
    }

    /// Parses the database or form value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text.trim())
    }

    /// Managers and admins see other people's numbers.
    pub fn sees_others(self) -> bool {
        matches!(self, Self::Manager | Self::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user account as the application sees it (never with its password hash).
#[derive(Debug, Clone)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login and contact address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Whom the user reports to.
    pub manager_id: Option<UserId>,
    /// IANA time zone name; due dates are read in it.
    pub time_zone: String,
    /// Asks per week the user aims for.
    pub weekly_ask_target: i32,
    /// Set when an admin deactivated the account.
    pub deactivated_at: Option<time::OffsetDateTime>,
    /// Sessions stamped with another epoch are no longer accepted.
    pub session_epoch: i32,
    auth_hash: Vec<u8>,
}

/// A `users` row without its password hash.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub manager_id: Option<UserId>,
    pub time_zone: String,
    pub weekly_ask_target: i32,
    pub deactivated_at: Option<time::OffsetDateTime>,
    pub session_epoch: i32,
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        let auth_hash = format!("{}:{}", r.user_id, r.session_epoch).into_bytes();
        Self {
            id: r.user_id,
            email: r.email,
            name: r.name,
            role: r.role,
            manager_id: r.manager_id,
            time_zone: r.time_zone,
            weekly_ask_target: r.weekly_ask_target,
            deactivated_at: r.deactivated_at,
            session_epoch: r.session_epoch,
            auth_hash,
        }
    }
}

impl User {
    /// What a session stores to prove it belongs to this user's current epoch.
    pub fn session_auth_hash(&self) -> &[u8] {
        &self.auth_hash
    }

    /// Whether the account may log in.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// A well-formed e-mail address, trimmed. Compared case-insensitively by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Enter an e-mail address.");
        }
        if text.len() > 254 {
            return Err("That e-mail address is too long.");
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err("Enter an e-mail address like name@example.com.");
        };
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.contains('@');
        if valid {
            Ok(Self(text.to_string()))
        } else {
            Err("Enter an e-mail address like name@example.com.")
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: trimmed, 1 to 200 characters.
pub fn parse_name(text: &str) -> Result<String, &'static str> {
    let name = text.trim();
    match name.chars().count() {
        0 => Err("Enter a name."),
        1..=200 => Ok(name.to_string()),
        _ => Err("Keep the name under 200 characters."),
    }
}

/// The least length of a password.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Checks a new password against the policy: long enough, short enough to hash quickly, and
/// not containing the user's own e-mail name.
pub fn check_password(password: &str, email: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err("Use at least 10 characters.");
    }
    if length > 200 {
        return Err("Keep the password under 200 characters.");
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.chars().count() >= 3 && password.to_lowercase().contains(&local) {
        return Err("Don't use your e-mail name in your password.");
    }
    Ok(())
}

/// A weekly ask target: a whole number from 0 to 1000.
pub fn parse_weekly_target(text: &str) -> Result<i32, &'static str> {
    match text.trim().parse::<i32>() {
        Ok(n) if (0..=1000).contains(&n) => Ok(n),
        _ => Err("Enter a whole number from 0 to 1000."),
    }
}
