//! Commissions (filtered by status and partner) and payouts: the list, a CSV
//! download, starting a payout run and marking a payout paid with a reference.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use partner_service::AppState;
use partner_service::extract::{PathParam, QueryParams};
use partner_service::html::esc;
use serde::Deserialize;
use serde_json::json;

use super::api::{call, input, reply, strip_nulls};
use super::layout::{self, Banner, amount, next_page, problem_page, table, text, when};
use super::session::{Console, Form, csrf_field};
use super::{COMMISSIONS, PAYOUTS, path};
use crate::earnings as api;

#[derive(Debug, Deserialize)]
pub(crate) struct CommissionsQuery {
    status: Option<String>,
    #[serde(rename = "affiliateId")]
    affiliate_id: Option<String>,
    cursor: Option<String>,
}

fn blank_to_none(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /admin/commissions?status=&affiliateId=&cursor=`: newest first.
pub(crate) async fn commissions(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<CommissionsQuery>,
) -> Response {
    let status = blank_to_none(query.status.as_deref());
    let affiliate = blank_to_none(query.affiliate_id.as_deref());
    let (brand, answer) = layout::with_brand(&state, &console, async {
        let filters = strip_nulls(json!({
            "status": status, "affiliateId": affiliate, "limit": "50", "cursor": query.cursor,
        }));
        call(filters, |filters| {
            api::commissions(
                State(state.clone()),
                console.admin.clone(),
                HeaderMap::new(),
                QueryParams(filters),
            )
        })
        .await
    })
    .await;
    let banner = Banner::None.unless_failed(&answer);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(&e["createdAt"]),
                amount(&e["amount"], &e["currency"]),
                text(&e["rate"]),
                amount(&e["revenueAmount"], &e["currency"]),
                text(&e["kind"]),
                text(&e["status"]),
                rule(e),
                text(&e["affiliateId"]),
            )
        })
        .collect();
    let option = |value: &str, label: &str| {
        let selected = if status == Some(value) {
            " selected"
        } else {
            ""
        };
        format!(r#"<option value="{value}"{selected}>{label}</option>"#)
    };
    let content = format!(
        r#"<form method="get" action="{COMMISSIONS}" class="row"><label>Status<select name="status"><option value="">Any</option>{}{}{}</select></label>
<label>Partner id<input name="affiliateId" value="{}" placeholder="aff_…"></label><button type="submit" class="secondary">Filter</button></form>
<p class="muted">Filters apply within each page of 50, so a filtered page may be short: follow “Next page”.</p>
<section>{}{}</section>"#,
        option("pending", "Pending"),
        option("approved", "Approved"),
        option("paid", "Paid"),
        esc(affiliate.unwrap_or_default()),
        table(
            "commissions",
            &[
                "Date",
                "Amount",
                "Rate",
                "On revenue",
                "Kind",
                "Status",
                "Partner"
            ],
            &rows,
            "No commissions here."
        ),
        next_page(
            COMMISSIONS,
            &[("status", status), ("affiliateId", affiliate)],
            &answer.body["nextCursor"]
        ),
    );
    layout::render(
        &console,
        &brand,
        COMMISSIONS,
        "Commissions",
        &banner,
        &content,
    )
}

/// The rule that produced a commission, and the tier that raised it.
fn rule(e: &serde_json::Value) -> String {
    match e["tier"].as_u64() {
        Some(tier) => format!("{} (tier {tier})", text(&e["ruleId"])),
        None => text(&e["ruleId"]),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PayoutsQuery {
    cursor: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

/// `GET /admin/payouts?cursor=&format=csv`: newest first, or the page as CSV.
pub(crate) async fn payouts(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<PayoutsQuery>,
) -> Response {
    let csv = query.format.as_deref() == Some("csv");
    let listing = |format: &'static str| {
        input(strip_nulls(
            json!({"limit": "100", "cursor": query.cursor.clone(), "format": format}),
        ))
    };
    if csv {
        // The API's own CSV, as a download.
        return match listing("csv") {
            Ok(paging) => axum::response::IntoResponse::into_response(
                api::payouts(
                    State(state.clone()),
                    console.admin.clone(),
                    HeaderMap::new(),
                    QueryParams(paging),
                )
                .await,
            ),
            Err(refused) => problem_page(&state, &console, &refused).await,
        };
    }
    let (brand, answer) = layout::with_brand(&state, &console, async {
        match listing("json") {
            Ok(paging) => {
                reply(
                    api::payouts(
                        State(state.clone()),
                        console.admin.clone(),
                        HeaderMap::new(),
                        QueryParams(paging),
                    )
                    .await,
                )
                .await
            }
            Err(refused) => refused,
        }
    })
    .await;
    let banner = Banner::from_code(query.done.as_deref()).unless_failed(&answer);
    let csrf = csrf_field(&console);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|p| {
            let id = p["id"].as_str().unwrap_or_default();
            let action = if p["status"] == "paid" {
                text(&p["reference"])
            } else {
                format!(
                    r#"<form method="post" action="{}" class="row">{csrf}<label>Reference<input name="reference" maxlength="200" placeholder="bank or PayPal id"></label><button type="submit" class="secondary">Mark paid</button></form>"#,
                    path(super::MARK_PAID, &[id])
                )
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                when(&p["createdAt"]),
                amount(&p["amount"], &p["currency"]),
                text(&p["commissionCount"]),
                text(&p["affiliateId"]),
                text(&p["status"]),
            )
        })
        .collect();
    let content = format!(
        r#"<section><h3>Pay partners</h3><p>A run pays every partner whose available balance reaches the program's minimum payout: each gets one payout of its approved commissions, to be paid by you and then marked paid here.</p>
<form method="post" action="{run}">{csrf}<button type="submit">Run payouts now</button></form></section>
<section><p><a href="{PAYOUTS}?format=csv" download>Download this list as CSV</a></p>{table}{next}</section>"#,
        run = super::PAYOUT_RUN,
        table = table(
            "payouts",
            &[
                "Created",
                "Amount",
                "Commissions",
                "Partner",
                "Status",
                "Paid / reference"
            ],
            &rows,
            "No payouts yet."
        ),
        next = next_page(PAYOUTS, &[], &answer.body["nextCursor"]),
    );
    layout::render(&console, &brand, PAYOUTS, "Payouts", &banner, &content)
}

/// `POST /admin/payouts/run`: starts a payout run, as the API does.
pub(crate) async fn run(State(state): State<AppState>, form: Form) -> Response {
    let answer =
        reply(api::start_run(State(state.clone()), form.console.admin.clone()).await).await;
    layout::after(&state, &form.console, answer, PAYOUTS, "run").await
}

/// `POST /admin/payouts/{id}/mark-paid`.
pub(crate) async fn mark_paid(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let body = strip_nulls(json!({"reference": form.get("reference")}));
    let answer = reply(
        api::mark_paid(
            State(state.clone()),
            form.console.admin.clone(),
            PathParam((form.console.admin.app_id.to_string(), id)),
            axum::body::Bytes::from(body.to_string()),
        )
        .await,
    )
    .await;
    layout::after(&state, &form.console, answer, PAYOUTS, "paid").await
}
