//! Coaching notes, written from a rep's scorecard.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::domain::error::ServiceError;
use crate::domain::users::UserId;
use crate::state::AppState;
use crate::web::auth::Manager;
use crate::web::{AppResult, FlashKind, PageContext, redirect_with_flash};

use super::service::{self, CoachingForm};
use super::{Filters, scorecard};

/// Writes a coaching note; its committed action becomes a follow-up for the rep, due on the
/// inspect-on date, and the rep is notified. A note that does not validate goes back to the
/// scorecard with its messages.
pub(super) async fn create_coaching_note(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(rep): Path<UserId>,
    Form(form): Form<CoachingForm>,
) -> AppResult<Response> {
    match service::add_note(&state.pool, &viewer, rep, &form).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/dashboard/reps/{rep}"),
            FlashKind::Success,
            "Coaching note saved; the commitment is on the rep's list.",
        )),
        Err(ServiceError::Invalid(errors)) => {
            scorecard::scorecard(
                &state,
                ctx,
                &viewer,
                rep,
                Filters::default(),
                scorecard::SentBack::Coaching(form, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
