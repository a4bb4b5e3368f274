//! The route table: every page, API route, health check and static file, behind the layers
//! every request passes. Features own their routes (`router()` in each); this is the one place
//! that puts them together, so the web glue in `web` imports no feature.

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::middleware;
use axum_login::AuthManagerLayerBuilder;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::state::AppState;
use crate::web::{admission, assets, auth, csrf, error, form, metrics, page, sessions};

/// The content security policy: no inline script or style, nothing from other origins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// Browser features no page needs, switched off.
const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                                  serial=(), bluetooth=(), hid=(), interest-cohort=()";

/// Builds the whole application: every route, behind every layer. Tests drive this router
/// directly; `serve` puts it on a socket.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let timeout = state.config.request_timeout();
    let request_id = HeaderName::from_static("x-request-id");

    Router::new()
        .merge(pages(&state))
        .merge(crate::api::router())
        .merge(crate::health::router())
        .merge(crate::calendar::router())
        .merge(assets::router())
        .fallback(error::not_found)
        .layer(
            // Top to bottom: the order a request passes through.
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    state.request_metrics.clone(),
                    metrics::record_requests,
                ))
                .layer(middleware::from_fn_with_state(
                    state.admission.clone(),
                    admission::admit,
                ))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                        let id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        // The route's pattern (`/contacts/{id}`) groups a route's requests.
                        let route = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map_or("unmatched", MatchedPath::as_str);
                        tracing::info_span!("request", method = %req.method(), route = %route, path = %req.uri().path(), request.id = %id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
                .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .layer(security_header(header::REFERRER_POLICY, "same-origin"))
                .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
                .layer(security_header(
                    HeaderName::from_static("permissions-policy"),
                    PERMISSIONS_POLICY,
                ))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(page::clear_shown_flash))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    error::render_errors,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    form::refuse_control_characters,
                ))
                .layer(CatchPanicLayer::custom(error::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                // Routes with larger uploads (contact import) raise `DefaultBodyLimit` for
                // themselves; this outer layer only turns away anything bigger than those.
                .layer(RequestBodyLimitLayer::new(
                    body_limit.max(crate::contacts::import::MAX_FILE_BYTES + 64 * 1024),
                ))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(state)
}

/// The pages people use: behind the session, the login, the absolute session lifetime and
/// CSRF protection. Health checks and static files stay outside, so they never touch the
/// session store.
fn pages(state: &AppState) -> Router<AppState> {
    let config = &state.config;
    let sessions = SessionManagerLayer::new(sessions::RetryingStore(PostgresStore::new(
        state.pool.clone(),
    )))
    .with_name("warmline_session")
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(config.secure_cookies)
    .with_expiry(Expiry::OnInactivity(config.session_idle()));
    let login = AuthManagerLayerBuilder::new(
        crate::accounts::backend::Backend::new(state.pool.clone()),
        sessions,
    )
    .build();
    Router::new()
        .merge(crate::week::router())
        .merge(crate::asks::router())
        .merge(crate::followups::router())
        .merge(crate::notifications::router())
        .merge(crate::dashboard::router())
        .merge(crate::accounts::router())
        .merge(crate::contacts::router())
        .merge(crate::team::router())
        .merge(crate::settings::router())
        .merge(crate::webhooks::router())
        .merge(crate::paths::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::verify_csrf,
        ))
        // Pages and exports hold a person's data (a new API token, a contact list): no
        // browser or proxy may keep a copy.
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::enforce_absolute_lifetime,
        ))
        .layer(login)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
