//! Listing partners, suspending and reactivating them, and their own commission rate.

use axum::Json;
use axum::extract::State;
use partner_domain::records::AffiliateStatus;
use partner_domain::rewards::GroupId;
use partner_domain::{AffiliateId, FieldError, RateBps};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::groups::{self, PartnerEdit};
use partner_service::extract::present;
use partner_service::extract::{self, PathParam, QueryParams};
use partner_service::views::{AffiliateView, ListPage};
use partner_service::{ApiError, AppState};
use serde::Deserialize;
use serde_json::Number;

use crate::Paging;

fn not_found() -> ApiError {
    ApiError::not_found(
        "affiliate_not_found",
        "No partner with this id in this app.",
    )
}

/// `GET …/affiliates?limit=&cursor=`: newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
    QueryParams(paging): QueryParams<Paging>,
) -> Result<Json<ListPage<AffiliateView>>, ApiError> {
    let limit = paging.limit()?;
    let (affiliates, next_cursor) = state
        .store()
        .affiliates()
        .list(&admin.app_id, limit, paging.cursor)
        .await?;
    Ok(Json(ListPage {
        data: affiliates.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// `GET …/affiliates/{affiliateId}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<AffiliateView>, ApiError> {
    let id = AffiliateId::parse("affiliateId", &id)?;
    let affiliate = state
        .store()
        .affiliates()
        .get(&admin.app_id, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(affiliate.into()))
}

/// `{"status"?: "active" | "suspended", "commissionRate"?: number | null,
/// "groupId"?: string | null}`; a null rate returns the partner to the program's
/// default, a null group to the default group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PartnerChange {
    /// `null` is refused: a partner always has a status.
    #[serde(default, deserialize_with = "present")]
    status: Option<Option<String>>,
    /// `null` returns the partner to the program's default rate.
    #[serde(default, deserialize_with = "present")]
    commission_rate: Option<Option<Number>>,
    /// `null` moves the partner to the default group (the program settings).
    #[serde(default, deserialize_with = "present")]
    group_id: Option<Option<String>>,
}

/// `PATCH …/affiliates/{affiliateId}`.
pub(crate) async fn patch(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    extract::Json(change): extract::Json<PartnerChange>,
) -> Result<Json<AffiliateView>, ApiError> {
    let id = AffiliateId::parse("affiliateId", &id)?;
    let status = match change.status.as_ref().map(Option::as_deref) {
        None => None,
        Some(Some("active")) => Some(AffiliateStatus::Active),
        Some(Some("suspended")) => Some(AffiliateStatus::Suspended),
        Some(_) => return Err(FieldError::new("status", "must be active or suspended").into()),
    };
    let rate = change
        .commission_rate
        .map(|rate| {
            rate.map(|n| RateBps::parse_percent("commissionRate", &n.to_string()))
                .transpose()
        })
        .transpose()?;
    let group = change
        .group_id
        .map(|group| {
            group
                .as_deref()
                .map(|g| GroupId::parse("groupId", g))
                .transpose()
        })
        .transpose()?;
    let edit = PartnerEdit {
        status,
        rate,
        group,
    };
    let changed = groups::change_partner(&state, &admin.app_id, &id, edit, &admin.actor())
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(changed.into()))
}
