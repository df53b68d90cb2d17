//! Deals partners registered: list them, move them along.

use axum::Json;
use axum::extract::State;
use partner_domain::FieldError;
use partner_domain::deals::{DealId, DealStatus};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::partner::change_deal_status;
use partner_service::extract::{self, PathParam, QueryParams};
use partner_service::views::ListPage;
use partner_service::views::ledger::{DealView, all};
use partner_service::{ApiError, AppState};
use serde::Deserialize;

use crate::Paging;

/// `GET /v1/apps/{appId}/affiliates/deals?limit=&cursor=`: newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<ListPage<DealView>>, ApiError> {
    let limit = paging.limit()?;
    let (deals, next_cursor) = state
        .store()
        .deals()
        .of_app(&admin.app_id, limit, paging.cursor)
        .await?;
    Ok(Json(ListPage {
        data: all(&deals),
        next_cursor,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    status: String,
}

/// `PATCH /v1/apps/{appId}/affiliates/deals/{id} {status}`: pending → accepted /
/// rejected, accepted → won / lost.
pub(crate) async fn patch(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    extract::Json(body): extract::Json<StatusBody>,
) -> Result<Json<DealView>, ApiError> {
    let id = DealId::parse("id", &id)?;
    let next = DealStatus::parse(&body.status)
        .ok_or_else(|| FieldError::new("status", "must be accepted, rejected, won or lost"))?;
    let deal = change_deal_status(&state, &admin.app_id, &id, next, admin.actor()).await?;
    Ok(Json(DealView::from(&deal)))
}
