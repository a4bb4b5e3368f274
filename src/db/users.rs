//! Users: accounts, the reports-to tree, and who may see whom.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;

use crate::domain::users::{Role, User, UserId, UserRecord};

/// What creating a user needs.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub manager_id: Option<UserId>,
    pub time_zone: &'a str,
    pub weekly_ask_target: i32,
    pub password_hash: &'a str,
}

/// The unique index that makes e-mail addresses case-insensitively unique.
pub const EMAIL_KEY: &str = "users_email_key";

/// Whether any user exists (`/setup` is open only while none does).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn any_exist(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"select exists (select 1 from users) as "exists!""#)
        .fetch_one(db)
        .await
}

/// Creates a user and returns its id. A duplicate e-mail fails on [`EMAIL_KEY`].
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, new: &NewUser<'_>) -> sqlx::Result<UserId> {
    sqlx::query_scalar!(
        r#"insert into users (email, name, role, manager_id, time_zone, weekly_ask_target, password_hash)
           values ($1, $2, $3, $4, $5, $6, $7)
           returning user_id as "user_id: UserId""#,
        new.email,
        new.name,
        new.role as Role,
        new.manager_id as Option<UserId>,
        new.time_zone,
        new.weekly_ask_target,
        new.password_hash,
    )
    .fetch_one(db)
    .await
}

/// A user by id, active or not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<Option<User>> {
    let record = sqlx::query_as!(
        UserRecord,
        r#"select user_id as "user_id: UserId", email, name, role as "role: Role",
                  manager_id as "manager_id: UserId", time_zone, weekly_ask_target,
                  deactivated_at, session_epoch
           from users where user_id = $1"#,
        id as UserId,
    )
    .fetch_optional(db)
    .await?;
    Ok(record.map(User::from))
}

/// The id and password hash of the user with this e-mail address (case-insensitive).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn login_credentials(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<(UserId, String)>> {
    let row = sqlx::query!(
        r#"select user_id as "user_id: UserId", password_hash from users where lower(email) = lower($1)"#,
        email,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.user_id, r.password_hash)))
}

/// A user's id by e-mail address (case-insensitive).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn id_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"select user_id as "user_id: UserId" from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await
}

/// A user's password hash.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn password_hash(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<String> {
    sqlx::query_scalar!(
        "select password_hash from users where user_id = $1",
        id as UserId
    )
    .fetch_one(db)
    .await
}

/// One row of the team list.
#[derive(Debug, Clone)]
pub struct TeamMember {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub manager_id: Option<UserId>,
    pub manager_name: Option<String>,
    pub weekly_ask_target: i32,
    pub time_zone: String,
    pub deactivated_at: Option<OffsetDateTime>,
}

/// The users `viewer` may see (an admin: everyone), active first, then by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_team(db: impl PgExecutor<'_>, viewer: UserId) -> sqlx::Result<Vec<TeamMember>> {
    sqlx::query_as!(
        TeamMember,
        r#"select u.user_id as "user_id: UserId", u.email, u.name, u.role as "role: Role",
                  u.manager_id as "manager_id: UserId", m.name as "manager_name?",
                  u.weekly_ask_target, u.time_zone, u.deactivated_at
           from users u left join users m on m.user_id = u.manager_id
           where u.user_id in (select visible_user_ids($1))
           order by u.deactivated_at is not null, lower(u.name), u.user_id"#,
        viewer as UserId
    )
    .fetch_all(db)
    .await
}

/// The people a viewer can narrow a list to (everyone they see, by name); none for a rep,
/// who only ever sees their own.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn filter_choices(
    db: impl PgExecutor<'_>,
    viewer: &User,
) -> sqlx::Result<Vec<(UserId, String)>> {
    if !viewer.role.sees_others() {
        return Ok(Vec::new());
    }
    Ok(list_team(db, viewer.id)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.name))
        .collect())
}

/// Sets a user's name, time zone and quiet hours (local hours when no e-mail is sent).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_profile(
    db: impl PgExecutor<'_>,
    id: UserId,
    name: &str,
    time_zone: &str,
    quiet_hours: (i16, i16),
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set name = $2, time_zone = $3, quiet_hours_start = $4, quiet_hours_end = $5
         where user_id = $1",
        id as UserId,
        name,
        time_zone,
        quiet_hours.0,
        quiet_hours.1
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A user's quiet hours: from, until (local hours).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn quiet_hours(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<(i16, i16)> {
    let row = sqlx::query!(
        "select quiet_hours_start, quiet_hours_end from users where user_id = $1",
        id as UserId
    )
    .fetch_one(db)
    .await?;
    Ok((row.quiet_hours_start, row.quiet_hours_end))
}

/// Sets what an admin manages: role, manager and weekly target.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_assignment(
    db: impl PgExecutor<'_>,
    id: UserId,
    role: Role,
    manager_id: Option<UserId>,
    weekly_ask_target: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set role = $2, manager_id = $3, weekly_ask_target = $4 where user_id = $1",
        id as UserId,
        role as Role,
        manager_id as Option<UserId>,
        weekly_ask_target
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the password hash and ends every session of the user; returns the new epoch.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: UserId,
    password_hash: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "update users set password_hash = $2, session_epoch = session_epoch + 1
         where user_id = $1 returning session_epoch",
        id as UserId,
        password_hash
    )
    .fetch_one(db)
    .await
}

/// Ends every session of the user; returns the new epoch.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_sessions(db: impl PgExecutor<'_>, id: UserId) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "update users set session_epoch = session_epoch + 1 where user_id = $1 returning session_epoch",
        id as UserId
    )
    .fetch_one(db)
    .await
}

/// Deactivates (ending every session) or reactivates a user.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_active(db: impl PgExecutor<'_>, id: UserId, active: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "update users
         set deactivated_at = case when $2 then null else coalesce(deactivated_at, now()) end,
             session_epoch = session_epoch + case when $2 then 0 else 1 end
         where user_id = $1",
        id as UserId,
        active
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether making `manager` the manager of `user` would close a loop in the reports-to tree:
/// true when `manager` is `user` or already reports to `user`, directly or not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn would_create_cycle(
    tx: &mut Transaction<'_, Postgres>,
    user: UserId,
    manager: UserId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"with recursive chain (user_id) as (
               select $2::bigint
               union
               select u.manager_id from users u join chain c on u.user_id = c.user_id
               where u.manager_id is not null
           )
           select exists (select 1 from chain where user_id = $1) as "cycle!""#,
        user as UserId,
        manager as UserId
    )
    .fetch_one(&mut **tx)
    .await
}

/// Takes a transaction-scoped lock on the reports-to tree, so two concurrent manager changes
/// cannot together create a loop that neither would alone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_tree(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<()> {
    sqlx::query!("select pg_advisory_xact_lock(hashtext('warmline.users.tree'))")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The ids of the users `viewer` may see: themselves; a manager's subtree, recursively; for an
/// admin, everyone. The same rule is the SQL function `visible_user_ids`, which scoped queries
/// use directly.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn visible_user_ids(
    db: impl PgExecutor<'_>,
    viewer: UserId,
) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"select v as "v!: UserId" from visible_user_ids($1) v order by v"#,
        viewer as UserId
    )
    .fetch_all(db)
    .await
}

/// Whether `viewer` may see `subject`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn can_see(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    subject: UserId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from visible_user_ids($1) v where v = $2) as "visible!""#,
        viewer as UserId,
        subject as UserId
    )
    .fetch_one(db)
    .await
}

/// Whether PostgreSQL knows `name` as a time zone (its IANA database is the one we use).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_time_zone(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from pg_timezone_names where name = $1) as "known!""#,
        name
    )
    .fetch_one(db)
    .await
}

/// IANA time zone names for a select box: region/city names, sorted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn time_zone_names(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select name as "name!" from pg_timezone_names
           where name ~ '^(Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/'
              or name = 'UTC'
           order by name"#
    )
    .fetch_all(db)
    .await
}

/// Today's date in a time zone (the owner's: due dates are read in it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn today_in(db: impl PgExecutor<'_>, time_zone: &str) -> sqlx::Result<time::Date> {
    sqlx::query_scalar!(
        r#"select (now() at time zone $1)::date as "today!""#,
        time_zone
    )
    .fetch_one(db)
    .await
}

/// Sets a rep's annual new-client goal and asks per new client (the referral math inputs).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_client_goal(
    db: impl PgExecutor<'_>,
    id: UserId,
    annual_client_goal: i32,
    asks_per_client: f64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set annual_client_goal = $2, asks_per_client = $3 where user_id = $1",
        id as UserId,
        annual_client_goal,
        asks_per_client
    )
    .execute(db)
    .await?;
    Ok(())
}
