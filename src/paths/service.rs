//! Warm paths: finding who in the team can reach a prospect, asking a colleague for the
//! introduction, and their answer; merging companies.

use serde_json::json;
use sqlx::{Acquire, PgPool};
use time::Duration;

use crate::asks;
use crate::db;
use crate::db::companies::{Company, PathRow};
use crate::db::contacts::Choice;
use crate::db::follow_ups::NewFollowUp;
use crate::db::intro_requests::{NewRequest, Pending};
use crate::domain::asks::AskId;
use crate::domain::companies::{
    CompanyId, IntroRequestId, LOAD_WINDOW_DAYS, PathFacts, Prospect, Rank,
};
use crate::domain::contacts::ContactId;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::is_unstorable;
use crate::domain::followups::FollowUpKind;
use crate::domain::users::{Role, User, UserId};
use crate::followups;

/// The most paths a search returns.
pub const MAX_PATHS: usize = 25;
/// Days a colleague has to answer a request before its follow-up is overdue.
pub const ANSWER_WITHIN_DAYS: i64 = 2;
/// The longest message with a request, and the longest reason for declining one.
pub const MESSAGE_MAX_CHARS: usize = 2000;
pub const REASON_MAX_CHARS: usize = 500;

/// A ranked path.
#[derive(Debug, Clone)]
pub struct RankedPath {
    pub row: PathRow,
    pub rank: Rank,
    /// Whether the searcher is the holder.
    pub own: bool,
}

impl RankedPath {
    /// The path's strength: its weakest hop.
    pub fn strength(&self) -> i16 {
        self.row
            .second_strength
            .map_or(self.row.first_strength, |s| s.min(self.row.first_strength))
    }
}

/// What a search found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The company the prospect is, or works at, when known.
    pub company: Option<Company>,
    pub paths: Vec<RankedPath>,
}

/// Finds and ranks the paths of at most two hops from anyone in the team to the prospect.
#[tracing::instrument(skip_all)]
pub async fn search(pool: &PgPool, user: &User, typed: &str) -> ServiceResult<Found> {
    let Some(prospect) = Prospect::parse(typed) else {
        return Err(ServiceError::field(
            "prospect",
            "Name a prospect: one of your contacts, a company, a LinkedIn address or a name.",
        ));
    };
    let mut conn = pool.acquire().await?;
    let (targets, company) = match &prospect {
        Prospect::Contact(id) => {
            let Some(contact) = db::contacts::find_visible(&mut *conn, user.id, *id).await? else {
                return Err(ServiceError::field(
                    "prospect",
                    "None of the contacts you can see has that number.",
                ));
            };
            let company = match &contact.company {
                Some(name) => db::companies::named(&mut *conn, name).await?,
                None => None,
            };
            (db::companies::same_person(&mut *conn, *id).await?, company)
        }
        Prospect::Url(url) => (db::companies::at_address(&mut *conn, url).await?, None),
        Prospect::Name(name) => match db::companies::named(&mut *conn, name).await? {
            Some(company) => (
                db::companies::at_company(&mut *conn, company.company_id).await?,
                Some(company),
            ),
            None => (db::companies::with_name(&mut *conn, name).await?, None),
        },
    };
    let today = db::users::today_in(&mut *conn, &user.time_zone).await?;
    let since = today - Duration::days(LOAD_WINDOW_DAYS);
    let rows = db::companies::paths(&mut *conn, user.id, &targets, since).await?;
    let company = company.or_else(|| {
        rows.iter().find_map(|r| {
            Some(Company {
                company_id: r.company_id?,
                name: r.company_name.clone()?,
            })
        })
    });
    let mut paths: Vec<RankedPath> = rows
        .into_iter()
        .map(|row| {
            let own = row.holder_id == user.id;
            let facts = PathFacts {
                first_strength: row.first_strength,
                second_strength: row.second_strength,
                last_touch_at: row.last_touch_at,
                past_intros: row.past_intros,
                load: row.load,
                own,
            };
            RankedPath {
                rank: facts.rank(today),
                row,
                own,
            }
        })
        .collect();
    paths.sort_by(|a, b| {
        b.rank
            .score
            .cmp(&a.rank.score)
            .then(a.row.holder_name.cmp(&b.row.holder_name))
            .then(a.row.prospect_id.cmp(&b.row.prospect_id))
            .then(a.row.connector_id.cmp(&b.row.connector_id))
    });
    paths.truncate(MAX_PATHS);
    Ok(Found { company, paths })
}

/// What a rep sends a colleague.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RequestInput {
    /// The colleague whose network the path goes through.
    pub holder_id: Option<UserId>,
    /// The colleague's contact who would make the introduction; none when the colleague
    /// knows the prospect directly.
    pub connector_id: Option<ContactId>,
    /// The colleague's contact at the prospect.
    pub prospect_id: Option<ContactId>,
    /// Why the introduction matters, for the colleague.
    pub message: String,
}

/// Asks a colleague for an introduction along one of their paths: the request, a follow-up
/// on their list to answer it, and a notification, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn request(
    pool: &PgPool,
    user: &User,
    input: &RequestInput,
) -> ServiceResult<IntroRequestId> {
    let message = input.message.trim();
    if message.chars().count() > MESSAGE_MAX_CHARS {
        return Err(ServiceError::field(
            "message",
            "Keep the message under 2,000 characters.",
        ));
    }
    if message.chars().any(is_unstorable) {
        return Err(ServiceError::field(
            "message",
            "The message holds characters that cannot be stored.",
        ));
    }
    let (Some(holder), Some(prospect)) = (input.holder_id, input.prospect_id) else {
        return Err(ServiceError::field(
            "prospect_id",
            "Pick a path from a search first.",
        ));
    };
    if holder == user.id {
        return Err(ServiceError::field(
            "holder_id",
            "That path is yours: log the ask yourself.",
        ));
    }
    let new = NewRequest {
        requester: user.id,
        holder,
        connector: input.connector_id,
        prospect,
        message,
    };
    let mut conn = pool.acquire().await?;
    if !db::intro_requests::path_exists(&mut *conn, &new).await? {
        return Err(ServiceError::NotFound);
    }
    let Some(holder_user) = db::users::find(&mut *conn, holder).await? else {
        return Err(ServiceError::NotFound);
    };
    let today = db::users::today_in(&mut *conn, &holder_user.time_zone).await?;
    let mut tx = conn.begin().await?;
    let Some(id) = db::intro_requests::insert(&mut *tx, &new).await? else {
        return Err(ServiceError::Conflict(format!(
            "You already asked {} for this introduction; it is waiting for an answer.",
            holder_user.name
        )));
    };
    // The holder's own contacts, so naming them to the holder leaks nothing.
    let prospect_name = db::contacts::find_visible(&mut *tx, holder, prospect)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let title = match input.connector_id {
        Some(connector) => {
            let connector_name = db::contacts::find_visible(&mut *tx, holder, connector)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            format!(
                "{} asks for an introduction to {prospect_name} through {connector_name}",
                user.name
            )
        }
        None => format!(
            "{} asks you to introduce them to {prospect_name}",
            user.name
        ),
    };
    let follow_up = followups::service::add(
        &mut tx,
        Some(user.id),
        &NewFollowUp {
            owner: holder,
            kind: FollowUpKind::IntroRequest,
            title: &title,
            ask: None,
            contact: Some(input.connector_id.unwrap_or(prospect)),
            due_on: today + Duration::days(ANSWER_WITHIN_DAYS),
            created_by: Some(user.id),
        },
    )
    .await?;
    db::intro_requests::set_follow_up(&mut *tx, id, follow_up).await?;
    let body = if message.is_empty() {
        title.clone()
    } else {
        format!("{title}: “{message}”")
    };
    db::notifications::insert_intro_request(&mut *tx, holder, Some(follow_up), &body).await?;
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "intro_request",
        id.0,
        "create",
        json!({ "holder": holder, "connector": input.connector_id, "prospect": prospect }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The colleague accepts: the requester gets their own copies of the contacts on the path,
/// and the ask is logged for them with the colleague credited. One transaction.
#[tracing::instrument(skip_all)]
pub async fn accept(pool: &PgPool, holder: &User, id: IntroRequestId) -> ServiceResult<AskId> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let Some(Pending {
        requester_id,
        connector,
        prospect,
        message,
        follow_up_id: follow_up,
    }) = db::intro_requests::lock_pending(&mut tx, holder.id, id).await?
    else {
        return Err(answered_or_missing(pool, holder, id).await);
    };
    let Some(requester) = db::users::find(&mut *tx, requester_id).await? else {
        return Err(ServiceError::NotFound);
    };
    let note = format!("Shared by {} from their network.", holder.name);
    let target_id =
        db::intro_requests::copy_contact(&mut tx, requester.id, prospect, "prospect", &note)
            .await?;
    let source_id = match connector {
        Some(c) => {
            db::intro_requests::copy_contact(&mut tx, requester.id, c, "referral_source", &note)
                .await?
        }
        None => db::intro_requests::colleague_card(&mut tx, requester.id, holder.id).await?,
    };
    let choice = |id: ContactId, name: String| Choice {
        contact_id: id,
        name,
        company: None,
    };
    let source_name = db::contacts::find_visible(&mut *tx, requester.id, source_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let target_name = db::contacts::find_visible(&mut *tx, requester.id, target_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let today = db::users::today_in(&mut *tx, &requester.time_zone).await?;
    let reason = if message.trim().is_empty() {
        format!("Introduction through {}'s network.", holder.name)
    } else {
        message
    };
    let ask = asks::service::log_assisted(
        &mut tx,
        &requester,
        &choice(source_id, source_name.clone()),
        &choice(target_id, target_name.clone()),
        &reason,
        today,
        holder.id,
    )
    .await?;
    db::intro_requests::accept(&mut *tx, id, ask).await?;
    if let Some(f) = follow_up {
        followups::service::complete(&mut tx, holder.id, f).await?;
    }
    let body = format!(
        "{} accepted: {source_name} will introduce you to {target_name}. The ask is logged, and their details are in your contacts.",
        holder.name
    );
    db::notifications::insert_intro_request(&mut *tx, requester.id, None, &body).await?;
    db::audit::record(
        &mut *tx,
        Some(holder.id),
        "intro_request",
        id.0,
        "accept",
        json!({ "ask": ask }),
    )
    .await?;
    tx.commit().await?;
    Ok(ask)
}

/// The colleague declines, with a short reason the requester is told.
#[tracing::instrument(skip_all)]
pub async fn decline(
    pool: &PgPool,
    holder: &User,
    id: IntroRequestId,
    reason: &str,
) -> ServiceResult<()> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::field(
            "reason",
            "Give a short reason: it helps your colleague find another way.",
        ));
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(ServiceError::field(
            "reason",
            "Keep the reason under 500 characters.",
        ));
    }
    if reason.chars().any(is_unstorable) {
        return Err(ServiceError::field(
            "reason",
            "The reason holds characters that cannot be stored.",
        ));
    }
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let Some(Pending {
        requester_id: requester,
        follow_up_id: follow_up,
        ..
    }) = db::intro_requests::lock_pending(&mut tx, holder.id, id).await?
    else {
        return Err(answered_or_missing(pool, holder, id).await);
    };
    db::intro_requests::decline(&mut *tx, id, reason).await?;
    if let Some(f) = follow_up {
        followups::service::complete(&mut tx, holder.id, f).await?;
    }
    let body = format!(
        "{} declined your introduction request: “{reason}”",
        holder.name
    );
    db::notifications::insert_intro_request(&mut *tx, requester, None, &body).await?;
    db::audit::record(
        &mut *tx,
        Some(holder.id),
        "intro_request",
        id.0,
        "decline",
        json!({ "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn answered_or_missing(pool: &PgPool, holder: &User, id: IntroRequestId) -> ServiceError {
    match db::intro_requests::held_by(pool, holder.id, id).await {
        Ok(true) => ServiceError::Conflict("That request has been answered already.".into()),
        Ok(false) => ServiceError::NotFound,
        Err(e) => e.into(),
    }
}

/// An admin merges one company into another named one: its contacts, names and domains
/// move over. Returns the company kept and how many contacts moved.
#[tracing::instrument(skip_all)]
pub async fn merge_companies(
    pool: &PgPool,
    admin: &User,
    from: CompanyId,
    into_name: &str,
) -> ServiceResult<(CompanyId, u64)> {
    if admin.role != Role::Admin {
        return Err(ServiceError::NotFound);
    }
    let mut conn = pool.acquire().await?;
    let Some(company) = db::companies::find(&mut *conn, from).await? else {
        return Err(ServiceError::NotFound);
    };
    let Some(into) = db::companies::named(&mut *conn, into_name).await? else {
        return Err(ServiceError::field("into", "No company goes by that name."));
    };
    if into.company_id == company.company_id {
        return Err(ServiceError::field(
            "into",
            "That is this company: name the other one.",
        ));
    }
    let mut tx = conn.begin().await?;
    let moved = db::companies::merge(&mut tx, from, into.company_id).await?;
    db::audit::record(
        &mut *tx,
        Some(admin.id),
        "company",
        from.0,
        "merge",
        json!({ "into": into.company_id, "name": company.name, "contacts": moved }),
    )
    .await?;
    tx.commit().await?;
    Ok((into.company_id, moved))
}
