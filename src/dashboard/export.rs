//! The dashboard's per-rep table as CSV.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::db::metrics::OverdueByAge;
use crate::domain::asks::format_amount;
use crate::domain::spreadsheet::CsvOut;
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppError, AppResult};

use super::{Filters, compute, percent, scope_for};

/// The per-rep table as CSV.
pub(super) async fn export_dashboard(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let filters = filters.with_dates_as_custom();
    let scope = scope_for(&state, &viewer, &filters).await?;
    let d = compute(&state.pool, &state.read_pool, scope).await?;
    let weeks = ((scope.to - scope.from).whole_days() + 1) as f64 / 7.0;
    let mut out = CsvOut::default();
    let header = [
        "Rep",
        "From",
        "To",
        "Asks",
        "Target",
        "Introductions",
        "Meetings",
        "Won",
        "Lost",
        "Won amount",
        "Ask to intro rate",
        "Close ratio",
        "Overdue 1-2 days",
        "Overdue 3-7 days",
        "Overdue 8+ days",
        "Median logging delay (days)",
        "Active this week",
    ];
    let csv_error = |e: csv::Error| AppError::Internal(e.into());
    out.row(header).map_err(csv_error)?;
    for r in &d.reps {
        let overdue = d.overdue.iter().find(|o| o.user_id == r.user_id);
        let count = |f: fn(&OverdueByAge) -> i64| overdue.map_or(0, f).to_string();
        out.row([
            r.name.clone(),
            scope.from.to_string(),
            scope.to.to_string(),
            r.asks.to_string(),
            r.target(weeks).to_string(),
            r.intros.to_string(),
            r.meetings.to_string(),
            r.wins.to_string(),
            r.losses.to_string(),
            format_amount(r.won_cents),
            percent(r.intros, r.ended),
            percent(r.wins, r.wins + r.losses),
            count(|o| o.days_1_2),
            count(|o| o.days_3_7),
            count(|o| o.days_8_plus),
            r.median_delay_days
                .map(|d| format!("{d:.1}"))
                .unwrap_or_default(),
            if r.active { "yes" } else { "no" }.into(),
        ])
        .map_err(csv_error)?;
    }
    let body = out.finish().map_err(csv_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"dashboard-{}-{}.csv\"",
                    scope.from, scope.to
                ),
            ),
        ],
        body,
    )
        .into_response())
}
