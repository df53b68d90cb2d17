//! Listing partners, suspending and reactivating them, and their own commission rate.

use axum::Json;
use axum::extract::State;
use partner_domain::audit::{AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::records::{Affiliate, AffiliateStatus};
use partner_domain::rewards::GroupId;
use partner_domain::{AffiliateId, FieldError, RateBps};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::groups;
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
    if let Some(group) = change.group_id {
        let group = group
            .as_deref()
            .map(|g| GroupId::parse("groupId", g))
            .transpose()?;
        let moved = groups::move_partner(&state, &admin.app_id, &id, group, &admin.actor())
            .await?
            .ok_or_else(not_found)?;
        if status.is_none() && rate.is_none() {
            return Ok(Json(moved.into()));
        }
    }
    let store = state.store();
    let before = store
        .affiliates()
        .get(&admin.app_id, &id)
        .await?
        .ok_or_else(not_found)?;
    let mut affiliate = before.clone();
    if let Some(status) = status {
        affiliate.status = status;
    }
    if let Some(rate) = rate {
        affiliate.commission_rate = rate;
    }
    let audit = change_audit(&admin, &before, &affiliate);
    if !store.affiliates().update(&affiliate, &audit).await? {
        return Err(not_found());
    }
    Ok(Json(affiliate.into()))
}

/// The audit entry of a partner change: named after a suspension or reactivation
/// first, else a new rate; the summary gives the partner's status and rate after.
fn change_audit(admin: &AdminApp, before: &Affiliate, after: &Affiliate) -> AuditEntry {
    let action = match (before.status, after.status) {
        (AffiliateStatus::Active, AffiliateStatus::Suspended) => AuditAction::AffiliateSuspended,
        (AffiliateStatus::Suspended, AffiliateStatus::Active) => AuditAction::AffiliateReactivated,
        _ if before.commission_rate != after.commission_rate => AuditAction::AffiliateRateChanged,
        _ => AuditAction::AffiliateUpdated,
    };
    let rate = match after.commission_rate {
        Some(rate) => format!("{}%", rate.to_percent_f64()),
        None => "the program's default".to_owned(),
    };
    AuditEntry::new(
        admin.app_id.clone(),
        admin.actor(),
        action,
        AuditSubject::new(SubjectKind::Affiliate, &after.id),
    )
    .with_summary(format!(
        "status {}, commission rate {rate}",
        after.status.as_str()
    ))
}
