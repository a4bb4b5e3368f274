//! Contacts and the relationships between them. Every read is scoped by the viewer through
//! `visible_user_ids`; writes are scoped by owner.

use sqlx::{FromRow, PgExecutor, Postgres, QueryBuilder};
use time::OffsetDateTime;

use crate::domain::contacts::{ContactFields, ContactId, ContactInput, ImportId, Kind};
use crate::domain::users::UserId;

/// The unique indexes that keep one contact per e-mail and per LinkedIn URL in a network.
pub const EMAIL_KEY: &str = "contacts_owner_email_key";
/// See [`EMAIL_KEY`].
pub const LINKEDIN_KEY: &str = "contacts_owner_linkedin_key";
/// One relationship per pair of contacts.
pub const RELATIONSHIP_KEY: &str = "relationships_pair_key";

/// A contact with its owner's name and whether a stay-in-touch touch is due.
#[derive(Debug, Clone, FromRow)]
pub struct Contact {
    pub contact_id: ContactId,
    pub owner_id: UserId,
    pub owner_name: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub linkedin_url: Option<String>,
    pub kind: Kind,
    pub strength: i16,
    pub touch_cadence_days: Option<i32>,
    pub last_touch_at: Option<OffsetDateTime>,
    pub notes: String,
    pub archived_at: Option<OffsetDateTime>,
    pub touch_due: bool,
}

impl Contact {
    /// The contact's fields as a form shows them, to edit.
    pub fn as_input(&self) -> ContactInput {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ContactInput {
            name: self.name.clone(),
            email: text(&self.email),
            phone: text(&self.phone),
            company: text(&self.company),
            title: text(&self.title),
            linkedin_url: text(&self.linkedin_url),
            kind: self.kind.as_str().into(),
            strength: self.strength.to_string(),
            touch_cadence_days: self
                .touch_cadence_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            notes: self.notes.clone(),
        }
    }
}

const CONTACT_COLUMNS: &str = "c.contact_id, c.owner_id, u.name as owner_name, c.name, c.email, \
    c.phone, c.company, c.title, c.linkedin_url, c.kind, c.strength, c.touch_cadence_days, \
    c.last_touch_at, c.notes, c.archived_at, \
    (c.touch_cadence_days is not null and c.archived_at is null and \
     coalesce(c.last_touch_at, c.created_at) + make_interval(days => c.touch_cadence_days) < now()) as touch_due";

/// A contact the viewer may see, or `None`. The columns are the list's
/// ([`CONTACT_COLUMNS`]), written out so that this most-read query is checked against the
/// schema at compile time.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_visible(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    id: ContactId,
) -> sqlx::Result<Option<Contact>> {
    sqlx::query_as!(
        Contact,
        r#"select c.contact_id as "contact_id: ContactId", c.owner_id as "owner_id: UserId",
                  u.name as owner_name, c.name, c.email, c.phone, c.company, c.title,
                  c.linkedin_url, c.kind as "kind: Kind", c.strength, c.touch_cadence_days,
                  c.last_touch_at, c.notes, c.archived_at,
                  (c.touch_cadence_days is not null and c.archived_at is null and
                   coalesce(c.last_touch_at, c.created_at) + make_interval(days => c.touch_cadence_days) < now())
                  as "touch_due!"
           from contacts c join users u on u.user_id = c.owner_id
           where c.contact_id = $1 and c.owner_id in (select visible_user_ids($2))"#,
        id as ContactId,
        viewer as UserId
    )
    .fetch_optional(db)
    .await
}

/// Filters for the contact list.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Part of a name, company or e-mail; misspellings are forgiven.
    pub query: Option<String>,
    pub kind: Option<Kind>,
    pub min_strength: Option<i16>,
    /// Not touched for at least this many days (or never).
    pub untouched_days: Option<i32>,
    /// Only contacts whose stay-in-touch cadence has run out.
    pub touch_due: bool,
    /// Archived contacts instead of active ones.
    pub archived: bool,
    /// Only this owner's contacts (within what the viewer may see).
    pub owner: Option<UserId>,
}

/// Where a page of the alphabetical list starts: after this name and id.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub name: String,
    pub id: ContactId,
}

/// One page of the contacts the viewer may see. Without a search, alphabetical with keyset
/// pagination (after `cursor`), so a late page costs what the first does. With a search, the
/// best matches first, by trigram similarity.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    filter: &ContactFilter,
    cursor: Option<&Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Contact>> {
    let Some(text) = &filter.query else {
        // From each owner's run of the (owner, lower(name), id) index.
        let runs = super::OwnerRuns {
            order: "lower(c.name), c.contact_id",
            limit,
        };
        let mut q = super::OwnerRuns::open(CONTACT_COLUMNS, "contacts", "c", "owner_id", viewer);
        push_filters(&mut q, filter);
        if let Some(cursor) = cursor {
            q.push(" and (lower(c.name), c.contact_id) > (")
                .push_bind(cursor.name.to_lowercase())
                .push(", ")
                .push_bind(cursor.id)
                .push(")");
        }
        runs.close(&mut q, "c", " join users u on u.user_id = c.owner_id");
        return q.build_query_as().fetch_all(db).await;
    };
    let mut q = QueryBuilder::<Postgres>::new(format!(
        "select {CONTACT_COLUMNS} from contacts c join users u on u.user_id = c.owner_id \
         where c.owner_id in (select visible_user_ids("
    ));
    q.push_bind(viewer).push("))");
    push_filters(&mut q, filter);
    // A part of a word (`like`), a word misspelled (`<%`, word similarity), or the whole
    // misspelled (`%`, similarity): all three can use the trigram indexes.
    let text = text.to_lowercase();
    let pattern = format!("%{}%", escape_like(&text));
    q.push(" and (");
    for column in ["lower(c.name)", "lower(coalesce(c.company, ''))"] {
        q.push(column).push(" like ").push_bind(pattern.clone());
        q.push(" or ")
            .push_bind(text.clone())
            .push(" <% ")
            .push(column);
        q.push(" or ")
            .push(column)
            .push(" % ")
            .push_bind(text.clone())
            .push(" or ");
    }
    q.push("lower(c.email) like ").push_bind(pattern);
    q.push(") order by greatest(word_similarity(")
        .push_bind(text.clone());
    q.push(", lower(c.name)), word_similarity(").push_bind(text);
    q.push(", lower(coalesce(c.company, '')))) desc, lower(c.name), c.contact_id");
    q.push(" limit ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, filter: &ContactFilter) {
    q.push(if filter.archived {
        " and c.archived_at is not null"
    } else {
        " and c.archived_at is null"
    });
    if let Some(kind) = filter.kind {
        q.push(" and c.kind = ").push_bind(kind.as_str());
    }
    if let Some(min) = filter.min_strength {
        q.push(" and c.strength >= ").push_bind(min);
    }
    if let Some(days) = filter.untouched_days {
        q.push(" and (c.last_touch_at is null or c.last_touch_at < now() - make_interval(days => ")
            .push_bind(days)
            .push("))");
    }
    if filter.touch_due {
        q.push(
            " and c.touch_cadence_days is not null and \
             coalesce(c.last_touch_at, c.created_at) + make_interval(days => c.touch_cadence_days) < now()",
        );
    }
    if let Some(owner) = filter.owner {
        q.push(" and c.owner_id = ").push_bind(owner);
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Creates a contact owned by `owner`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    owner: UserId,
    f: &ContactFields,
) -> sqlx::Result<ContactId> {
    sqlx::query_scalar!(
        r#"insert into contacts (owner_id, name, email, phone, company, title, linkedin_url, kind,
                                 strength, touch_cadence_days, notes)
           values ($1, $2, $3, $4, $5, $6, $7, coalesce($8, 'other'), coalesce($9::int2, 3), $10, $11)
           returning contact_id as "contact_id: ContactId""#,
        owner as UserId,
        f.name,
        f.email,
        f.phone,
        f.company,
        f.title,
        f.linkedin_url,
        f.kind.map(Kind::as_str),
        f.strength,
        f.touch_cadence_days,
        f.notes,
    )
    .fetch_one(db)
    .await
}

/// Creates the referral source a quick log names for the first time, with the facts of the
/// ask that names it already set (its ask date, touched that day), so that folding the ask
/// leaves the row as it is instead of writing a second version of it; its audit row (`actor`,
/// `changes`) is written by the same statement.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_asked_source(
    db: impl PgExecutor<'_>,
    owner: UserId,
    name: &str,
    asked_on: time::Date,
    changes: &serde_json::Value,
) -> sqlx::Result<ContactId> {
    sqlx::query_scalar!(
        r#"with contact as (
               insert into contacts (owner_id, name, kind, recent_ask_dates, intro_ask_dates,
                                     won_ask_dates, last_touch_at)
               values ($1, $2, $3, array[$4::date], '{}', '{}', $4::date::timestamptz)
               returning contact_id
           ), audit as (
               insert into audit_log (actor_id, entity, entity_id, action, changes)
               select $1, 'contact', contact_id, 'create', $5 from contact
           )
           select contact_id as "contact_id!: ContactId" from contact"#,
        owner as UserId,
        name,
        Kind::ReferralSource.as_str(),
        asked_on,
        changes,
    )
    .fetch_one(db)
    .await
}

/// Replaces an owner's contact's fields; false when the owner has no such contact.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ContactId,
    f: &ContactFields,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update contacts set name = $3, email = $4, phone = $5, company = $6, title = $7,
                linkedin_url = $8, kind = coalesce($9, kind), strength = coalesce($10::int2, strength),
                touch_cadence_days = $11, notes = $12
         where contact_id = $1 and owner_id = $2",
        id as ContactId,
        owner as UserId,
        f.name,
        f.email,
        f.phone,
        f.company,
        f.title,
        f.linkedin_url,
        f.kind.map(Kind::as_str),
        f.strength,
        f.touch_cadence_days,
        f.notes,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Archives or restores an owner's contact; false when there is no such contact.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_archived(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ContactId,
    archived: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update contacts set archived_at = case when $3 then coalesce(archived_at, now()) end
         where contact_id = $1 and owner_id = $2",
        id as ContactId,
        owner as UserId,
        archived
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the last touch of contacts to now (an ask, an event or a done follow-up involved them).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch(db: impl PgExecutor<'_>, ids: &[ContactId]) -> sqlx::Result<()> {
    let ids: Vec<i64> = ids.iter().map(|c| c.0).collect();
    sqlx::query!(
        "update contacts set last_touch_at = now() where contact_id = any($1)",
        &ids
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Merges the entries waiting in the pending lists of the search indexes into the indexes, so
/// that no quick log has to (see the migration that adds `merge_pending_search_entries`).
/// Returns the pending-list pages freed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn merge_pending_search_entries(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select merge_pending_search_entries() as "pages!""#)
        .fetch_one(db)
        .await
}

/// The other side of a relationship, as the contact page lists it.
#[derive(Debug, Clone)]
pub struct Related {
    pub relationship_id: i64,
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub kind: String,
    pub strength: i16,
}

/// Everyone a contact is linked to, whichever side the link was made from.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn relationships_of(
    db: impl PgExecutor<'_>,
    id: ContactId,
) -> sqlx::Result<Vec<Related>> {
    sqlx::query_as!(
        Related,
        r#"select r.relationship_id, c.contact_id as "contact_id: ContactId", c.name, c.company,
                  r.kind, r.strength
           from relationships r
           join contacts c on c.contact_id =
                case when r.from_contact_id = $1 then r.to_contact_id else r.from_contact_id end
           where (r.from_contact_id = $1 or r.to_contact_id = $1) and c.archived_at is null
           order by r.strength desc, lower(c.name)"#,
        id as ContactId
    )
    .fetch_all(db)
    .await
}

/// Links two of an owner's contacts.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn link(
    db: impl PgExecutor<'_>,
    owner: UserId,
    from: ContactId,
    to: ContactId,
    kind: &str,
    strength: i16,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into relationships (owner_id, from_contact_id, to_contact_id, kind, strength)
         select $1, $2, $3, $4, $5
         where exists (select 1 from contacts where contact_id = $2 and owner_id = $1)
           and exists (select 1 from contacts where contact_id = $3 and owner_id = $1)
         returning relationship_id",
        owner as UserId,
        from as ContactId,
        to as ContactId,
        kind,
        strength
    )
    .fetch_one(db)
    .await
}

/// Removes one of an owner's relationships; false when there is no such relationship.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unlink(
    db: impl PgExecutor<'_>,
    owner: UserId,
    relationship: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from relationships where relationship_id = $1 and owner_id = $2",
        relationship,
        owner as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Someone who can introduce the rep to a contact.
#[derive(Debug, Clone)]
pub struct Introducer {
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub kind: Kind,
    pub relationship_strength: i16,
    pub past_introductions: i64,
}

/// The viewer's contacts who know `target`, best first: the strongest relationship, then the
/// most introductions they have made before, then the strongest relationship with the rep.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn who_can_introduce(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    target: ContactId,
) -> sqlx::Result<Vec<Introducer>> {
    sqlx::query_as!(
        Introducer,
        r#"select c.contact_id as "contact_id: ContactId", c.name, c.company, c.kind as "kind: Kind",
                  r.strength as relationship_strength,
                  (select count(*) from ask_events e join referral_asks a on a.ask_id = e.ask_id
                   where a.source_contact_id = c.contact_id and e.kind = 'introduced') as "past_introductions!"
           from relationships r
           join contacts c on c.contact_id =
                case when r.from_contact_id = $2 then r.to_contact_id else r.from_contact_id end
           where (r.from_contact_id = $2 or r.to_contact_id = $2)
             and c.archived_at is null
             and c.owner_id in (select visible_user_ids($1))
           order by r.strength desc, 6 desc, c.strength desc, lower(c.name)"#,
        viewer as UserId,
        target as ContactId
    )
    .fetch_all(db)
    .await
}

/// How an owner's existing contacts are recognised on import.
#[derive(Debug, Clone)]
pub struct Identity {
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub linkedin_url: Option<String>,
}

/// Every contact of an owner (archived too) with its name, company, e-mail and LinkedIn URL.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn identities(db: impl PgExecutor<'_>, owner: UserId) -> sqlx::Result<Vec<Identity>> {
    sqlx::query_as!(
        Identity,
        r#"select contact_id as "contact_id: ContactId", name, company, email, linkedin_url
           from contacts where owner_id = $1 order by contact_id"#,
        owner as UserId
    )
    .fetch_all(db)
    .await
}

/// Columns of many contacts, for one set-based insert or update.
#[derive(Debug, Default)]
pub struct Batch {
    pub ids: Vec<i64>,
    pub names: Vec<String>,
    pub emails: Vec<Option<String>>,
    pub phones: Vec<Option<String>>,
    pub companies: Vec<Option<String>>,
    pub titles: Vec<Option<String>>,
    pub linkedin_urls: Vec<Option<String>>,
    pub kinds: Vec<Option<String>>,
    pub strengths: Vec<Option<i16>>,
    pub cadences: Vec<Option<i32>>,
    pub notes: Vec<String>,
}

impl Batch {
    /// Adds one contact (with the id of the contact it updates, or 0 for a new one).
    pub fn push(&mut self, id: i64, f: ContactFields) {
        self.ids.push(id);
        self.names.push(f.name);
        self.emails.push(f.email);
        self.phones.push(f.phone);
        self.companies.push(f.company);
        self.titles.push(f.title);
        self.linkedin_urls.push(f.linkedin_url);
        self.kinds.push(f.kind.map(|k| k.as_str().to_string()));
        self.strengths.push(f.strength);
        self.cadences.push(f.touch_cadence_days);
        self.notes.push(f.notes);
    }
}

/// Inserts many contacts in one statement; a row that collides with a contact created since
/// the preview is skipped. Returns how many were inserted.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_batch(db: impl PgExecutor<'_>, owner: UserId, b: &Batch) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "insert into contacts (owner_id, name, email, phone, company, title, linkedin_url, kind,
                               strength, touch_cadence_days, notes)
         select $1, n, e, p, co, t, l, coalesce(k, 'other'), coalesce(s, 3), cad, notes
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::int2[], $10::int4[], $11::text[])
              as u(n, e, p, co, t, l, k, s, cad, notes)
         on conflict do nothing",
        owner as UserId,
        &b.names,
        &b.emails as &[Option<String>],
        &b.phones as &[Option<String>],
        &b.companies as &[Option<String>],
        &b.titles as &[Option<String>],
        &b.linkedin_urls as &[Option<String>],
        &b.kinds as &[Option<String>],
        &b.strengths as &[Option<i16>],
        &b.cadences as &[Option<i32>],
        &b.notes,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Updates many of an owner's contacts in one statement: the imported value where there is
/// one, the existing value where the import left a field empty. Returns how many changed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_batch(db: impl PgExecutor<'_>, owner: UserId, b: &Batch) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update contacts c set
            name = u.n, email = coalesce(u.e, c.email), phone = coalesce(u.p, c.phone),
            company = coalesce(u.co, c.company), title = coalesce(u.t, c.title),
            linkedin_url = coalesce(u.l, c.linkedin_url), kind = coalesce(u.k, c.kind),
            strength = coalesce(u.s, c.strength), touch_cadence_days = coalesce(u.cad, c.touch_cadence_days),
            notes = case when u.notes = '' then c.notes else u.notes end
         from unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::int2[], $11::int4[], $12::text[])
              as u(id, n, e, p, co, t, l, k, s, cad, notes)
         where c.contact_id = u.id and c.owner_id = $1",
        owner as UserId,
        &b.ids,
        &b.names,
        &b.emails as &[Option<String>],
        &b.phones as &[Option<String>],
        &b.companies as &[Option<String>],
        &b.titles as &[Option<String>],
        &b.linkedin_urls as &[Option<String>],
        &b.kinds as &[Option<String>],
        &b.strengths as &[Option<i16>],
        &b.cadences as &[Option<i32>],
        &b.notes,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A stored import waiting for review.
#[derive(Debug, Clone)]
pub struct StoredImport {
    pub contact_import_id: ImportId,
    pub file_name: String,
    pub format: String,
    pub content: String,
    pub mapping: serde_json::Value,
}

/// Stores an uploaded file for review; returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_import(
    db: impl PgExecutor<'_>,
    owner: UserId,
    file_name: &str,
    format: &str,
    content: &str,
    mapping: &serde_json::Value,
) -> sqlx::Result<ImportId> {
    sqlx::query_scalar!(
        r#"insert into contact_imports (owner_id, file_name, format, content, mapping)
           values ($1, $2, $3, $4, $5) returning contact_import_id as "id: ImportId""#,
        owner as UserId,
        file_name,
        format,
        content,
        mapping
    )
    .fetch_one(db)
    .await
}

/// An owner's stored import.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_import(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ImportId,
) -> sqlx::Result<Option<StoredImport>> {
    sqlx::query_as!(
        StoredImport,
        r#"select contact_import_id as "contact_import_id: ImportId", file_name, format, content, mapping
           from contact_imports where contact_import_id = $1 and owner_id = $2"#,
        id as ImportId,
        owner as UserId
    )
    .fetch_optional(db)
    .await
}

/// Changes a stored import's column mapping.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_import_mapping(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ImportId,
    mapping: &serde_json::Value,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update contact_imports set mapping = $3 where contact_import_id = $1 and owner_id = $2",
        id as ImportId,
        owner as UserId,
        mapping
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The column mapping an owner last chose for a header (its cells joined by U+001F).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remembered_mapping(
    db: impl PgExecutor<'_>,
    owner: UserId,
    header: &str,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        "select mapping from import_mappings where owner_id = $1 and header = $2",
        owner as UserId,
        header
    )
    .fetch_optional(db)
    .await
}

/// Remembers the column mapping an owner chose for a header, for their next file like it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn remember_mapping(
    db: impl PgExecutor<'_>,
    owner: UserId,
    header: &str,
    mapping: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into import_mappings (owner_id, header, mapping) values ($1, $2, $3)
         on conflict (owner_id, header) do update set mapping = excluded.mapping, updated_at = now()",
        owner as UserId,
        header,
        mapping
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes a stored import (after commit, or to abandon it); false when already gone, so a
/// second commit of the same import does nothing.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_import(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ImportId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from contact_imports where contact_import_id = $1 and owner_id = $2",
        id as ImportId,
        owner as UserId
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An owner's imports waiting for review, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending_imports(
    db: impl PgExecutor<'_>,
    owner: UserId,
) -> sqlx::Result<Vec<PendingImport>> {
    sqlx::query_as!(
        PendingImport,
        r#"select contact_import_id as "contact_import_id: ImportId", file_name, created_at,
                  octet_length(content)::int8 as "bytes!"
           from contact_imports where owner_id = $1 order by created_at desc"#,
        owner as UserId
    )
    .fetch_all(db)
    .await
}

/// An import waiting for review, as the upload page lists it.
#[derive(Debug, Clone)]
pub struct PendingImport {
    pub contact_import_id: ImportId,
    pub file_name: String,
    pub created_at: time::OffsetDateTime,
    pub bytes: i64,
}

/// Deletes imports uploaded before `before` and never committed; returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_expired_imports(
    db: impl PgExecutor<'_>,
    before: time::OffsetDateTime,
) -> sqlx::Result<i64> {
    let done = sqlx::query!("delete from contact_imports where created_at < $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected() as i64)
}

/// Whether the owner committed this import (it is gone from `contact_imports` then, but the
/// audit log remembers): a second commit says "already done", a stranger's id is not found.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn import_was_committed(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ImportId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from audit_log where entity = 'contact_import'
                          and entity_id = $1 and actor_id = $2 and action = 'commit') as "done!""#,
        id as ImportId,
        owner as UserId
    )
    .fetch_one(db)
    .await
}

/// A contact as a pick list shows it.
#[derive(Debug, Clone)]
pub struct Choice {
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
}

/// The owner's active contacts with exactly this name (case-insensitive).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn named(
    db: impl PgExecutor<'_>,
    owner: UserId,
    name: &str,
) -> sqlx::Result<Vec<Choice>> {
    sqlx::query_as!(
        Choice,
        r#"select contact_id as "contact_id: ContactId", name, company from contacts
           where owner_id = $1 and lower(name) = lower($2) and archived_at is null
           order by contact_id limit 20"#,
        owner as UserId,
        name.trim()
    )
    .fetch_all(db)
    .await
}

/// One of the owner's active contacts by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn own_choice(
    db: impl PgExecutor<'_>,
    owner: UserId,
    id: ContactId,
) -> sqlx::Result<Option<Choice>> {
    sqlx::query_as!(
        Choice,
        r#"select contact_id as "contact_id: ContactId", name, company from contacts
           where contact_id = $1 and owner_id = $2 and archived_at is null"#,
        id as ContactId,
        owner as UserId
    )
    .fetch_optional(db)
    .await
}

/// The owner's contacts whose name starts with or resembles `text`, for type-ahead; with no
/// text, the strongest referral sources and clients touched most recently.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn suggest(
    db: impl PgExecutor<'_>,
    owner: UserId,
    text: &str,
    limit: i64,
) -> sqlx::Result<Vec<Choice>> {
    let text = text.trim().to_lowercase();
    sqlx::query_as!(
        Choice,
        r#"select contact_id as "contact_id: ContactId", name, company from contacts
           where owner_id = $1 and archived_at is null
             and ($2 = '' or lower(name) like $3 || '%' or $2 <% lower(name))
           order by ($2 <> '' and lower(name) like $3 || '%') desc,
                    kind in ('referral_source', 'client') desc, strength desc,
                    last_touch_at desc nulls last, lower(name)
           limit $4"#,
        owner as UserId,
        text,
        escape_like(&text),
        limit
    )
    .fetch_all(db)
    .await
}

/// Two of one owner's active contacts that may be the same person.
#[derive(Debug, Clone)]
pub struct PossibleDuplicate {
    pub a_id: ContactId,
    pub a_name: String,
    pub a_company: Option<String>,
    pub b_id: ContactId,
    pub b_name: String,
    pub b_company: Option<String>,
    pub owner_name: String,
    /// Why they look alike, for people.
    pub reason: String,
}

/// Pairs of active contacts with one owner (among the owners the viewer sees) that share a
/// LinkedIn profile (however its address is written) or have similar names at similar (or
/// unknown) companies; the closest names first. E-mail addresses are unique per owner
/// already, so they cannot pair.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn possible_duplicates(
    db: impl PgExecutor<'_>,
    viewer: UserId,
    limit: i64,
) -> sqlx::Result<Vec<PossibleDuplicate>> {
    sqlx::query_as!(
        PossibleDuplicate,
        r#"with pairs as (
               select a.contact_id as a_id, b.contact_id as b_id, 'the same LinkedIn profile' as reason, 2.0::float4 as score
               from contacts a
               join contacts b on b.owner_id = a.owner_id and b.contact_id > a.contact_id and b.archived_at is null
                and substring(lower(b.linkedin_url) from 'linkedin\.com/in/([^/?#]+)')
                    = substring(lower(a.linkedin_url) from 'linkedin\.com/in/([^/?#]+)')
               where a.owner_id in (select visible_user_ids($1)) and a.archived_at is null
                 and a.linkedin_url is not null
               union
               select a.contact_id, b.contact_id, 'similar names', similarity(lower(a.name), lower(b.name))
               from contacts a
               join contacts b on b.owner_id = a.owner_id and b.contact_id > a.contact_id and b.archived_at is null
                and lower(b.name) % lower(a.name)
               where a.owner_id in (select visible_user_ids($1)) and a.archived_at is null
                 and similarity(lower(a.name), lower(b.name)) >= 0.6
                 and (a.company is null or b.company is null
                      or similarity(lower(a.company), lower(b.company)) >= 0.5)
           ), best as (
               select distinct on (a_id, b_id) a_id, b_id, reason, score from pairs
               order by a_id, b_id, score desc
           )
           select a.contact_id as "a_id: ContactId", a.name as a_name, a.company as a_company,
                  b.contact_id as "b_id: ContactId", b.name as b_name, b.company as b_company,
                  u.name as owner_name, p.reason as "reason!"
           from best p
           join contacts a on a.contact_id = p.a_id
           join contacts b on b.contact_id = p.b_id
           join users u on u.user_id = a.owner_id
           order by p.score desc, lower(a.name), a.contact_id, b.contact_id
           limit $2"#,
        viewer as UserId,
        limit
    )
    .fetch_all(db)
    .await
}

/// Merges contact `drop` into `keep` (both of one owner, checked by the caller): every ask
/// (as source or target), follow-up and relationship of `drop` moves to `keep` (relationships
/// deduplicated, the one between them dropped), `keep`'s empty fields are filled from `drop`
/// and their notes joined, and `drop` is archived pointing at `keep`. Returns `drop`'s row as
/// it was, for the audit log. The triggers on asks recompute both contacts' ask dates.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn merge(
    db: &mut sqlx::PgConnection,
    keep: ContactId,
    drop: ContactId,
) -> sqlx::Result<serde_json::Value> {
    // Both rows locked, in id order, so two merges of one pair wait for each other.
    sqlx::query!(
        "select contact_id from contacts where contact_id in ($1, $2) order by contact_id for update",
        keep as ContactId,
        drop as ContactId
    )
    .fetch_all(&mut *db)
    .await?;
    let old = sqlx::query_scalar!(
        r#"select to_jsonb(c) - array['recent_ask_dates', 'intro_ask_dates', 'won_ask_dates'] as "row!"
           from contacts c where contact_id = $1"#,
        drop as ContactId
    )
    .fetch_one(&mut *db)
    .await?;
    // The e-mail and LinkedIn address are unique per owner: they leave `drop` first.
    sqlx::query!(
        "update contacts set archived_at = coalesce(archived_at, now()), merged_into_id = $1,
                email = null, linkedin_url = null
         where contact_id = $2",
        keep as ContactId,
        drop as ContactId
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        r#"update contacts k set
               email = coalesce(k.email, d.email), phone = coalesce(k.phone, d.phone),
               company = coalesce(k.company, d.company), title = coalesce(k.title, d.title),
               linkedin_url = coalesce(k.linkedin_url, d.linkedin_url),
               touch_cadence_days = coalesce(k.touch_cadence_days, d.touch_cadence_days),
               strength = greatest(k.strength, d.strength),
               last_touch_at = greatest(k.last_touch_at, d.last_touch_at),
               notes = left(case when d.notes = '' then k.notes
                                 when k.notes = '' then d.notes
                                 else k.notes || E'\n\n' || d.notes end, 20000)
           from jsonb_to_record($2) as d (email text, phone text, company text, title text,
                linkedin_url text, touch_cadence_days int4, strength int2, last_touch_at timestamptz, notes text)
           where k.contact_id = $1"#,
        keep as ContactId,
        &old
    )
    .execute(&mut *db)
    .await?;
    // One statement, so the ask triggers recompute both contacts' ask dates once.
    sqlx::query!(
        "update referral_asks
         set source_contact_id = case when source_contact_id = $2 then $1 else source_contact_id end,
             target_contact_id = case when target_contact_id = $2 then $1 else target_contact_id end
         where $2 in (source_contact_id, target_contact_id)",
        keep as ContactId,
        drop as ContactId
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "update follow_ups set contact_id = $1 where contact_id = $2",
        keep as ContactId,
        drop as ContactId
    )
    .execute(&mut *db)
    .await?;
    // Relationships: the edge between the two goes, an edge `keep` already has to the same
    // person wins (with the stronger strength), the rest move over.
    sqlx::query!(
        r#"with other_end as (
               select r.relationship_id, r.strength,
                      case when r.from_contact_id = $2 then r.to_contact_id else r.from_contact_id end as other
               from relationships r where $2 in (r.from_contact_id, r.to_contact_id)
           ), kept as (
               update relationships k set strength = greatest(k.strength, o.strength)
               from other_end o
               where $1 in (k.from_contact_id, k.to_contact_id)
                 and o.other = case when k.from_contact_id = $1 then k.to_contact_id else k.from_contact_id end
               returning o.relationship_id
           )
           delete from relationships r
           where r.relationship_id in (select relationship_id from kept)
              or (r.from_contact_id, r.to_contact_id) in (($1, $2), ($2, $1))"#,
        keep as ContactId,
        drop as ContactId
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "update relationships
         set from_contact_id = case when from_contact_id = $2 then $1 else from_contact_id end,
             to_contact_id = case when to_contact_id = $2 then $1 else to_contact_id end
         where $2 in (from_contact_id, to_contact_id)",
        keep as ContactId,
        drop as ContactId
    )
    .execute(&mut *db)
    .await?;
    Ok(old)
}

/// One line of a contact's history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// `asked_source`, `asked_target`, `event`, `follow_up`, `linked` or `added`.
    pub kind: String,
    pub on: time::Date,
    pub ask_id: Option<i64>,
    pub source_name: Option<String>,
    pub target_label: Option<String>,
    /// The event's kind, for `event`.
    pub event_kind: Option<String>,
    pub note: Option<String>,
    /// The follow-up's title, or the linked contact's name.
    pub title: Option<String>,
    pub done: bool,
    pub other_contact_id: Option<i64>,
}

/// Everything that happened with a contact, newest first (at most `limit` lines): the asks
/// where they were the source or the target and those asks' events, follow-ups about them,
/// the people linked to them, and when they were added.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn history(
    db: impl PgExecutor<'_>,
    contact: ContactId,
    limit: i64,
) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as!(
        HistoryRow,
        r#"with asks as (
               select a.ask_id, a.asked_on, a.created_at, s.name as source_name,
                      coalesce(t.name, a.target_description, '') as target_label,
                      (a.source_contact_id = $1) as as_source
               from referral_asks a
               join contacts s on s.contact_id = a.source_contact_id
               left join contacts t on t.contact_id = a.target_contact_id
               where a.source_contact_id = $1 or a.target_contact_id = $1
           ), lines as (
               select case when as_source then 'asked_source' else 'asked_target' end as kind,
                      asked_on as on_date, created_at as at, ask_id, source_name, target_label,
                      null::text as event_kind, null::text as note, null::text as title, false as done,
                      null::int8 as other_contact_id
               from asks
               union all
               select 'event', e.occurred_on, e.created_at, e.ask_id, a.source_name, a.target_label,
                      e.kind, nullif(e.note, ''), null, false, null
               from ask_events e join asks a on a.ask_id = e.ask_id
               union all
               select 'follow_up', coalesce(f.done_at::date, f.due_on), coalesce(f.done_at, f.created_at),
                      f.ask_id, null, null, null, null, f.title, f.done_at is not null, null
               from follow_ups f where f.contact_id = $1
               union all
               select 'linked', r.created_at::date, r.created_at, null, null, null, null, nullif(r.notes, ''),
                      o.name, false, o.contact_id
               from relationships r
               join contacts o on o.contact_id = case when r.from_contact_id = $1 then r.to_contact_id
                                                      else r.from_contact_id end
               where r.from_contact_id = $1 or r.to_contact_id = $1
               union all
               select 'added', c.created_at::date, c.created_at, null, null, null, null, null, null, false, null
               from contacts c where c.contact_id = $1
           )
           select kind as "kind!", on_date as "on!", ask_id, source_name, target_label, event_kind,
                  note, title, done as "done!", other_contact_id
           from lines order by on_date desc, at desc limit $2"#,
        contact as ContactId,
        limit
    )
    .fetch_all(db)
    .await
}
