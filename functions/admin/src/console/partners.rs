//! Partners: the list, search by email or code, and one partner with its
//! balances, recent commissions, payouts and deals; suspend or reactivate it and
//! set or clear its own commission rate.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use partner_domain::{CustomerId, Email, ReferralCode};
use partner_service::AppState;
use partner_service::commands::partner;
use partner_service::extract::{Json, PathParam, QueryParams};
use partner_service::html::{esc, money};
use serde::Deserialize;
use serde_json::{Number, Value, json};

use super::api::{Reply, call};
use super::layout::{self, Banner, Brand, at, next_page, problem_page, table, text, when};
use super::session::{Console, Form, csrf_field};
use super::{PARTNERS, path};
use crate::partners as api;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

/// `GET /admin/partners?q=&cursor=`: newest first; a search by email or code goes
/// straight to the partner.
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<ListQuery>,
) -> Response {
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(search) = search {
        return match find(&state, &console, search).await {
            Some(customer) => {
                Redirect::to(&path(super::PARTNER, &[customer.as_str()])).into_response()
            }
            None => {
                let brand = Brand::load(&state, &console).await;
                layout::render(
                    &console,
                    &brand,
                    PARTNERS,
                    "Partners",
                    &Banner::Problem(format!("No partner has the email or code {search}.")),
                    &search_form(search),
                )
            }
        };
    }
    let (brand, answer) = layout::with_brand(&state, &console, async {
        call(json!({"limit": "25", "cursor": query.cursor}), |paging| {
            api::list(
                State(state.clone()),
                console.admin.clone(),
                QueryParams(paging),
            )
        })
        .await
    })
    .await;
    let banner = Banner::None.unless_failed(&answer);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|p| {
            let rate = if p["commissionRate"].is_null() {
                "program default".to_owned()
            } else {
                format!("{}%", text(&p["commissionRate"]))
            };
            format!(
                r#"<tr><td><a href="{href}">{code}</a></td><td>{status}</td><td>{rate}</td><td>{since}</td></tr>"#,
                href = path(super::PARTNER, &[p["customerId"].as_str().unwrap_or_default()]),
                code = text(&p["code"]),
                status = text(&p["status"]),
                since = when(&p["createdAt"]),
            )
        })
        .collect();
    let content = format!(
        "{}<section>{}{}</section>",
        search_form(""),
        table(
            "partners",
            &["Code", "Status", "Commission rate", "Partner since"],
            &rows,
            "No partners yet."
        ),
        next_page(PARTNERS, &[], &answer.body["nextCursor"]),
    );
    layout::render(&console, &brand, PARTNERS, "Partners", &banner, &content)
}

fn search_form(value: &str) -> String {
    format!(
        r#"<form method="get" action="{PARTNERS}" class="row" role="search"><label>Email or referral code<input name="q" value="{}"></label><button type="submit" class="secondary">Find</button></form>"#,
        esc(value)
    )
}

/// The customer id of the partner with this email or code (one read).
async fn find(state: &AppState, console: &Console, search: &str) -> Option<CustomerId> {
    let app = &console.admin.app_id;
    let store = state.store();
    if search.contains('@') {
        let email = Email::parse("q", search).ok()?;
        let customer = store.customers().by_email(app, &email).await.ok()??;
        return Some(customer.id);
    }
    let code = ReferralCode::parse("q", search).ok()?;
    let target = store.clicks().code_target(app, &code).await.ok()??;
    Some(target.customer_id)
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    done: Option<String>,
}

/// `GET /admin/partners/{customerId}`: the partner as its dashboard shows it.
pub(crate) async fn detail(
    State(state): State<AppState>,
    console: Console,
    Path(customer): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    let app = &console.admin.app_id;
    let found = match CustomerId::parse("id", &customer) {
        Ok(customer) => partner::dashboard(&state, app, &customer).await,
        Err(_) => Ok(None),
    };
    let d = match found {
        Ok(Some(d)) => d,
        Ok(None) => {
            let brand = Brand::load(&state, &console).await;
            return layout::render_with_status(
                axum::http::StatusCode::NOT_FOUND,
                &console,
                &brand,
                PARTNERS,
                "Partner",
                &Banner::Problem("No partner with this id in this app.".into()),
                "",
                "",
            );
        }
        Err(err) => return layout::failed(&err),
    };
    // The dashboard read the settings already: the header needs no read of its own.
    let brand = Brand::of(&console, Some(&d.settings));
    let currency = &d.settings.currency;
    let affiliate = &d.affiliate;
    let rate = affiliate
        .commission_rate
        .map(|r| format!("{}%", r.to_percent_f64()))
        .unwrap_or_else(|| {
            format!(
                "{}% (program default)",
                d.settings.default_commission_rate.to_percent_f64()
            )
        });
    let figures = format!(
        r#"<dl class="figures"><div><dt>Total earned</dt><dd>{}</dd></div><div><dt>Pending</dt><dd>{}</dd></div><div><dt>Available</dt><dd>{}</dd></div><div><dt>Paid out</dt><dd>{}</dd></div><div><dt>Clicks</dt><dd>{}</dd></div><div><dt>Referrals</dt><dd>{}</dd></div><div><dt>Conversions</dt><dd>{}</dd></div></dl>"#,
        esc(&money(d.balances.total_earned, currency)),
        esc(&money(d.balances.pending, currency)),
        esc(&money(d.balances.available, currency)),
        esc(&money(d.balances.paid, currency)),
        d.stats.clicks,
        d.stats.referrals,
        d.stats.conversions,
    );
    let commissions: Vec<String> = d
        .recent_commissions
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                at(e.created_at),
                esc(&money(e.amount, &e.currency)),
                esc(e.kind.as_str()),
                esc(e.status.as_str())
            )
        })
        .collect();
    let payouts: Vec<String> = d
        .payouts
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                at(p.created_at),
                esc(&money(p.amount, &p.currency)),
                esc(p.status.as_str()),
                esc(p.reference.as_deref().unwrap_or_default())
            )
        })
        .collect();
    let deals: Vec<String> = d
        .deals
        .iter()
        .map(|deal| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&deal.lead_name),
                esc(deal.lead_email.as_str()),
                esc(deal.status.as_str())
            )
        })
        .collect();
    let action = path(super::PARTNER, &[&customer]);
    let csrf = csrf_field(&console);
    let (status_value, status_label, status_class) = if d.suspended() {
        ("active", "Reactivate", "")
    } else {
        ("suspended", "Suspend", r#" class="danger""#)
    };
    let content = format!(
        r#"<section><dl class="fields" id="partner"><dt>Code</dt><dd id="partner-code">{code}</dd><dt>Status</dt><dd>{status}</dd><dt>Commission rate</dt><dd>{rate}</dd><dt>Terms</dt><dd id="partner-terms">{terms}</dd><dt>Partner id</dt><dd>{id}</dd><dt>Customer id</dt><dd>{customer}</dd><dt>Partner since</dt><dd>{since}</dd></dl>
<div class="row"><form method="post" action="{action}">{csrf}<input type="hidden" name="affiliateId" value="{id}"><input type="hidden" name="status" value="{status_value}"><button type="submit"{status_class}>{status_label}</button></form></div>
<form method="post" action="{action}" class="row">{csrf}<input type="hidden" name="affiliateId" value="{id}"><label>Own commission rate, % (empty: the program's default)<input name="commissionRate" inputmode="decimal" value="{own_rate}"></label><button type="submit" class="secondary">Save rate</button></form>
<form method="post" action="{action}" class="row">{csrf}<input type="hidden" name="affiliateId" value="{id}"><label>Group<select name="groupId">{group_options}</select></label><button type="submit" class="secondary">Move</button></form></section>
<section><h3>Balances and activity</h3>{figures}</section>
<section><h3>Recent commissions</h3>{commissions}<p><a href="{commissions_page}?affiliateId={id}">All of this partner's commissions</a></p></section>
<section><h3>Payouts</h3>{payouts}</section>
<section><h3>Deals</h3>{deals}</section>"#,
        commissions_page = super::COMMISSIONS,
        terms = esc(&d.terms),
        group_options = group_options(affiliate.group_id.as_ref(), &d.groups.groups),
        code = esc(affiliate.code.as_str()),
        status = esc(affiliate.status.as_str()),
        id = esc(affiliate.id.as_str()),
        customer = esc(affiliate.customer_id.as_str()),
        since = at(affiliate.created_at),
        own_rate = affiliate
            .commission_rate
            .map(|r| r.to_percent_f64().to_string())
            .unwrap_or_default(),
        commissions = table(
            "partner-commissions",
            &["Date", "Amount", "Kind", "Status"],
            &commissions,
            "No commissions yet."
        ),
        payouts = table(
            "partner-payouts",
            &["Date", "Amount", "Status", "Reference"],
            &payouts,
            "No payouts yet."
        ),
        deals = table(
            "partner-deals",
            &["Lead", "Email", "Status"],
            &deals,
            "No deals yet."
        ),
    );
    layout::render(
        &console,
        &brand,
        PARTNERS,
        &format!("Partner {}", affiliate.code),
        &Banner::from_code(query.done.as_deref()),
        &content,
    )
}

/// The move form's value for the default group.
const DEFAULT_GROUP: &str = "default";

/// The groups to move a partner to, its own selected.
fn group_options(
    current: Option<&partner_domain::rewards::GroupId>,
    groups: &[partner_domain::rewards::Group],
) -> String {
    let option = |value: &str, label: &str, selected: bool| {
        format!(
            r#"<option value="{}"{}>{}</option>"#,
            esc(value),
            if selected { " selected" } else { "" },
            esc(label)
        )
    };
    let mut options = option(
        DEFAULT_GROUP,
        "Default group (the program settings)",
        current.is_none(),
    );
    for group in groups {
        options.push_str(&option(
            group.id.as_str(),
            &group.name,
            current == Some(&group.id),
        ));
    }
    options
}

/// `POST /admin/partners/{customerId}`: a status, a rate or a group, through the
/// partner API.
pub(crate) async fn change(
    State(state): State<AppState>,
    Path(customer): Path<String>,
    form: Form,
) -> Response {
    let affiliate = form.get("affiliateId").unwrap_or_default().to_owned();
    let mut body = serde_json::Map::new();
    if let Some(group) = form.get("groupId") {
        let group = if group == DEFAULT_GROUP {
            Value::Null
        } else {
            json!(group)
        };
        body.insert("groupId".into(), group);
    } else if let Some(status) = form.get("status") {
        body.insert("status".into(), json!(status));
    } else {
        let rate = match form.get("commissionRate") {
            None => Value::Null,
            Some(raw) => match raw.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => Value::Number(n),
                None => {
                    return problem_page(
                        &state,
                        &form.console,
                        &Reply::refused("commissionRate: must be a number from 0 to 100"),
                    )
                    .await;
                }
            },
        };
        body.insert("commissionRate".into(), rate);
    }
    let answer = call(Value::Object(body), |change| {
        api::patch(
            State(state.clone()),
            form.console.admin.clone(),
            PathParam((form.console.admin.app_id.to_string(), affiliate)),
            Json(change),
        )
    })
    .await;
    layout::after(
        &state,
        &form.console,
        answer,
        &path(super::PARTNER, &[&customer]),
        "saved",
    )
    .await
}
