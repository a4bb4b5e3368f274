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
use crate::domain::asks::{AskId, CHANNELS, EventKind, Stage, check_move, parse_amount, titles};
use crate::domain::contacts::ContactId;
use crate::domain::dates::parse_date;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::domain::users::User;
use crate::followups;
use crate::web::AppResult;

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
) -> AppResult<Option<Resolved>> {
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
) -> AppResult<Result<AskId, NotLogged>> {
    let submission = Uuid::parse_str(form.submission_id.trim()).unwrap_or_else(|_| Uuid::new_v4());
    // One connection for the reads and the transaction: a quick log is about ten statements,
    // and taking a connection from the pool for each would add a round trip to every one.
    let mut conn = pool.acquire().await?;
    if let Some(existing) = db::asks::find_by_submission(&mut *conn, user.id, submission).await? {
        return Ok(Ok(existing));
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
        Some(Resolved::New(name)) if name.chars().count() > 200 => out
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
        Some(Resolved::New(text)) if text.chars().count() > 1000 => out
            .errors
            .add("target", "Keep the description under 1,000 characters."),
        _ => {}
    }
    let reason = form.reason.trim();
    if reason.is_empty() {
        out.errors.add(
            "reason",
            "Why this introduction? One line on the business reason.",
        );
    } else if reason.chars().count() > 4000 {
        out.errors
            .add("reason", "Keep the reason under 4,000 characters.");
    }
    let channel = match form.channel.trim() {
        "" => "in_person",
        c if CHANNELS.iter().any(|(v, _)| *v == c) => c,
        _ => {
            out.errors
                .add("channel", "Choose how you asked from the list.");
            "other"
        }
    };
    let asked_on = out
        .errors
        .check(
            "asked_on",
            parse_past_date(&form.asked_on, today, Date::MIN),
        )
        .unwrap_or(today);
    let follow_up_on = match form.follow_up_on.trim() {
        "" => asked_on.max(today) + Duration::days(FOLLOW_UP_AFTER_DAYS),
        text => out
            .errors
            .check("follow_up_on", followups::service::parse_due(text, today))
            .unwrap_or(today),
    };
    if !out.errors.is_empty() {
        return Ok(Err(out));
    }
    if let Some(Resolved::Contact(source)) = &source
        && form.confirm_load.is_empty()
    {
        let since = today - Duration::days(CONNECTOR_WINDOW_DAYS);
        let load = db::asks::count_to_source_since(&mut *conn, source.contact_id, since).await?;
        if load > CONNECTOR_LIMIT {
            out.connector_load = Some(load);
            return Ok(Err(out));
        }
    }

    let mut tx = conn.begin().await?;
    let source = match source {
        Some(Resolved::Contact(c)) => c,
        Some(Resolved::New(name)) => create_source(&mut tx, user, &name, asked_on).await?,
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
        reason,
        channel,
        asked_on,
        submission_id: submission,
    };
    let Some(id) = db::asks::insert(&mut tx, &new).await? else {
        // The same form won a race with itself: the other submission logged the ask.
        tx.rollback().await?;
        let existing = db::asks::find_by_submission(&mut *conn, user.id, submission).await?;
        return Ok(existing.ok_or_else(NotLogged::default));
    };
    let title = titles::ask_follow_up(&source.name, &target_label);
    add_follow_up(
        &mut tx,
        user,
        FollowUpKind::AskFollowUp,
        &title,
        id,
        None,
        follow_up_on,
    )
    .await?;
    let changes = json!({ "source": source.contact_id, "target": target_id, "target_description": description,
                          "reason": reason, "channel": channel, "asked_on": asked_on.to_string() });
    db::audit::record(&mut *tx, Some(user.id), "ask", id.0, "create", changes).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

async fn create_source(
    tx: &mut Transaction<'_, Postgres>,
    user: &User,
    name: &str,
    asked_on: Date,
) -> AppResult<Choice> {
    let id = db::contacts::insert_asked_source(&mut **tx, user.id, name, asked_on).await?;
    db::audit::record(
        &mut **tx,
        Some(user.id),
        "contact",
        id.0,
        "create",
        json!({ "name": name, "via": "quick log" }),
    )
    .await?;
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
) -> AppResult<FollowUpId> {
    let new = NewFollowUp {
        owner: user.id,
        kind,
        title,
        ask: Some(ask),
        contact,
        due_on,
        created_by: Some(user.id),
    };
    Ok(followups::service::add(tx, Some(user.id), &new).await?)
}

/// The event form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct EventForm {
    pub kind: String,
    pub occurred_on: String,
    pub amount: String,
    pub note: String,
}

/// Records an event on one of the user's asks: checks the move against the stage the ask is
/// in (under a row lock, so two people recording at once are applied one after the other),
/// writes the event and the new stage, completes the follow-ups it satisfies and creates the
/// next ones. Nothing is written when anything is refused. `None`: no such ask of the user's.
#[tracing::instrument(skip_all)]
pub async fn record_event(
    pool: &PgPool,
    user: &User,
    ask: AskId,
    form: &EventForm,
    today: Date,
) -> AppResult<Option<Result<EventKind, FieldErrors>>> {
    let mut errors = FieldErrors::default();
    let kind = errors.check(
        "kind",
        EventKind::parse(form.kind.trim()).ok_or("Choose what happened."),
    );
    let mut tx = pool.begin().await?;
    let Some(locked) = db::asks::lock_own(&mut tx, user.id, ask).await? else {
        return Ok(None);
    };
    let occurred_on = errors.check(
        "occurred_on",
        parse_past_date(&form.occurred_on, today, locked.asked_on),
    );
    let amount = match form.amount.trim() {
        "" => None,
        text => errors.check("amount", parse_amount(text)),
    };
    let note = form.note.trim();
    if note.chars().count() > 4000 {
        errors.add("note", "Keep the note under 4,000 characters.");
    }
    if let Some(kind) = kind {
        if kind == EventKind::Won && amount.is_none() && errors.get("amount").is_none() {
            errors.add("amount", "A win needs its amount.");
        }
        if kind == EventKind::Note && note.is_empty() {
            errors.add("note", "Write the note.");
        }
        if let Err(why) = check_move(locked.stage, kind) {
            errors.add("kind", why);
        }
    }
    let (Some(kind), Some(occurred_on), true) = (kind, occurred_on, errors.is_empty()) else {
        return Ok(Some(Err(errors)));
    };
    let amount = if kind == EventKind::Won {
        amount
    } else {
        amount.filter(|_| kind == EventKind::Lost)
    };
    let event_id =
        db::asks::insert_event(&mut tx, ask, kind, user.id, occurred_on, amount, note).await?;
    if let Some(stage) = kind.stage() {
        db::asks::set_stage(&mut tx, ask, stage, amount.filter(|_| stage == Stage::Won)).await?;
    }
    follow_through(&mut tx, user, &locked, kind, today).await?;
    let changes = json!({ "kind": kind.as_str(), "occurred_on": occurred_on.to_string(), "amount_cents": amount, "from_stage": locked.stage.as_str() });
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
    Ok(Some(Ok(kind)))
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
) -> AppResult<()> {
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

/// A date that is not in the future (in the user's time zone) nor before `earliest`; empty
/// means today.
fn parse_past_date(text: &str, today: Date, earliest: Date) -> Result<Date, String> {
    if text.trim().is_empty() {
        return Ok(today);
    }
    let date = parse_date(text)?;
    if date > today {
        return Err("That date is in the future: record what has happened.".into());
    }
    if date < earliest {
        return Err(format!("That is before the ask was made ({earliest})."));
    }
    Ok(date)
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
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 4000 {
        errors.add(
            "reason",
            "Give the business reason (up to 4,000 characters).",
        );
    }
    if !CHANNELS.iter().any(|(v, _)| *v == form.channel) {
        errors.add("channel", "Choose how you asked from the list.");
    }
    let asked_on = errors.check(
        "asked_on",
        parse_date(&form.asked_on).and_then(|d| {
            if d > today {
                Err("That date is in the future.")
            } else {
                Ok(d)
            }
        }),
    );
    let (Some(asked_on), true) = (asked_on, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::asks::update_details(
        &mut *tx,
        user.id,
        ask.ask_id,
        reason,
        &form.channel,
        asked_on,
    )
    .await?;
    let changes =
        json!({ "reason": reason, "channel": form.channel, "asked_on": asked_on.to_string() });
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
