//! The API's OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the types they take and give, served at `/api/openapi.json`; and a reference page made
//! from the same document at `/api/docs`, rendered here (no script, no CDN: the pages' CSP).

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::web::{AppResult, PageContext, render};

/// An error, as RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, in words to show a person.
    pub detail: Option<String>,
    /// For 422: what is wrong with each field.
    pub errors: Option<Vec<FieldProblem>>,
}

/// One field's problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The problems any call can answer with.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Problems {
    /// The request is malformed: a path that is not an id, a body that is not JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, or one that is unknown, revoked or its user's deactivated.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token may only read, or the call is for managers or admins.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such record, or one the token's user may not see.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The change collides with the record's state, or an Idempotency-Key is still in use.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is too large.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The input does not validate: `errors` lists each field with its message.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(Problem),
    /// The database is unreachable or the server is overloaded: retry after `Retry-After`.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Bearer tokens, made on the settings page or with `warmline token create`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from Settings → API tokens: read only, or read and write.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warmline API",
        description = "Everything a rep or a manager does on the pages, for scripts and integrations. \
                       Lists are paged by cursor; creates take an Idempotency-Key; errors are problem+json.",
    ),
    paths(
        super::show_me,
        super::update_me,
        super::asks::list,
        super::asks::create,
        super::asks::show,
        super::asks::update,
        super::asks::add_event,
        super::contacts::list,
        super::contacts::create,
        super::contacts::show,
        super::contacts::update,
        super::contacts::archive,
        super::contacts::restore,
        super::contacts::relationships,
        super::contacts::link,
        super::contacts::introducers,
        super::contacts::unlink,
        super::contacts::merge,
        super::contacts::duplicates,
        super::follow_ups::list,
        super::follow_ups::create,
        super::follow_ups::done,
        super::follow_ups::postpone,
        super::notifications::list,
        super::notifications::read,
        super::notifications::read_all,
        super::dashboard::show,
        super::dashboard::coaching_notes,
        super::dashboard::add_coaching_note,
        super::dashboard::set_goal,
        super::paths::search,
        super::paths::create_request,
        super::paths::show_request,
        super::list_webhooks,
        super::create_webhook,
        super::delete_webhook,
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "asks", description = "Referral asks and what came of them"),
        (name = "contacts", description = "The network"),
        (name = "follow-ups", description = "What the user owes"),
        (name = "notifications", description = "What the sweeper and others said"),
        (name = "dashboard", description = "Managers' figures"),
        (name = "paths", description = "Warm paths through the team's networks, and introduction requests"),
        (name = "webhooks", description = "Admins' event subscriptions"),
        (name = "me", description = "The token's user"),
    )
)]
pub struct ApiDoc;

/// The document, with the version of this build.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// One operation as the reference lists it.
struct Operation {
    method: String,
    path: String,
    anchor: String,
    summary: Vec<Run>,
    description: Vec<Run>,
    parameters: Vec<(String, String, bool, String)>,
    body: Option<String>,
    /// The 2xx answers, with their meaning.
    responses: Vec<(String, String)>,
    /// The problem statuses, explained once at the top of the page.
    problems: Vec<String>,
}

/// One schema and its properties (name, type, required, description).
struct Schema {
    name: String,
    description: String,
    properties: Vec<(String, String, bool, String)>,
    values: Vec<String>,
}

/// A piece of prose: text, or a `code` span.
struct Run {
    code: bool,
    text: String,
}

/// Text with `code` spans as runs, so the page shows them as code.
fn runs(text: &str) -> Vec<Run> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| Run {
            code: i % 2 == 1,
            text: part.to_string(),
        })
        .collect()
}

/// The reference page.
#[derive(Template)]
#[template(path = "api/docs.html")]
struct DocsPage {
    ctx: PageContext,
    version: String,
    /// Every problem status and what it means.
    problems: Vec<(String, Vec<Run>)>,
    tags: Vec<(String, String, Vec<Operation>)>,
    schemas: Vec<Schema>,
}

/// A schema's type in a few words: `string`, `integer`, `AskOut`, `array of FollowUpOut`.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    if let Some(all) = schema
        .get("oneOf")
        .or_else(|| schema.get("allOf"))
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let parts: Vec<String> = all.iter().map(type_of).filter(|t| t != "null").collect();
        return parts.join(" or ");
    }
    let kinds: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(str::to_string)
            .collect(),
        _ => vec![],
    };
    match kinds.first().map(String::as_str) {
        Some("array") => format!(
            "array of {}",
            schema.get("items").map_or("anything".into(), type_of)
        ),
        Some(kind) => match schema.get("format").and_then(Value::as_str) {
            Some(format) => format!("{kind} ({format})"),
            None => kind.to_string(),
        },
        None if schema.get("enum").is_some() => "string".into(),
        None => "any JSON".into(),
    }
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or("").to_string()
}

/// `GET /api/docs`: the reference, from the document.
pub async fn docs_page() -> AppResult<Response> {
    let doc = serde_json::to_value(document()).unwrap_or_default();
    let mut tags: Vec<(String, String, Vec<Operation>)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (text(t.get("name")), text(t.get("description")), Vec::new()))
        .collect();
    let mut problems: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        format!("{} ({})", text(p.get("name")), text(p.get("in"))),
                        type_of(&p["schema"]),
                        p["required"].as_bool().unwrap_or(false),
                        text(p.get("description")),
                    )
                })
                .collect();
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|m| type_of(&m["schema"]));
            let (responses, failures): (Vec<_>, Vec<_>) = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| (status.clone(), text(r.get("description"))))
                .partition(|(status, _)| status.starts_with('2'));
            for (status, meaning) in &failures {
                if !problems.iter().any(|(s, _)| s == status) {
                    problems.push((status.clone(), meaning.clone()));
                }
            }
            let operation = Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                anchor: text(op.get("operationId")),
                summary: runs(&text(op.get("summary"))),
                description: runs(&text(op.get("description"))),
                parameters,
                body,
                responses,
                problems: failures.into_iter().map(|(status, _)| status).collect(),
            };
            let tag = op["tags"][0].as_str().unwrap_or("").to_string();
            match tags.iter_mut().find(|(name, _, _)| *name == tag) {
                Some((_, _, ops)) => ops.push(operation),
                None => tags.push((tag, String::new(), vec![operation])),
            }
        }
    }
    tags.retain(|(_, _, ops)| !ops.is_empty());
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            Schema {
                name: name.clone(),
                description: text(s.get("description")),
                properties: s["properties"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(p, ps)| {
                        (
                            p.clone(),
                            type_of(ps),
                            required.contains(&p.as_str()),
                            text(ps.get("description")),
                        )
                    })
                    .collect(),
                values: s["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            }
        })
        .collect();
    render(
        StatusCode::OK,
        &DocsPage {
            ctx: PageContext::default(),
            version: text(doc["info"].get("version")),
            problems: {
                problems.sort();
                problems
                    .into_iter()
                    .map(|(status, meaning)| (status, runs(&meaning)))
                    .collect()
            },
            tags,
            schemas,
        },
    )
}
