//! Requests to a colleague for an introduction through their network.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;

use crate::domain::asks::AskId;
use crate::domain::companies::IntroRequestId;
use crate::domain::contacts::ContactId;
use crate::domain::followups::FollowUpId;
use crate::domain::users::UserId;

/// A request as its requester or holder sees it. The prospect's and connector's names are
/// the holder's until the request is accepted: `None` for a requester before that.
#[derive(Debug, Clone)]
pub struct IntroRequest {
    pub request_id: IntroRequestId,
    pub requester_id: UserId,
    pub requester_name: String,
    pub holder_id: UserId,
    pub holder_name: String,
    pub connector_contact_id: Option<ContactId>,
    pub connector_name: Option<String>,
    pub prospect_contact_id: ContactId,
    pub prospect_name: Option<String>,
    pub company_name: Option<String>,
    pub message: String,
    pub status: String,
    pub decline_reason: Option<String>,
    pub follow_up_id: Option<FollowUpId>,
    pub ask_id: Option<AskId>,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
}

/// What a new request holds.
#[derive(Debug, Clone, Copy)]
pub struct NewRequest<'a> {
    pub requester: UserId,
    pub holder: UserId,
    pub connector: Option<ContactId>,
    pub prospect: ContactId,
    pub message: &'a str,
}

/// Whether the holder's `connector` (or, with none, the holder) can reach the holder's
/// `prospect`: both are the holder's live contacts and, with a connector, related.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn path_exists(db: impl PgExecutor<'_>, new: &NewRequest<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (
             select 1 from contacts p
             join users u on u.user_id = p.owner_id and u.deactivated_at is null
             where p.contact_id = $2 and p.owner_id = $1 and p.archived_at is null and p.merged_into_id is null
               and ($3::bigint is null or exists (
                     select 1 from contacts k join relationships r
                       on (r.from_contact_id = k.contact_id and r.to_contact_id = p.contact_id)
                       or (r.to_contact_id = k.contact_id and r.from_contact_id = p.contact_id)
                     where k.contact_id = $3 and k.owner_id = $1 and k.archived_at is null
                       and k.merged_into_id is null))
           ) as "exists!""#,
        new.holder as UserId,
        new.prospect as ContactId,
        new.connector as Option<ContactId>
    )
    .fetch_one(db)
    .await
}

/// Creates a request; `None` when the same one is already pending.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewRequest<'_>,
) -> sqlx::Result<Option<IntroRequestId>> {
    sqlx::query_scalar!(
        r#"insert into intro_requests (requester_id, holder_id, connector_contact_id, prospect_contact_id, message)
           values ($1, $2, $3, $4, $5)
           on conflict do nothing
           returning request_id as "request_id: IntroRequestId""#,
        new.requester as UserId,
        new.holder as UserId,
        new.connector as Option<ContactId>,
        new.prospect as ContactId,
        new.message
    )
    .fetch_optional(db)
    .await
}

/// Records the holder's follow-up for answering the request.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_follow_up(
    db: impl PgExecutor<'_>,
    id: IntroRequestId,
    follow_up: FollowUpId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update intro_requests set follow_up_id = $2 where request_id = $1",
        id as IntroRequestId,
        follow_up as FollowUpId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Requests the user made or was asked, newest first. Names of the holder's contacts are
/// given to the holder, and to the requester once accepted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn involving(
    db: impl PgExecutor<'_>,
    user: UserId,
    only: Option<IntroRequestId>,
) -> sqlx::Result<Vec<IntroRequest>> {
    sqlx::query_as!(
        IntroRequest,
        r#"select r.request_id as "request_id: IntroRequestId",
                  r.requester_id as "requester_id: UserId", q.name as requester_name,
                  r.holder_id as "holder_id: UserId", h.name as holder_name,
                  r.connector_contact_id as "connector_contact_id: ContactId",
                  case when r.holder_id = $1 or r.status = 'accepted' then k.name end as "connector_name?",
                  r.prospect_contact_id as "prospect_contact_id: ContactId",
                  case when r.holder_id = $1 or r.status = 'accepted' then p.name end as "prospect_name?",
                  co.name as "company_name?",
                  r.message, r.status, r.decline_reason,
                  r.follow_up_id as "follow_up_id: FollowUpId", r.ask_id as "ask_id: AskId",
                  r.created_at, r.decided_at
           from intro_requests r
           join users q on q.user_id = r.requester_id
           join users h on h.user_id = r.holder_id
           join contacts p on p.contact_id = r.prospect_contact_id
           left join contacts k on k.contact_id = r.connector_contact_id
           left join companies co on co.company_id = p.company_id
           where (r.requester_id = $1 or r.holder_id = $1) and ($2::bigint is null or r.request_id = $2)
           order by (r.status = 'pending' and r.holder_id = $1) desc, r.created_at desc, r.request_id desc
           limit 200"#,
        user as UserId,
        only as Option<IntroRequestId>
    )
    .fetch_all(db)
    .await
}

/// A pending request, as answering it needs it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub requester_id: UserId,
    pub connector: Option<ContactId>,
    pub prospect: ContactId,
    pub message: String,
    pub follow_up_id: Option<FollowUpId>,
}

/// A pending request the holder may answer, locked until the transaction ends.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_pending(
    tx: &mut Transaction<'_, Postgres>,
    holder: UserId,
    id: IntroRequestId,
) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as!(
        Pending,
        r#"select requester_id as "requester_id: UserId", connector_contact_id as "connector: ContactId",
                  prospect_contact_id as "prospect: ContactId", message,
                  follow_up_id as "follow_up_id: FollowUpId"
           from intro_requests where request_id = $1 and holder_id = $2 and status = 'pending'
           for update"#,
        id as IntroRequestId,
        holder as UserId
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Whether the holder was asked this request at all (answered or not).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn held_by(
    db: impl PgExecutor<'_>,
    holder: UserId,
    id: IntroRequestId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from intro_requests where request_id = $1 and holder_id = $2) as "held!""#,
        id as IntroRequestId,
        holder as UserId
    )
    .fetch_one(db)
    .await
}

/// Marks a request accepted, with the ask it became.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accept(db: impl PgExecutor<'_>, id: IntroRequestId, ask: AskId) -> sqlx::Result<()> {
    sqlx::query!(
        "update intro_requests set status = 'accepted', ask_id = $2, decided_at = now() where request_id = $1",
        id as IntroRequestId,
        ask as AskId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a request declined, with the holder's reason.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn decline(
    db: impl PgExecutor<'_>,
    id: IntroRequestId,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update intro_requests set status = 'declined', decline_reason = $2, decided_at = now() where request_id = $1",
        id as IntroRequestId,
        reason
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Gives `owner` their own copy of a colleague's contact, noted as shared, or finds the one
/// they already have with its e-mail or LinkedIn address (the contact it was merged into, if
/// it was). Its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn copy_contact(
    tx: &mut Transaction<'_, Postgres>,
    owner: UserId,
    from: ContactId,
    kind: &str,
    note: &str,
) -> sqlx::Result<ContactId> {
    let inserted = sqlx::query_scalar!(
        r#"insert into contacts (owner_id, name, email, phone, company, title, linkedin_url, kind, strength, notes)
           select $1, name, email, phone, company, title, linkedin_url, $3, 2, $4
           from contacts where contact_id = $2
           on conflict do nothing
           returning contact_id as "contact_id: ContactId""#,
        owner as UserId,
        from as ContactId,
        kind,
        note
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = inserted {
        return Ok(id);
    }
    sqlx::query_scalar!(
        r#"select coalesce(o.merged_into_id, o.contact_id) as "contact_id!: ContactId"
           from contacts o, contacts c
           where c.contact_id = $2 and o.owner_id = $1
             and (lower(o.email) = lower(c.email) or lower(o.linkedin_url) = lower(c.linkedin_url))
           order by o.merged_into_id is not null, o.archived_at nulls first, o.contact_id limit 1"#,
        owner as UserId,
        from as ContactId
    )
    .fetch_one(&mut **tx)
    .await
}

/// The requester's contact card for a colleague, who is the source of an introduction they
/// make themselves: found by the colleague's e-mail, or made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn colleague_card(
    tx: &mut Transaction<'_, Postgres>,
    owner: UserId,
    colleague: UserId,
) -> sqlx::Result<ContactId> {
    let existing = sqlx::query_scalar!(
        r#"select o.contact_id as "contact_id!: ContactId" from contacts o join users u on lower(u.email) = lower(o.email)
           where o.owner_id = $1 and u.user_id = $2 and o.merged_into_id is null
           order by o.archived_at nulls first, o.contact_id limit 1"#,
        owner as UserId,
        colleague as UserId
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    sqlx::query_scalar!(
        r#"insert into contacts (owner_id, name, email, kind, strength, notes)
           select $1, name, email, 'referral_source', 4, 'A colleague.' from users where user_id = $2
           returning contact_id as "contact_id: ContactId""#,
        owner as UserId,
        colleague as UserId
    )
    .fetch_one(&mut **tx)
    .await
}
