//! Contacts: the rep's network. Create, edit, archive and restore; search and filter; link
//! people who know each other and find who can introduce you; import and export.

pub mod export;
pub mod import;
mod imports;
pub mod merge;
pub mod service;
pub mod sources;
pub mod vcard;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::db;
use crate::db::contacts::{Contact, ContactFilter, Cursor, Introducer, Related};
use crate::domain::contacts::{ContactId, ContactInput, Kind};
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// Contacts on one page of the list.
const PAGE_SIZE: i64 = 50;

/// The contact routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list_contacts).post(create_contact))
        .route("/contacts/new", get(new_contact))
        .route("/contacts/export.csv", get(export_csv))
        .route("/contacts/export.vcf", get(export_vcard))
        .route("/contacts/{id}", get(show_contact).post(update_contact))
        .route("/contacts/{id}/edit", get(edit_contact))
        .route("/contacts/{id}/archive", post(archive_contact))
        .route("/contacts/{id}/restore", post(restore_contact))
        .route("/contacts/{id}/vcard", get(show_vcard))
        .route("/contacts/{id}/link", get(find_link_candidates))
        .route("/contacts/{id}/relationships", post(create_relationship))
        .route(
            "/contacts/{id}/relationships/{relationship}/delete",
            post(delete_relationship),
        )
        .merge(imports::router())
        .merge(merge::router())
}

/// The list's filters, as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub kind: String,
    pub strength: String,
    pub untouched: String,
    pub due: String,
    pub archived: String,
    pub owner: String,
    pub after_name: String,
    pub after_id: String,
}

impl ListQuery {
    pub fn filter(&self) -> ContactFilter {
        let present = |s: &str| !s.trim().is_empty();
        ContactFilter {
            query: present(&self.q).then(|| self.q.trim().to_string()),
            kind: Kind::parse(&self.kind),
            min_strength: self
                .strength
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n)),
            untouched_days: self.untouched.trim().parse().ok().filter(|n: &i32| *n > 0),
            touch_due: present(&self.due),
            archived: present(&self.archived),
            owner: self.owner.trim().parse().ok().map(UserId),
        }
    }

    fn cursor(&self) -> Option<Cursor> {
        let id = self.after_id.trim().parse().ok()?;
        Some(Cursor {
            name: self.after_name.clone(),
            id: ContactId(id),
        })
    }

    /// The query string of these filters, without the page position.
    pub fn filters_query(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("kind", &self.kind),
            ("strength", &self.strength),
            ("untouched", &self.untouched),
            ("due", &self.due),
            ("archived", &self.archived),
            ("owner", &self.owner),
        ];
        let kept: Vec<(&str, &String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

/// The contact list.
#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ContactListPage {
    ctx: PageContext,
    contacts: Vec<Contact>,
    query: ListQuery,
    next_page: Option<String>,
    show_owner: bool,
    owners: Vec<(UserId, String)>,
}

async fn list_contacts(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut ctx: PageContext,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = query.filter();
    let cursor = query.cursor();
    // Last touches from asks logged a moment ago.
    db::metrics::fold_rollups(&state.pool).await?;
    let mut contacts = db::contacts::list(
        ctx.read_pool(&state).await,
        user.id,
        &filter,
        cursor.as_ref(),
        PAGE_SIZE + 1,
    )
    .await?;
    let next_page = if filter.query.is_none() && contacts.len() as i64 > PAGE_SIZE {
        contacts.truncate(PAGE_SIZE as usize);
        contacts.last().map(|last| {
            let position = serde_urlencoded::to_string([
                ("after_name", last.name.as_str()),
                ("after_id", &last.contact_id.to_string()),
            ])
            .unwrap_or_default();
            match query.filters_query().as_str() {
                "" => format!("/contacts?{position}"),
                f => format!("/contacts?{f}&{position}"),
            }
        })
    } else {
        contacts.truncate(PAGE_SIZE as usize);
        None
    };
    let show_owner = user.role.sees_others();
    let owners = db::users::filter_choices(&state.pool, &user).await?;
    render(
        StatusCode::OK,
        &ContactListPage {
            ctx,
            contacts,
            query,
            next_page,
            show_owner,
            owners,
        },
    )
}

/// The form for a new or an existing contact.
#[derive(Template)]
#[template(path = "contacts/form.html")]
struct ContactFormPage {
    ctx: PageContext,
    contact_id: Option<ContactId>,
    form: ContactInput,
    errors: FieldErrors,
}

async fn new_contact(CurrentUser(_): CurrentUser, ctx: PageContext) -> AppResult<Response> {
    let form = ContactInput {
        kind: Kind::Other.as_str().into(),
        strength: "3".into(),
        ..Default::default()
    };
    render(
        StatusCode::OK,
        &ContactFormPage {
            ctx,
            contact_id: None,
            form,
            errors: FieldErrors::default(),
        },
    )
}

async fn create_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<ContactInput>,
) -> AppResult<Response> {
    match service::create(&state.pool, &user, &form).await {
        Ok((id, fields)) => Ok(redirect_with_flash(
            &format!("/contacts/{id}"),
            FlashKind::Success,
            &format!("Added {}.", fields.name),
        )),
        Err(ServiceError::Invalid(errors)) => form_again(ctx, None, form, errors),
        Err(e) => Err(e.into()),
    }
}

fn form_again(
    ctx: PageContext,
    contact_id: Option<ContactId>,
    form: ContactInput,
    errors: FieldErrors,
) -> AppResult<Response> {
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ContactFormPage {
            ctx,
            contact_id,
            form,
            errors,
        },
    )
}

/// One contact with its relationships, who can introduce the rep, and its asks.
#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ContactPage {
    ctx: PageContext,
    contact: Contact,
    related: Vec<Related>,
    introducers: Vec<Introducer>,
    is_owner: bool,
    history: Vec<db::contacts::HistoryRow>,
}

impl ContactPage {
    /// How an event of the history reads.
    fn event_label(kind: &str) -> &'static str {
        crate::domain::asks::EventKind::parse(kind).map_or("Event", |k| k.label())
    }
}

/// Lines of history a contact's page shows.
const HISTORY_LINES: i64 = 100;

async fn show_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<ContactId>,
) -> AppResult<Response> {
    // Its last touch and ask dates (and those of its introducers) include every logged ask.
    db::metrics::fold_rollups(&state.pool).await?;
    let contact = service::visible(&state.pool, &user, id).await?;
    let related = db::contacts::relationships_of(&state.pool, contact.contact_id).await?;
    let introducers =
        db::contacts::who_can_introduce(&state.pool, user.id, contact.contact_id).await?;
    let is_owner = contact.owner_id == user.id;
    let history = db::contacts::history(&state.pool, contact.contact_id, HISTORY_LINES).await?;
    render(
        StatusCode::OK,
        &ContactPage {
            ctx,
            contact,
            related,
            introducers,
            is_owner,
            history,
        },
    )
}

async fn edit_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<ContactId>,
) -> AppResult<Response> {
    let c = service::owned(&state.pool, &user, id).await?;
    let form = c.as_input();
    render(
        StatusCode::OK,
        &ContactFormPage {
            ctx,
            contact_id: Some(c.contact_id),
            form,
            errors: FieldErrors::default(),
        },
    )
}

async fn update_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<ContactId>,
    Form(form): Form<ContactInput>,
) -> AppResult<Response> {
    match service::update(&state.pool, &user, id, &form).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/contacts/{id}"),
            FlashKind::Success,
            "Saved.",
        )),
        Err(ServiceError::Invalid(errors)) => form_again(ctx, Some(id), form, errors),
        Err(e) => Err(e.into()),
    }
}

async fn archive_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ContactId>,
) -> AppResult<Response> {
    service::set_archived(&state.pool, &user, id, true).await?;
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        FlashKind::Success,
        "Archived. It no longer shows in your lists; restore it any time.",
    ))
}

async fn restore_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ContactId>,
) -> AppResult<Response> {
    service::set_archived(&state.pool, &user, id, false).await?;
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        FlashKind::Success,
        "Restored.",
    ))
}

/// People to link a contact with, found by name.
#[derive(Template)]
#[template(path = "contacts/link.html")]
struct LinkPage {
    ctx: PageContext,
    contact: Contact,
    q: String,
    candidates: Vec<Contact>,
    kinds: [(&'static str, &'static str); 7],
}

/// The search for someone to link.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LinkQuery {
    q: String,
}

async fn find_link_candidates(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<ContactId>,
    Query(query): Query<LinkQuery>,
) -> AppResult<Response> {
    let contact = service::owned(&state.pool, &user, id).await?;
    let candidates = if query.q.trim().is_empty() {
        Vec::new()
    } else {
        let filter = ContactFilter {
            query: Some(query.q.trim().to_string()),
            owner: Some(user.id),
            ..Default::default()
        };
        db::contacts::list(&state.pool, user.id, &filter, None, 20)
            .await?
            .into_iter()
            .filter(|c| c.contact_id != contact.contact_id)
            .collect()
    };
    render(
        StatusCode::OK,
        &LinkPage {
            ctx,
            contact,
            q: query.q,
            candidates,
            kinds: service::RELATIONSHIP_KINDS,
        },
    )
}

async fn create_relationship(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ContactId>,
    Form(input): Form<service::LinkInput>,
) -> AppResult<Response> {
    let linked = service::link(&state.pool, &user, id, &input).await?;
    let (from, to) = (&linked.from.name, &linked.to.name);
    let (kind, message) = if linked.created {
        (FlashKind::Success, format!("Linked {from} and {to}."))
    } else {
        (
            FlashKind::Info,
            format!("{from} and {to} are already linked."),
        )
    };
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        kind,
        &message,
    ))
}

async fn delete_relationship(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, relationship)): Path<(ContactId, i64)>,
) -> AppResult<Response> {
    service::unlink(&state.pool, &user, id, relationship).await?;
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        FlashKind::Success,
        "Unlinked.",
    ))
}

/// Every contact the user may see under the list's filters, for export.
async fn exportable(state: &AppState, user: &User, query: &ListQuery) -> AppResult<Vec<Contact>> {
    let mut filter = query.filter();
    // Export everything that matches, in name order, not just the best search matches.
    let search = filter.query.take();
    db::metrics::fold_rollups(&state.pool).await?;
    let mut contacts = db::contacts::list(&state.pool, user.id, &filter, None, i64::MAX).await?;
    if let Some(search) = search {
        let ids: Vec<ContactId> = db::contacts::list(
            &state.pool,
            user.id,
            &ContactFilter {
                query: Some(search),
                ..filter
            },
            None,
            10_000,
        )
        .await?
        .into_iter()
        .map(|c| c.contact_id)
        .collect();
        contacts.retain(|c| ids.contains(&c.contact_id));
    }
    Ok(contacts)
}

async fn export_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let contacts = exportable(&state, &user, &query).await?;
    let csv = export::to_csv(&contacts).map_err(|e| AppError::Internal(e.into()))?;
    Ok(download("text/csv; charset=utf-8", "contacts.csv", csv))
}

async fn export_vcard(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let contacts = exportable(&state, &user, &query).await?;
    Ok(download(
        "text/vcard; charset=utf-8",
        "contacts.vcf",
        export::to_vcard(&contacts).into_bytes(),
    ))
}

async fn show_vcard(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ContactId>,
) -> AppResult<Response> {
    let contact = service::visible(&state.pool, &user, id).await?;
    let file_name = format!("contact-{}.vcf", contact.contact_id);
    Ok(download(
        "text/vcard; charset=utf-8",
        &file_name,
        vcard::write(&contact).into_bytes(),
    ))
}

fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}
