//! `/api/v1/contacts`: the user's network (and, for managers, their team's), through the
//! contacts service.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiResult, Created, Page, PageParams, idempotent_create, to_body};
use crate::contacts::ListQuery;
use crate::contacts::service::{self, LinkInput};
use crate::db;
use crate::db::contacts::{Contact, Cursor, Introducer, Related};
use crate::domain::contacts::{ContactId, ContactInput, Kind};
use crate::domain::users::UserId;
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// A contact as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactOut {
    pub id: ContactId,
    pub owner_id: UserId,
    pub owner_name: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub linkedin_url: Option<String>,
    pub kind: Kind,
    /// How strong the relationship is, 1 to 5.
    pub strength: i16,
    /// Keep in touch every this many days.
    pub touch_cadence_days: Option<i32>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_touch_at: Option<time::OffsetDateTime>,
    pub notes: String,
    pub archived: bool,
    /// The stay-in-touch cadence has run out.
    pub touch_due: bool,
}

impl From<Contact> for ContactOut {
    fn from(c: Contact) -> Self {
        Self {
            id: c.contact_id,
            owner_id: c.owner_id,
            owner_name: c.owner_name,
            name: c.name,
            email: c.email,
            phone: c.phone,
            company: c.company,
            title: c.title,
            linkedin_url: c.linkedin_url,
            kind: c.kind,
            strength: c.strength,
            touch_cadence_days: c.touch_cadence_days,
            last_touch_at: c.last_touch_at,
            notes: c.notes,
            archived: c.archived_at.is_some(),
            touch_due: c.touch_due,
        }
    }
}

/// Where an alphabetical page starts: after this name and id.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    name: String,
    id: ContactId,
}

/// The contacts the token's user may see, alphabetically (best matches first with `q`), with
/// the contact list's filters (`q`, `kind`, `strength`, `untouched`, `due`, `archived`,
/// `owner`). A search answers one page.
#[utoipa::path(
    get,
    path = "/api/v1/contacts",
    operation_id = "contacts_list",
    tag = "contacts",
    params(("q" = Option<String>, Query, description = "Part of a name, company or e-mail (best matches first, one page)"), ("kind" = Option<Kind>, Query, description = "Only contacts of this kind"), ("strength" = Option<String>, Query, description = "At least this relationship strength, 1 to 5"), ("untouched" = Option<String>, Query, description = "Not touched for at least this many days"), ("due" = Option<String>, Query, description = "Non-empty: only contacts whose stay-in-touch cadence ran out"), ("archived" = Option<String>, Query, description = "Non-empty: archived contacts instead"), ("owner" = Option<String>, Query, description = "Only this owner's contacts (a user id)"), ("limit" = Option<String>, Query, description = "Items per page, 1 to 200 (50 by default)"), ("cursor" = Option<String>, Query, description = "Where the page starts: a `next_cursor` from the page before")),
    responses((status = 200, description = "A page of contacts, alphabetical", body = Page<ContactOut>), crate::api::openapi::Problems)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<ContactOut>>> {
    let (limit, position) = page.parse::<Position>()?;
    let cursor = position.map(|p| Cursor {
        name: p.name,
        id: p.id,
    });
    let filter = query.filter();
    db::metrics::fold_rollups(&state.pool).await?;
    let fetch = if filter.query.is_some() {
        limit
    } else {
        limit + 1
    };
    let rows = db::contacts::list(&state.pool, user.id, &filter, cursor.as_ref(), fetch).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |c| Position {
            name: c.name.clone(),
            id: c.contact_id,
        },
        ContactOut::from,
    )))
}

/// One contact the token's user may see.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}",
    operation_id = "contacts_show",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "The contact", body = ContactOut), crate::api::openapi::Problems)
)]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<ContactOut>> {
    db::metrics::fold_rollups(&state.pool).await?;
    Ok(Json(service::visible(&state.pool, &user, id).await?.into()))
}

/// A contact's fields as sent: numbers may come as numbers or text.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ContactFieldsIn {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub linkedin_url: Option<String>,
    /// `client`, `referral_source`, `prospect`, `partner`, `organisation` or `other`.
    pub kind: Option<String>,
    pub strength: Option<Value>,
    pub touch_cadence_days: Option<Value>,
    pub notes: Option<String>,
}

impl ContactFieldsIn {
    /// The fields over `base`: what is sent replaces, what is left out stays.
    fn over(&self, mut base: ContactInput) -> ContactInput {
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(value) = value {
                field.clone_from(value);
            }
        };
        let set_number = |field: &mut String, value: &Option<Value>| match value {
            None => {}
            Some(Value::Null) => field.clear(),
            Some(Value::String(text)) => field.clone_from(text),
            Some(other) => *field = other.to_string(),
        };
        set(&mut base.name, &self.name);
        set(&mut base.email, &self.email);
        set(&mut base.phone, &self.phone);
        set(&mut base.company, &self.company);
        set(&mut base.title, &self.title);
        set(&mut base.linkedin_url, &self.linkedin_url);
        set(&mut base.kind, &self.kind);
        set_number(&mut base.strength, &self.strength);
        set_number(&mut base.touch_cadence_days, &self.touch_cadence_days);
        set(&mut base.notes, &self.notes);
        base
    }
}

/// Adds a contact to the user's network (201).
#[utoipa::path(
    post,
    path = "/api/v1/contacts",
    operation_id = "contacts_create",
    tag = "contacts",
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = ContactFieldsIn,
    responses((status = 201, description = "The contact as saved", body = ContactOut), crate::api::openapi::Problems)
)]
pub async fn create(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Json(input): Json<ContactFieldsIn>,
) -> ApiResult<Response> {
    let create = async {
        let form = input.over(ContactInput {
            strength: "3".into(),
            kind: "other".into(),
            ..ContactInput::default()
        });
        let (id, _) = service::create(&state.pool, &user, &form).await?;
        let contact = ContactOut::from(service::visible(&state.pool, &user, id).await?);
        Ok(Created {
            location: format!("/api/v1/contacts/{id}"),
            body: to_body(&contact)?,
        })
    };
    idempotent_create(
        &state,
        &user,
        &headers,
        "POST /api/v1/contacts",
        &input,
        create,
    )
    .await
}

/// Changes the fields sent of one of the user's own contacts.
#[utoipa::path(
    patch,
    path = "/api/v1/contacts/{id}",
    operation_id = "contacts_update",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body = ContactFieldsIn,
    responses((status = 200, description = "The contact as changed", body = ContactOut), crate::api::openapi::Problems)
)]
pub async fn update(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<ContactId>,
    Json(input): Json<ContactFieldsIn>,
) -> ApiResult<Json<ContactOut>> {
    let contact = service::owned(&state.pool, &user, id).await?;
    let form = input.over(contact.as_input());
    service::update(&state.pool, &user, id, &form).await?;
    Ok(Json(service::visible(&state.pool, &user, id).await?.into()))
}

/// Archives one of the user's own contacts.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/archive",
    operation_id = "contacts_archive",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "The contact, archived", body = ContactOut), crate::api::openapi::Problems)
)]
pub async fn archive(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<ContactOut>> {
    service::set_archived(&state.pool, &user, id, true).await?;
    Ok(Json(service::visible(&state.pool, &user, id).await?.into()))
}

/// Restores one of the user's own archived contacts.
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/restore",
    operation_id = "contacts_restore",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "The contact, restored", body = ContactOut), crate::api::openapi::Problems)
)]
pub async fn restore(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<ContactOut>> {
    service::set_archived(&state.pool, &user, id, false).await?;
    Ok(Json(service::visible(&state.pool, &user, id).await?.into()))
}

/// A relationship between two contacts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RelationshipOut {
    pub id: i64,
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub kind: String,
    pub strength: i16,
}

impl From<Related> for RelationshipOut {
    fn from(r: Related) -> Self {
        Self {
            id: r.relationship_id,
            contact_id: r.contact_id,
            name: r.name,
            company: r.company,
            kind: r.kind,
            strength: r.strength,
        }
    }
}

/// Everyone a contact the user may see is linked to.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/relationships",
    operation_id = "contacts_relationships",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "Everyone the contact is linked to", body = Page<RelationshipOut>), crate::api::openapi::Problems)
)]
pub async fn relationships(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<Page<RelationshipOut>>> {
    let contact = service::visible(&state.pool, &user, id).await?;
    let related = db::contacts::relationships_of(&state.pool, contact.contact_id).await?;
    Ok(Json(Page {
        items: related.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

/// A new relationship: the other contact, how they know each other, and how well (1 to 5).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewRelationship {
    pub other_contact_id: Option<ContactId>,
    /// `knows`, `introduced_by`, `client_of`, `worked_with` or `other`.
    pub kind: Option<String>,
    pub strength: Option<i16>,
}

/// Links one of the user's contacts with another of theirs (201; linking two that are
/// linked already changes nothing and answers 200).
#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/relationships",
    operation_id = "contacts_link",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body = NewRelationship,
    responses((status = 201, description = "Linked: the contact's relationships", body = Page<RelationshipOut>), (status = 200, description = "Linked already: nothing changed", body = Page<RelationshipOut>), crate::api::openapi::Problems)
)]
pub async fn link(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<ContactId>,
    Json(input): Json<NewRelationship>,
) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let form = LinkInput {
        other_id: input
            .other_contact_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        kind: input.kind.clone().unwrap_or_default(),
        strength: input.strength.map(|s| s.to_string()).unwrap_or_default(),
    };
    let linked = service::link(&state.pool, &user, id, &form).await?;
    let related = db::contacts::relationships_of(&state.pool, id).await?;
    let body: Vec<RelationshipOut> = related.into_iter().map(Into::into).collect();
    let status = if linked.created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        Json(Page {
            items: body,
            next_cursor: None,
        }),
    )
        .into_response())
}

/// Someone who can introduce the user to a contact.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntroducerOut {
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub kind: Kind,
    pub relationship_strength: i16,
    pub past_introductions: i64,
}

impl From<Introducer> for IntroducerOut {
    fn from(i: Introducer) -> Self {
        Self {
            contact_id: i.contact_id,
            name: i.name,
            company: i.company,
            kind: i.kind,
            relationship_strength: i.relationship_strength,
            past_introductions: i.past_introductions,
        }
    }
}

/// Who among the user's contacts can introduce them to this contact, best first.
#[utoipa::path(
    get,
    path = "/api/v1/contacts/{id}/introducers",
    operation_id = "contacts_introducers",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "Who can introduce the user, best first", body = Page<IntroducerOut>), crate::api::openapi::Problems)
)]
pub async fn introducers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<ContactId>,
) -> ApiResult<Json<Page<IntroducerOut>>> {
    db::metrics::fold_rollups(&state.pool).await?;
    let contact = service::visible(&state.pool, &user, id).await?;
    let found = db::contacts::who_can_introduce(&state.pool, user.id, contact.contact_id).await?;
    Ok(Json(Page {
        items: found.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/contacts/{id}/relationships/{relationship_id}",
    operation_id = "contacts_unlink",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact's id"), ("relationship_id" = i64, Path, description = "The relationship's id")),
    responses((status = 204, description = "Unlinked"), crate::api::openapi::Problems)
)]
/// Removes a relationship of one of the user's own contacts.
pub async fn unlink(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path((id, relationship)): Path<(ContactId, i64)>,
) -> ApiResult<axum::http::StatusCode> {
    service::unlink(&state.pool, &user, id, relationship).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Which contact to merge into this one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MergeWith {
    /// The duplicate: its asks, follow-ups and relationships move over, and it is archived.
    pub other_contact_id: Option<ContactId>,
}

#[utoipa::path(
    post,
    path = "/api/v1/contacts/{id}/merge",
    operation_id = "contacts_merge",
    tag = "contacts",
    params(("id" = i64, Path, description = "The contact that stays")),
    request_body = MergeWith,
    responses((status = 200, description = "The contact that stays, with everything of the other", body = ContactOut), crate::api::openapi::Problems)
)]
/// Merges a duplicate into this contact, as the duplicates page does: both of one person's
/// network, both active.
pub async fn merge(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<ContactId>,
    Json(input): Json<MergeWith>,
) -> ApiResult<Json<ContactOut>> {
    let other = input.other_contact_id.ok_or_else(|| {
        crate::domain::error::ServiceError::field(
            "other_contact_id",
            "Choose the contact to merge into this one.",
        )
    })?;
    service::merge(&state.pool, &user, id, other).await?;
    Ok(Json(service::visible(&state.pool, &user, id).await?.into()))
}

/// Two contacts of one person that look like the same one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateOut {
    pub contact_id: ContactId,
    pub name: String,
    pub company: Option<String>,
    pub other_contact_id: ContactId,
    pub other_name: String,
    pub other_company: Option<String>,
    pub owner_name: String,
    /// Why they look alike.
    pub reason: String,
}

/// How many pairs the list shows: the duplicates page's.
const DUPLICATES: i64 = 100;

#[utoipa::path(
    get,
    path = "/api/v1/contacts/duplicates",
    operation_id = "contacts_duplicates",
    tag = "contacts",
    responses((status = 200, description = "Pairs that look like one person, likeliest first", body = Page<DuplicateOut>), crate::api::openapi::Problems)
)]
/// Possible duplicates among the contacts the user sees, as the duplicates page lists them:
/// merge one into the other with `POST /api/v1/contacts/{id}/merge`.
pub async fn duplicates(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Page<DuplicateOut>>> {
    let pairs = db::contacts::possible_duplicates(&state.pool, user.id, DUPLICATES).await?;
    Ok(Json(Page {
        items: pairs
            .into_iter()
            .map(|p| DuplicateOut {
                contact_id: p.a_id,
                name: p.a_name,
                company: p.a_company,
                other_contact_id: p.b_id,
                other_name: p.b_name,
                other_company: p.b_company,
                owner_name: p.owner_name,
                reason: p.reason,
            })
            .collect(),
        next_cursor: None,
    }))
}
