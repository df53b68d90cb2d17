//! Commissions and payouts: listings (JSON or CSV), the payout run, marking paid.

use axum::Json;
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partner_domain::ledger::{Entry, Payout, PayoutId, PayoutRunId};
use partner_domain::text::optional_text;
use partner_domain::{AffiliateId, Amount, Currency, FieldError};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::{payout_runs, payouts};
use partner_service::csv::{Cell, document};
use partner_service::extract::{self, PathParam, QueryParams};
use partner_service::views::ListPage;
use partner_service::views::ledger::{EntryView, PayoutRunView, PayoutView, all};
use partner_service::{ApiError, AppState};
use serde::Deserialize;

use crate::Paging;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    #[serde(rename = "affiliateId")]
    affiliate_id: Option<String>,
    format: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

/// CSV when asked for with `?format=csv` or `Accept: text/csv`.
fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, FieldError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(FieldError::new("format", "must be json or csv")),
        None => Ok(headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}

fn csv_response(name: &str, body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// An amount in major units of its currency, shortest form (`19.8`, `1000`, `1.234`).
fn money(amount: partner_domain::Money, currency: &Currency) -> Cell {
    Cell::Number(Amount::new(amount, currency).to_string())
}

fn time_cell(at: partner_domain::Timestamp) -> Cell {
    Cell::Text(
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
}

/// `GET /v1/apps/{appId}/affiliates/commissions?status=&affiliateId=&limit=&cursor=&format=`:
/// newest first. Filters apply within each page, so a filtered page may be short;
/// follow `nextCursor` to the end.
pub(crate) async fn commissions(
    State(state): State<AppState>,
    admin: AdminApp,
    headers: HeaderMap,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(query.format.as_deref(), &headers)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s @ ("pending" | "approved" | "paid")) => Some(s.to_owned()),
        Some(_) => {
            return Err(FieldError::new("status", "must be pending, approved or paid").into());
        }
    };
    let affiliate = query
        .affiliate_id
        .as_deref()
        .map(|a| AffiliateId::parse("affiliateId", a))
        .transpose()?;
    let limit = query.paging.limit()?;
    let (entries, next_cursor) = state
        .store()
        .ledger()
        .entries_of_app(&admin.app_id, limit, query.paging.cursor)
        .await?;
    let entries: Vec<Entry> = entries
        .into_iter()
        .filter(|e| status.as_deref().is_none_or(|s| e.status.as_str() == s))
        .filter(|e| affiliate.as_ref().is_none_or(|a| &e.affiliate_id == a))
        .collect();
    if csv {
        let rows = entries.iter().map(|e| {
            vec![
                Cell::Text(e.id.to_string()),
                Cell::Text(e.affiliate_id.to_string()),
                Cell::Text(e.customer_id.to_string()),
                Cell::Text(e.kind.as_str().to_owned()),
                money(e.amount, &e.currency),
                Cell::Text(e.currency.as_str().to_owned()),
                money(e.revenue_amount, &e.currency),
                Cell::Number(e.rate.to_percent_f64().to_string()),
                Cell::Text(e.revenue_event_id.clone()),
                Cell::Text(e.status.as_str().to_owned()),
                time_cell(e.created_at),
                time_cell(e.approves_at),
                Cell::Text(
                    e.payout_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
            ]
        });
        let header = [
            "id",
            "affiliateId",
            "customerId",
            "kind",
            "amount",
            "currency",
            "revenueAmount",
            "rate",
            "revenueEventId",
            "status",
            "createdAt",
            "approvesAt",
            "payoutId",
        ];
        return Ok(csv_response("commissions", document(&header, rows)));
    }
    let page: ListPage<EntryView> = ListPage {
        data: all(&entries),
        next_cursor,
    };
    Ok(Json(page).into_response())
}

/// `POST /v1/apps/{appId}/affiliates/payouts`: starts a payout run and answers
/// 202 at once; the payout runner pays every partner whose available balance
/// reaches `minPayoutAmount`. `GET …/payouts/runs/{runId}` shows how far it got.
pub(crate) async fn start_run(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<(StatusCode, Json<PayoutRunView>), ApiError> {
    let run = payout_runs::start_run(&state, &admin.app_id, admin.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(PayoutRunView::from(&run))))
}

/// `GET /v1/apps/{appId}/affiliates/payouts/runs/{runId}`.
pub(crate) async fn run(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<PayoutRunView>, ApiError> {
    let id = PayoutRunId::parse("runId", &id)?;
    let run = payout_runs::get_run(&state, &admin.app_id, &id).await?;
    Ok(Json(PayoutRunView::from(&run)))
}

/// `GET /v1/apps/{appId}/affiliates/payouts?limit=&cursor=&format=`: newest first.
pub(crate) async fn payouts(
    State(state): State<AppState>,
    admin: AdminApp,
    headers: HeaderMap,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let csv = wants_csv(query.format.as_deref(), &headers)?;
    let limit = query.paging.limit()?;
    let (payouts, next_cursor) = state
        .store()
        .payouts()
        .payouts_of_app(&admin.app_id, limit, query.paging.cursor)
        .await?;
    if csv {
        let rows = payouts.iter().map(|p: &Payout| {
            vec![
                Cell::Text(p.id.to_string()),
                Cell::Text(p.affiliate_id.to_string()),
                money(p.amount, &p.currency),
                Cell::Text(p.currency.as_str().to_owned()),
                Cell::Text(p.status.as_str().to_owned()),
                Cell::Text(p.reference.clone().unwrap_or_default()),
                time_cell(p.created_at),
                Cell::Text(
                    p.paid_at
                        .map(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .unwrap_or_default()
                        })
                        .unwrap_or_default(),
                ),
            ]
        });
        let header = [
            "id",
            "affiliateId",
            "amount",
            "currency",
            "status",
            "reference",
            "createdAt",
            "paidAt",
        ];
        return Ok(csv_response("payouts", document(&header, rows)));
    }
    let page: ListPage<PayoutView> = ListPage {
        data: all(&payouts),
        next_cursor,
    };
    Ok(Json(page).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarkPaidBody {
    reference: Option<String>,
}

/// `POST /v1/apps/{appId}/affiliates/payouts/{id}/mark-paid {reference?}`.
pub(crate) async fn mark_paid(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<PayoutView>, ApiError> {
    // The body is optional: an empty one means no reference.
    let body: MarkPaidBody = if body.is_empty() {
        MarkPaidBody::default()
    } else {
        extract::parse_json(&body)?
    };
    let id = PayoutId::parse("id", &id)?;
    let reference = optional_text("reference", body.reference.as_deref(), 200)?;
    let payout = payouts::mark_paid(&state, &admin.app_id, &id, reference, admin.actor()).await?;
    Ok(Json(PayoutView::from(&payout)))
}
