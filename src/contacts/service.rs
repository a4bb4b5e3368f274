//! Every change to a contact and its relationships: validation, the transaction, the audit
//! row. The pages (and any other door) parse their input, call one function here and render
//! what it returns.

use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::contacts::Contact;
use crate::domain::contacts::{ContactFields, ContactId, ContactInput};
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::users::User;

/// Relationship kinds, as stored and as the link form names them.
pub const RELATIONSHIP_KINDS: [(&str, &str); 7] = [
    ("knows", "Knows"),
    ("colleague", "Colleague"),
    ("friend", "Friend"),
    ("family", "Family"),
    ("client_of", "Client of"),
    ("worked_with", "Worked with"),
    ("other", "Other"),
];

/// A contact the user may see.
#[tracing::instrument(skip_all)]
pub async fn visible(pool: &PgPool, user: &User, id: ContactId) -> ServiceResult<Contact> {
    db::contacts::find_visible(pool, user.id, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// A contact the user owns, and so may change.
#[tracing::instrument(skip_all)]
pub async fn owned(pool: &PgPool, user: &User, id: ContactId) -> ServiceResult<Contact> {
    let contact = visible(pool, user, id).await?;
    if contact.owner_id == user.id {
        Ok(contact)
    } else {
        Err(ServiceError::NotFound)
    }
}

/// A unique e-mail or LinkedIn URL of the owner's becomes a field message.
fn duplicate_or(error: sqlx::Error) -> ServiceError {
    if db::is_unique_violation(&error, db::contacts::EMAIL_KEY) {
        ServiceError::field("email", "Another of your contacts has this e-mail address.")
    } else if db::is_unique_violation(&error, db::contacts::LINKEDIN_KEY) {
        ServiceError::field(
            "linkedin_url",
            "Another of your contacts has this LinkedIn URL.",
        )
    } else {
        error.into()
    }
}

/// Creates a contact of the user's from the form; returns it with the fields as saved.
#[tracing::instrument(skip_all)]
pub async fn create(
    pool: &PgPool,
    user: &User,
    form: &ContactInput,
) -> ServiceResult<(ContactId, ContactFields)> {
    let fields = form.validate().map_err(ServiceError::Invalid)?;
    let mut tx = pool.begin().await?;
    let id = db::contacts::insert(&mut *tx, user.id, &fields)
        .await
        .map_err(duplicate_or)?;
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "contact",
        id.0,
        "create",
        json!(form),
    )
    .await?;
    tx.commit().await?;
    Ok((id, fields))
}

/// Replaces the fields of one of the user's contacts.
#[tracing::instrument(skip_all)]
pub async fn update(
    pool: &PgPool,
    user: &User,
    id: ContactId,
    form: &ContactInput,
) -> ServiceResult<()> {
    let contact = owned(pool, user, id).await?;
    let fields = form.validate().map_err(ServiceError::Invalid)?;
    let mut tx = pool.begin().await?;
    let found = db::contacts::update(&mut *tx, user.id, contact.contact_id, &fields)
        .await
        .map_err(duplicate_or)?;
    if !found {
        return Err(ServiceError::NotFound);
    }
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "contact",
        id.0,
        "update",
        json!(form),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Archives one of the user's contacts (`archived`), or restores it.
#[tracing::instrument(skip_all)]
pub async fn set_archived(
    pool: &PgPool,
    user: &User,
    id: ContactId,
    archived: bool,
) -> ServiceResult<()> {
    let contact = owned(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    db::contacts::set_archived(&mut *tx, user.id, contact.contact_id, archived).await?;
    let action = if archived { "archive" } else { "restore" };
    db::audit::record(&mut *tx, Some(user.id), "contact", id.0, action, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A new relationship between two of the user's contacts, as typed in the link form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LinkInput {
    pub other_id: String,
    pub kind: String,
    pub strength: String,
}

/// Whom a link joined.
pub struct Linked {
    pub from: Contact,
    pub to: Contact,
    /// False when the two were linked already (nothing was written).
    pub created: bool,
}

/// Links one of the user's contacts with another of theirs. An unknown kind is "knows", a
/// strength outside 1 to 5 is 3.
#[tracing::instrument(skip_all)]
pub async fn link(
    pool: &PgPool,
    user: &User,
    id: ContactId,
    input: &LinkInput,
) -> ServiceResult<Linked> {
    let from = owned(pool, user, id).await?;
    let other = input
        .other_id
        .trim()
        .parse::<i64>()
        .map_err(|_| ServiceError::NotFound)?;
    let to = owned(pool, user, ContactId(other)).await?;
    if to.contact_id == from.contact_id {
        return Err(ServiceError::Refused(
            "A contact cannot know themselves: choose someone else.".into(),
        ));
    }
    let kind = RELATIONSHIP_KINDS
        .iter()
        .find(|(k, _)| *k == input.kind)
        .map_or("knows", |(k, _)| k);
    let strength = input
        .strength
        .trim()
        .parse::<i16>()
        .ok()
        .filter(|s| (1..=5).contains(s))
        .unwrap_or(3);
    let mut tx = pool.begin().await?;
    let linked = db::contacts::link(
        &mut *tx,
        user.id,
        from.contact_id,
        to.contact_id,
        kind,
        strength,
    )
    .await;
    let relationship = match linked {
        Ok(relationship) => relationship,
        Err(e) if db::is_unique_violation(&e, db::contacts::RELATIONSHIP_KEY) => {
            return Ok(Linked {
                from,
                to,
                created: false,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let changes =
        json!({ "from": from.contact_id, "to": to.contact_id, "kind": kind, "strength": strength });
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "relationship",
        relationship,
        "create",
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(Linked {
        from,
        to,
        created: true,
    })
}

/// Removes a relationship of one of the user's contacts.
#[tracing::instrument(skip_all)]
pub async fn unlink(
    pool: &PgPool,
    user: &User,
    id: ContactId,
    relationship: i64,
) -> ServiceResult<()> {
    owned(pool, user, id).await?;
    let mut tx = pool.begin().await?;
    if !db::contacts::unlink(&mut *tx, user.id, relationship).await? {
        return Err(ServiceError::NotFound);
    }
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "relationship",
        relationship,
        "delete",
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Merges `drop` into `keep` for `viewer`: a rep merges their own contacts, a manager those of
/// one person in their subtree. Both must be active and have one owner. Returns the merged
/// contact's name and the other's.
#[tracing::instrument(skip_all)]
pub async fn merge(
    pool: &PgPool,
    viewer: &User,
    keep: ContactId,
    drop: ContactId,
) -> ServiceResult<(String, String)> {
    let find = |id| visible(pool, viewer, id);
    let (kept, dropped): (Contact, Contact) = (find(keep).await?, find(drop).await?);
    if keep == drop {
        return Err(ServiceError::Refused(
            "Choose two different contacts to merge.".into(),
        ));
    }
    if kept.owner_id != dropped.owner_id {
        return Err(ServiceError::Refused(format!(
            "{} and {} are in different people's networks; only contacts of one person merge.",
            kept.name, dropped.name
        )));
    }
    if kept.archived_at.is_some() || dropped.archived_at.is_some() {
        return Err(ServiceError::Conflict(
            "Restore an archived contact before merging it.".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    // Asks logged a moment ago have touched both contacts before their touches are compared.
    db::metrics::fold_rollups(&mut *tx).await?;
    let old = db::contacts::merge(&mut tx, keep, drop).await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "contact",
        drop.0,
        "merge",
        json!({ "into": keep, "old": old }),
    )
    .await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "contact",
        keep.0,
        "merge",
        json!({ "from": drop }),
    )
    .await?;
    tx.commit().await?;
    Ok((kept.name, dropped.name))
}
