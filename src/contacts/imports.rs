//! The import pages: upload, preview (mapping, duplicates, rejected rows) and commit.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use super::import::{self, Choices, Duplicate, Format, Original, Plan, Rejected};
use super::sources::Field;
use crate::db;
use crate::db::contacts::{PendingImport, StoredImport};
use crate::domain::contacts::{ContactFields, ImportId};
use crate::domain::users::User;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// Rows of each kind listed on the preview; the rest are counted.
const LISTED: usize = 500;

/// The import routes. The upload route accepts bodies up to the file limit plus room for the
/// multipart envelope.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/contacts/import",
            get(show_upload)
                .post(upload_file)
                .layer(DefaultBodyLimit::max(import::MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/contacts/import/{id}", get(show_preview))
        .route("/contacts/import/{id}/mapping", post(update_mapping))
        .route("/contacts/import/{id}/commit", post(commit_import))
        .route("/contacts/import/{id}/discard", post(discard_import))
}

/// The upload form, with the imports still waiting for review.
#[derive(Template)]
#[template(path = "contacts/upload.html")]
struct UploadPage {
    ctx: PageContext,
    error: Option<String>,
    pending: Vec<PendingImport>,
    ttl_hours: i64,
}

async fn upload_page(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    error: Option<String>,
) -> AppResult<Response> {
    let pending = db::contacts::pending_imports(&state.pool, user.id).await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = UploadPage {
        ctx,
        error,
        pending,
        ttl_hours: crate::sweeper::IMPORT_TTL_HOURS,
    };
    render(status, &page)
}

async fn show_upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    upload_page(&state, ctx, &user, None).await
}

/// Stores the uploaded file (decoded to text) and shows its preview.
async fn upload_file(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let too_large = || {
        AppError::TooLarge(format!(
            "That file is over {} MB, the most an import takes. Split it into smaller files and import them one by one.",
            import::MAX_FILE_BYTES / (1024 * 1024)
        ))
    };
    let mut upload = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::BadRequest(e.body_text())
        }
    })? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    AppError::BadRequest(e.body_text())
                }
            })?;
            upload = Some((name, bytes));
        }
    }
    let again = |error: &str| upload_page(&state, ctx.clone(), &user, Some(error.to_string()));
    let Some((file_name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        return again("Choose a CSV or vCard file to import.").await;
    };
    if bytes.len() > import::MAX_FILE_BYTES {
        return Err(too_large());
    }
    let waiting: i64 = db::contacts::pending_imports(&state.pool, user.id)
        .await?
        .iter()
        .map(|p| p.bytes)
        .sum();
    if waiting + bytes.len() as i64 > import::MAX_PENDING_BYTES {
        return again(
            "Your imports waiting for review already hold as much as Warmline keeps. Import \
             or discard them (listed below) before uploading another file.",
        )
        .await;
    }
    let text = import::decode(&bytes);
    if let Some(why) = import::unreadable(&bytes, &text) {
        return again(why).await;
    }
    let format = import::detect(&file_name, &text);
    let mapping = match format {
        Format::VCard => serde_json::Value::Null,
        _ => match import::read_table(&text, format) {
            Ok(table) => {
                // The mapping this person chose for this header last time, else the guess.
                let remembered = match import::header_key(&table.header) {
                    Some(key) => {
                        db::contacts::remembered_mapping(&state.pool, user.id, &key).await?
                    }
                    None => None,
                };
                let mapping = remembered.map_or_else(
                    || import::guess_mapping(&table.header),
                    |m| import::mapping_from_json(&m, &table.header),
                );
                serde_json::to_value(mapping).map_err(|e| AppError::Internal(e.into()))?
            }
            Err(error) => return again(&error).await,
        },
    };
    let file_name: String = file_name.chars().take(300).collect();
    let id = db::contacts::save_import(
        &state.pool,
        user.id,
        &file_name,
        format.as_str(),
        &text,
        &mapping,
    )
    .await?;
    Ok(Redirect::to(&format!("/contacts/import/{id}")).into_response())
}

/// A column of a CSV upload, with what it maps to and a sample value.
struct Column {
    index: usize,
    header: String,
    sample: String,
    field: Field,
}

/// The preview of an import.
#[derive(Template)]
#[template(path = "contacts/preview.html")]
struct PreviewPage {
    ctx: PageContext,
    id: ImportId,
    file_name: String,
    /// The export or vCard versions recognised.
    source: String,
    columns: Vec<Column>,
    /// How many columns are read into a field.
    columns_used: usize,
    /// Whether the columns are shown open: for a file no known export matches, or when the
    /// name is not mapped yet.
    columns_open: bool,
    total: usize,
    new_count: usize,
    new_sample: Vec<(u64, ContactFields)>,
    duplicates: Vec<Duplicate>,
    duplicate_count: usize,
    rejected: Vec<Rejected>,
    rejected_count: usize,
    error: Option<String>,
}

async fn stored(state: &AppState, user: &User, id: ImportId) -> AppResult<StoredImport> {
    db::contacts::find_import(&state.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Parses a stored upload under its mapping and plans it against the owner's contacts.
async fn plan_of(
    state: &AppState,
    user: &User,
    stored: &StoredImport,
) -> AppResult<(Format, Vec<Column>, Result<Plan, String>)> {
    let format = Format::parse(&stored.format).ok_or(AppError::NotFound)?;
    let mut columns = Vec::new();
    let mut mapping = Vec::new();
    if format != Format::VCard
        && let Ok(table) = import::read_table(&stored.content, format)
    {
        mapping = import::mapping_from_json(&stored.mapping, &table.header);
        let first = table.rows.iter().find_map(|(_, r)| r.as_ref().ok());
        columns = table
            .header
            .iter()
            .enumerate()
            .map(|(index, header)| Column {
                index,
                header: header.clone(),
                sample: first
                    .and_then(|r| r.get(index))
                    .cloned()
                    .unwrap_or_default(),
                field: mapping[index],
            })
            .collect();
    }
    let plan = match import::rows(format, &stored.content, &mapping) {
        Ok(rows) => Ok(import::plan(&state.pool, user.id, rows).await?),
        Err(error) => Err(error),
    };
    Ok((format, columns, plan))
}

async fn show_preview(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<ImportId>,
) -> AppResult<Response> {
    let stored = stored(&state, &user, id).await?;
    let (format, columns, plan) = plan_of(&state, &user, &stored).await?;
    let header: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
    let source = import::describe(format, &stored.content, &header);
    let (plan, error) = match plan {
        Ok(plan) => (plan, None),
        Err(error) => (Plan::default(), Some(error)),
    };
    let mapped_name = format == Format::VCard
        || columns
            .iter()
            .any(|c| matches!(c.field, Field::Name | Field::FirstName | Field::LastName));
    let error = error.or_else(|| {
        (!mapped_name)
            .then(|| "Choose which column holds the name (or the first and last name).".to_string())
    });
    let known = format == Format::LinkedIn || import::recognised(&header);
    let page = PreviewPage {
        ctx,
        id,
        file_name: stored.file_name,
        source,
        columns_used: columns.iter().filter(|c| c.field != Field::Ignore).count(),
        columns_open: !known || error.is_some(),
        columns,
        total: plan.new.len() + plan.duplicates.len() + plan.rejected.len(),
        new_count: plan.new.len(),
        new_sample: plan.new.into_iter().take(10).collect(),
        duplicate_count: plan.duplicates.len(),
        duplicates: plan.duplicates.into_iter().take(LISTED).collect(),
        rejected_count: plan.rejected.len(),
        rejected: plan.rejected.into_iter().take(LISTED).collect(),
        error,
    };
    render(StatusCode::OK, &page)
}

/// Saves the column mapping (`col_0=name&col_1=email…`).
async fn update_mapping(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ImportId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let stored = stored(&state, &user, id).await?;
    let format = Format::parse(&stored.format).ok_or(AppError::NotFound)?;
    let table = import::read_table(&stored.content, format).map_err(AppError::BadRequest)?;
    let mut mapping = vec![Field::Ignore; table.header.len()];
    for (name, value) in fields {
        let Some(index) = name
            .strip_prefix("col_")
            .and_then(|i| i.parse::<usize>().ok())
        else {
            continue;
        };
        let field = Field::parse(&value)
            .ok_or_else(|| AppError::BadRequest(format!("Unknown field {value}.")))?;
        if let Some(slot) = mapping.get_mut(index) {
            *slot = field;
        }
    }
    let value = serde_json::to_value(&mapping).map_err(|e| AppError::Internal(e.into()))?;
    db::contacts::set_import_mapping(&state.pool, user.id, id, &value).await?;
    if let Some(key) = import::header_key(&table.header) {
        db::contacts::remember_mapping(&state.pool, user.id, &key, &value).await?;
    }
    Ok(Redirect::to(&format!("/contacts/import/{id}")).into_response())
}

/// Commits the import with the chosen handling of duplicates (`duplicates=skip|update`, and
/// `dup_<line>=skip|update` row by row).
async fn commit_import(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ImportId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let Some(stored) = db::contacts::find_import(&state.pool, user.id, id).await? else {
        return already_done(&state, &user, id).await;
    };
    let (_, _, plan) = plan_of(&state, &user, &stored).await?;
    let plan = plan.map_err(AppError::BadRequest)?;
    let mut choices = Choices::default();
    for (name, value) in &fields {
        let update = value == "update";
        if name == "duplicates" {
            choices.update_by_default = update;
        } else if let Some(line) = name.strip_prefix("dup_").and_then(|l| l.parse().ok()) {
            choices.per_line.insert(line, update);
        }
    }
    let Some(outcome) = import::commit(&state.pool, user.id, id, plan, &choices).await? else {
        return already_done(&state, &user, id).await;
    };
    let message = format!(
        "Import done: {} added, {} updated, {} skipped, {} not imported.",
        outcome.inserted, outcome.updated, outcome.skipped, outcome.rejected
    );
    Ok(redirect_with_flash(
        "/contacts",
        FlashKind::Success,
        &message,
    ))
}

async fn discard_import(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ImportId>,
) -> AppResult<Response> {
    if !db::contacts::delete_import(&state.pool, user.id, id).await? {
        return already_done(&state, &user, id).await;
    }
    Ok(redirect_with_flash(
        "/contacts/import",
        FlashKind::Info,
        "Import discarded; nothing changed.",
    ))
}

/// An import that is no longer waiting: the owner's own committed one says so, anyone else's
/// (or one never made) is not found, like every foreign record.
async fn already_done(state: &AppState, user: &User, id: ImportId) -> AppResult<Response> {
    if db::contacts::import_was_committed(&state.pool, user.id, id).await? {
        Ok(redirect_with_flash(
            "/contacts",
            FlashKind::Info,
            "That import was already done.",
        ))
    } else {
        Err(AppError::NotFound)
    }
}

impl Duplicate {
    /// How the original is described on the preview.
    pub fn original_label(&self) -> String {
        match &self.original {
            Original::Existing { name, .. } => format!("your contact {name}"),
            Original::EarlierRow { line } => format!("row {line} of this file"),
        }
    }
}
