//! Logging asks and recording what came of them: validation, the stage flow, and the
//! follow-ups each step creates or completes, in one transaction with its audit rows.

use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use time::{Date, Duration};
use uuid::Uuid;

use crate::db;
use crate::db::asks::{Ask, Locked, NewAsk};
use crate::db::contacts::Choice;
use crate::db::follow_ups::NewFollowUp;
use crate::domain::asks::{
    AskDetails, AskId, Channel, EventInput, EventKind, NewEvent, SOURCE_NAME_MAX_CHARS, Stage,
    TARGET_MAX_CHARS, titles,
};
use crate::domain::contacts::ContactId;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::followups::{FollowUpId, FollowUpKind, parse_due};
use crate::domain::users::{User, UserId};
use crate::followups;

pub use crate::domain::rules::{CONNECTOR_LIMIT, CONNECTOR_WINDOW_DAYS};
/// Days until the first follow-up on a new ask, by default.
pub const FOLLOW_UP_AFTER_DAYS: i64 = 7;

/// The quick "log an ask" form: three typed fields, the rest defaulted.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AskForm {
    /// Who was asked: one of my contacts by name, or a new name.
    pub source: String,
    /// Whom to be introduced to: one of my contacts by name, or a description.
    pub target: String,
    /// Why: the business reason.
    pub reason: String,
    pub channel: String,
    pub asked_on: String,
    pub follow_up_on: String,
    /// Chosen when several contacts share the typed name.
    pub source_id: String,
    pub target_id: String,
    /// Identifies one filling-in of the form, so a double submit logs one ask.
    pub submission_id: String,
    /// Set when the user saw the connector-load warning and logs anyway.
    pub confirm_load: String,
}

/// What a quick log came to.
#[derive(Debug)]
pub enum Outcome {
    /// The ask is logged (or was, by the same form submitted before).
    Logged(AskId),
    /// Not yet: the form goes back with what stands in the way.
    NotLogged(NotLogged),
}

/// Why an ask was not logged yet.
#[derive(Debug, Default)]
pub struct NotLogged {
    pub errors: FieldErrors,
    /// Contacts sharing the typed source or target name: pick one.
    pub source_choices: Vec<Choice>,
    pub target_choices: Vec<Choice>,
    /// The source was asked this often recently: confirm to go on.
    pub connector_load: Option<i64>,
}

/// How a contact field resolved.
enum Resolved {
    Contact(Choice),
    New(String),
    Ambiguous(Vec<Choice>),
}

async fn resolve(
    conn: &mut PgConnection,
    user: &User,
    typed: &str,
    chosen: &str,
) -> sqlx::Result<Option<Resolved>> {
    if let Ok(id) = chosen.trim().parse::<i64>() {
        return Ok(db::contacts::own_choice(&mut *conn, user.id, ContactId(id))
            .await?
            .map(Resolved::Contact));
    }
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let mut matches = db::contacts::named(&mut *conn, user.id, typed).await?;
    Ok(Some(match matches.len() {
        0 => Resolved::New(typed.to_string()),
        1 => Resolved::Contact(matches.remove(0)),
        _ => Resolved::Ambiguous(matches),
    }))
}

/// Logs an ask (creating the source as a contact when the name is new) with its first
/// follow-up, or says what stands in the way. A form submitted twice logs one ask: the
/// second submission returns the first's id.
#[tracing::instrument(skip_all)]
pub async fn log_ask(
    pool: &PgPool,
    user: &User,
    form: &AskForm,
    today: Date,
) -> ServiceResult<Outcome> {
    let submission = Uuid::parse_str(form.submission_id.trim()).unwrap_or_else(|_| Uuid::new_v4());
    // One connection for the reads and the transaction: a quick log is about ten statements,
    // and taking a connection from the pool for each would add a round trip to every one.
    let mut conn = pool.acquire().await?;
    if let Some(existing) = db::asks::find_by_submission(&mut *conn, user.id, submission).await? {
        return Ok(Outcome::Logged(existing));
    }
    let mut out = NotLogged::default();
    let source = resolve(&mut conn, user, &form.source, &form.source_id).await?;
    let target = resolve(&mut conn, user, &form.target, &form.target_id).await?;
    match &source {
        None => out.errors.add(
            "source",
            "Who did you ask? Type one of your contacts or a new name.",
        ),
        Some(Resolved::Ambiguous(choices)) => {
            out.errors.add(
                "source",
                "Several of your contacts have this name: pick one.",
            );
            out.source_choices = choices.clone();
        }
        Some(Resolved::New(name)) if name.chars().count() > SOURCE_NAME_MAX_CHARS => out
            .errors
            .add("source", "Keep the name under 200 characters."),
        _ => {}
    }
    match &target {
        None => out.errors.add(
            "target",
            "Whom should they introduce you to? A contact, or describe the ideal prospect.",
        ),
        Some(Resolved::Ambiguous(choices)) => {
            out.errors.add(
                "target",
                "Several of your contacts have this name: pick one.",
            );
            out.target_choices = choices.clone();
        }
        Some(Resolved::New(text)) if text.chars().count() > TARGET_MAX_CHARS => out
            .errors
            .add("target", "Keep the description under 1,000 characters."),
        _ => {}
    }
    let details = AskDetails::parse(
        &form.reason,
        &form.channel,
        &form.asked_on,
        today,
        &mut out.errors,
    );
    let follow_up_on = match (form.follow_up_on.trim(), &details) {
        ("", Some(details)) => details.asked_on.max(today) + Duration::days(FOLLOW_UP_AFTER_DAYS),
        ("", None) => today,
        (text, _) => out
            .errors
            .check("follow_up_on", parse_due(text, today))
            .unwrap_or(today),
    };
    let Some(details) = details.filter(|_| out.errors.is_empty()) else {
        return Ok(Outcome::NotLogged(out));
    };
    if let Some(Resolved::Contact(source)) = &source
        && form.confirm_load.is_empty()
    {
        let since = today - Duration::days(CONNECTOR_WINDOW_DAYS);
        let load = db::asks::count_to_source_since(&mut *conn, source.contact_id, since).await?;
        if load > CONNECTOR_LIMIT {
            out.connector_load = Some(load);
            return Ok(Outcome::NotLogged(out));
        }
    }

    let mut tx = conn.begin().await?;
    let source = match source {
        Some(Resolved::Contact(c)) => c,
        Some(Resolved::New(name)) => create_source(&mut tx, user, &name, details.asked_on).await?,
        _ => unreachable!("checked above"),
    };
    let (target_id, description, target_label) = match target {
        Some(Resolved::Contact(c)) => (Some(c.contact_id), None, c.name),
        Some(Resolved::New(text)) => (None, Some(text.clone()), text),
        _ => unreachable!("checked above"),
    };
    let new = NewAsk {
        rep: user.id,
        source: source.contact_id,
        target: target_id,
        target_description: description.as_deref(),
        reason: &details.reason,
        channel: details.channel,
        asked_on: details.asked_on,
        submission_id: submission,
    };
    let changes = json!({ "source": source.contact_id, "target": target_id, "target_description": description,
                          "reason": details.reason, "channel": details.channel, "asked_on": details.asked_on.to_string() });
    let title = titles::ask_follow_up(&source.name, &target_label);
    let Some(id) =
        insert_with_follow_up(&mut tx, user, &new, &changes, &title, follow_up_on).await?
    else {
        // The same form won a race with itself: the other submission logged the ask.
        tx.rollback().await?;
        let existing = db::asks::find_by_submission(&mut *conn, user.id, submission).await?;
        return Ok(
            existing.map_or_else(|| Outcome::NotLogged(NotLogged::default()), Outcome::Logged)
        );
    };
    tx.commit().await?;
    Ok(Outcome::Logged(id))
}

/// Logs an ask that goes through a colleague's network, inside the caller's transaction: the
/// requester's copies of the colleague's contacts as source and target, the colleague
/// credited, and the first follow-up as a quick log makes it.
pub async fn log_assisted(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    source: &Choice,
    target: &Choice,
    reason: &str,
    today: Date,
    colleague: UserId,
) -> sqlx::Result<AskId> {
    let new = NewAsk {
        rep: user.id,
        source: source.contact_id,
        target: Some(target.contact_id),
        target_description: None,
        reason,
        channel: Channel::Other,
        asked_on: today,
        submission_id: Uuid::new_v4(),
    };
    let changes = json!({ "source": source.contact_id, "target": target.contact_id, "reason": reason,
                          "channel": Channel::Other, "asked_on": today.to_string(), "assisted_by": colleague });
    let title = titles::ask_follow_up(&source.name, &target.name);
    let due = today + Duration::days(FOLLOW_UP_AFTER_DAYS);
    let id = insert_with_follow_up(tx, user, &new, &changes, &title, due)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    db::asks::set_assisted_by(tx, id, colleague).await?;
    Ok(id)
}

/// Writes a new ask of `user`'s with its first follow-up (titled `title`, due `due_on`) and
/// the audit rows of both (`changes` the ask's); `None` when its form was submitted before.
async fn insert_with_follow_up(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    new: &NewAsk<'_>,
    changes: &serde_json::Value,
    title: &str,
    due_on: Date,
) -> sqlx::Result<Option<AskId>> {
    let follow_up = NewFollowUp {
        owner: user.id,
        kind: FollowUpKind::AskFollowUp,
        title,
        ask: None,
        contact: None,
        due_on,
        created_by: Some(user.id),
    };
    let (title, follow_up_changes) = followups::service::prepared(&follow_up);
    let follow_up = NewFollowUp {
        title: &title,
        ..follow_up
    };
    let written =
        db::asks::insert_with_follow_up(tx, new, changes, &follow_up, &follow_up_changes).await?;
    Ok(written.map(|(ask, _)| ask))
}

async fn create_source(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    name: &str,
    asked_on: Date,
) -> sqlx::Result<Choice> {
    let changes = json!({ "name": name, "via": "quick log" });
    let id =
        db::contacts::insert_asked_source(&mut **tx, user.id, name, asked_on, &changes).await?;
    Ok(Choice {
        contact_id: id,
        name: name.to_string(),
        company: None,
    })
}

async fn add_follow_up(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    kind: FollowUpKind,
    title: &str,
    ask: AskId,
    contact: Option<ContactId>,
    due_on: Date,
) -> sqlx::Result<FollowUpId> {
    let new = NewFollowUp {
        owner: user.id,
        kind,
        title,
        ask: Some(ask),
        contact,
        due_on,
        created_by: Some(user.id),
    };
    followups::service::add(tx, Some(user.id), &new).await
}

/// Records an event on one of the user's asks: checks the move against the stage the ask is
/// in (under a row lock, so two people recording at once are applied one after the other),
/// writes the event and the new stage, completes the follow-ups it satisfies and creates the
/// next ones. Nothing is written when anything is refused; an ask that is not the user's is
/// not found.
#[tracing::instrument(skip_all)]
pub async fn record_event(
    pool: &PgPool,
    user: &User,
    ask: AskId,
    input: &EventInput,
    today: Date,
) -> ServiceResult<EventKind> {
    let mut tx = pool.begin().await?;
    let locked = db::asks::lock_own(&mut tx, user.id, ask)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let event = NewEvent::parse(input, locked.stage, locked.asked_on, today)
        .map_err(ServiceError::Invalid)?;
    let event_id = db::asks::insert_event(&mut tx, ask, user.id, &event).await?;
    if let Some(stage) = event.kind.stage() {
        let won = event.amount_cents.filter(|_| stage == Stage::Won);
        db::asks::set_stage(&mut tx, ask, stage, won).await?;
    }
    follow_through(&mut tx, user, &locked, event.kind, today).await?;
    let changes = json!({ "kind": event.kind.as_str(), "occurred_on": event.occurred_on.to_string(),
                          "amount_cents": event.amount_cents, "from_stage": locked.stage.as_str() });
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "ask_event",
        event_id,
        "create",
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(event.kind)
}

/// What an event owes next, and what it settles: an introduction means thanking the source
/// and contacting the prospect; a meeting held, updating the source; a win or a loss,
/// reporting the outcome to the source.
async fn follow_through(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    ask: &Locked,
    kind: EventKind,
    today: Date,
) -> sqlx::Result<()> {
    let source = &ask.source_name;
    let target = &ask.target_label;
    let settles: &[FollowUpKind] = match kind {
        EventKind::PromisedIntro => &[],
        EventKind::Introduced => &[FollowUpKind::AskFollowUp],
        EventKind::MeetingScheduled | EventKind::MeetingHeld => {
            &[FollowUpKind::AskFollowUp, FollowUpKind::ContactProspect]
        }
        EventKind::SourceThanked => &[FollowUpKind::ThankSource],
        EventKind::SourceUpdated => &[FollowUpKind::UpdateSource, FollowUpKind::ReportOutcome],
        EventKind::Won | EventKind::Lost => {
            &[FollowUpKind::AskFollowUp, FollowUpKind::ContactProspect]
        }
        EventKind::Declined | EventKind::NoOneInMind | EventKind::Expired => {
            &[FollowUpKind::AskFollowUp, FollowUpKind::ContactProspect]
        }
        EventKind::Note => &[],
    };
    if !settles.is_empty() {
        followups::service::complete_for_ask(tx, ask.ask_id, settles).await?;
    }
    let days = Duration::days;
    let next: Vec<(FollowUpKind, String, Option<ContactId>, Date)> = match kind {
        EventKind::Introduced => vec![
            (
                FollowUpKind::ThankSource,
                titles::thank_source(source, target),
                Some(ask.source_contact_id),
                today + days(1),
            ),
            (
                FollowUpKind::ContactProspect,
                titles::contact_prospect(target),
                ask.target_contact_id,
                today + days(2),
            ),
        ],
        EventKind::MeetingHeld => vec![(
            FollowUpKind::UpdateSource,
            titles::update_source(source, target),
            Some(ask.source_contact_id),
            today + days(2),
        )],
        EventKind::Won | EventKind::Lost => vec![(
            FollowUpKind::ReportOutcome,
            titles::report_outcome(source, target),
            Some(ask.source_contact_id),
            today + days(3),
        )],
        _ => Vec::new(),
    };
    for (kind, title, contact, due_on) in next {
        add_follow_up(tx, user, kind, &title, ask.ask_id, contact, due_on).await?;
    }
    Ok(())
}

/// An ask's editable details, as typed on its page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct EditForm {
    pub reason: String,
    pub channel: String,
    pub asked_on: String,
}

/// Changes the reason, channel and date of one of the user's own asks.
#[tracing::instrument(skip_all)]
pub async fn update_details(
    pool: &PgPool,
    user: &User,
    ask: &Ask,
    form: &EditForm,
) -> ServiceResult<()> {
    if ask.rep_id != user.id {
        return Err(ServiceError::NotFound);
    }
    let today = db::users::today_in(pool, &user.time_zone).await?;
    let mut errors = FieldErrors::default();
    let Some(details) = AskDetails::parse(
        &form.reason,
        &form.channel,
        &form.asked_on,
        today,
        &mut errors,
    ) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::asks::update_details(&mut *tx, user.id, ask.ask_id, &details).await?;
    let changes = json!({ "reason": details.reason, "channel": details.channel,
                          "asked_on": details.asked_on.to_string() });
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "ask",
        ask.ask_id.0,
        "update",
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
