//! The hosted partner portal: one self-contained HTML page (inline CSS and SVG, one
//! small inline script for the copy button, no external requests but the app's logo)
//! branded with the app's settings, for the holder of a portal link. Deals register
//! through a plain HTML form (post, then redirect back), so it works without script.

use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partner_domain::Money;
use partner_service::AppState;
use partner_service::commands::CommandError;
use partner_service::commands::partner::{self, Dashboard};
use partner_service::html::{
    self, DEFAULT_COLOUR, error_page, esc, money, nonce, text_on, urlencode,
};
use partner_service::http::RequestNotes;
use partner_service::session::{self, Subject};
use serde::Deserialize;

use crate::{DealBody, PORTAL};

#[derive(Debug, Deserialize)]
pub(crate) struct PortalQuery {
    token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

fn link_problem() -> Response {
    error_page(
        StatusCode::UNAUTHORIZED,
        "This portal link is not valid",
        "The link has expired or is not complete. Ask for a new portal link from your partner dashboard.",
    )
}

/// Verifies a portal token.
async fn holder(state: &AppState, notes: &RequestNotes, token: Option<&str>) -> Option<Subject> {
    let who = session::verify_portal_token(state, token?).await.ok()?;
    notes.app(who.app_id.as_str());
    Some(who)
}

/// Cumulative earnings over the recent commissions, as an inline SVG line.
fn chart(d: &Dashboard, colour: &str) -> String {
    let mut entries = d.recent_commissions.clone();
    entries.sort_by_key(|e| e.created_at);
    if entries.len() < 2 {
        return r#"<p class="muted">The chart appears once there are two or more commissions.</p>"#
            .to_owned();
    }
    let mut total = 0i64;
    let points: Vec<i64> = entries
        .iter()
        .map(|e| {
            total += e.amount.minor();
            total
        })
        .collect();
    let (min, max) = (
        points.iter().copied().min().unwrap_or(0).min(0),
        points.iter().copied().max().unwrap_or(1).max(1),
    );
    let span = (max - min).max(1) as f64;
    let step = 600.0 / (points.len() - 1) as f64;
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                150.0 - (v - min) as f64 / span * 140.0
            )
        })
        .collect();
    format!(
        r#"<svg viewBox="0 0 600 160" role="img" aria-label="Earnings over time, from {first} to {last}" preserveAspectRatio="none"><polyline fill="none" stroke="{colour}" stroke-width="3" points="{points}"/></svg>"#,
        first = esc(&money(Money(points[0]), &d.settings.currency)),
        last = esc(&money(Money(total), &d.settings.currency)),
        colour = esc(colour),
        points = coords.join(" "),
    )
}

fn render(d: &Dashboard, token: &str, notice: Option<&str>, error: Option<&str>) -> Response {
    let n = nonce();
    let currency = &d.settings.currency;
    let brand = d.program_name().to_owned();
    let colour = d
        .settings
        .branding
        .color
        .clone()
        .unwrap_or_else(|| DEFAULT_COLOUR.to_owned());
    let ink = text_on(&colour);
    let logo = d
        .settings
        .branding
        .logo_url
        .as_deref()
        .map(|url| format!(r#"<img src="{}" alt="" height="32">"#, esc(url)))
        .unwrap_or_default();
    let link = d.referral_link();
    let link_html = match &link {
        Some(url) => format!(
            r#"<div class="copy"><label for="link">Your referral link</label><input id="link" readonly value="{url}"><button type="button" id="copy">Copy link</button></div>"#,
            url = esc(url)
        ),
        None => r#"<p class="muted">Share your code: the app has not set a website for referral links yet.</p>"#.to_owned(),
    };
    let commissions: String = d
        .recent_commissions
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.created_at.date().to_string()),
                esc(&money(e.amount, currency)),
                esc(e.status.as_str())
            )
        })
        .collect();
    let payouts: String = d
        .payouts
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.created_at.date().to_string()),
                esc(&money(p.amount, currency)),
                esc(p.status.as_str())
            )
        })
        .collect();
    let deals: String = d
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
    let empty = |rows: &str, what: &str| {
        if rows.is_empty() {
            format!(r#"<tr><td colspan="3" class="muted">No {what} yet.</td></tr>"#)
        } else {
            rows.to_owned()
        }
    };
    let banner = match (notice, error) {
        _ if d.suspended() => r#"<p class="banner error" role="status" id="suspended">Your partner account is suspended: your figures are shown read-only, you earn no new commissions and cannot register deals. Contact the program if you think this is a mistake.</p>"#.to_owned(),
        (_, Some("deal_exists")) => r#"<p class="banner error" role="alert">That lead cannot be registered.</p>"#.to_owned(),
        (_, Some("too_many_open")) => format!(r#"<p class="banner error" role="alert">You have {} open deals, the most the program allows: more can be registered once some are decided.</p>"#, d.settings.max_open_deals),
        (_, Some(_)) => r#"<p class="banner error" role="alert">The deal could not be registered: check the lead's email and name.</p>"#.to_owned(),
        (Some("registered"), None) => r#"<p class="banner ok" role="status">Deal registered.</p>"#.to_owned(),
        _ => String::new(),
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{brand} — partner portal</title>
<style nonce="{n}">
:root{{--brand:{colour};--ink:{ink}}}
*{{box-sizing:border-box}}body{{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f7f9;color:#1f2933}}
header{{background:var(--brand);color:var(--ink);padding:1rem 1.25rem;display:flex;gap:.75rem;align-items:center}}
header h1{{font-size:1.25rem;margin:0}}main{{max-width:60rem;margin:0 auto;padding:1rem}}
section{{background:#fff;border-radius:12px;padding:1rem 1.25rem;margin:1rem 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}}
h2{{font-size:1.1rem;margin:.25rem 0 .75rem}}.grid{{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem}}
.figure{{border:1px solid #e4e7eb;border-radius:10px;padding:.75rem}}.figure dt{{font-size:.85rem;color:#52606d}}.figure dd{{margin:0;font-size:1.35rem;font-weight:600}}
.code{{font-size:1.5rem;font-weight:700;letter-spacing:.05em}}.copy{{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}}
.copy label{{width:100%;font-weight:600}}input,textarea{{font:inherit;padding:.5rem;border:1px solid #9aa5b1;border-radius:8px;width:100%}}
.copy input{{flex:1;min-width:12rem;width:auto}}button{{font:inherit;font-weight:600;background:var(--brand);color:var(--ink);border:0;border-radius:8px;padding:.55rem 1rem;cursor:pointer}}
button:focus-visible,input:focus-visible,textarea:focus-visible{{outline:3px solid #1f2933;outline-offset:2px}}
table{{width:100%;border-collapse:collapse}}th,td{{text-align:left;padding:.4rem;border-bottom:1px solid #e4e7eb}}.muted{{color:#52606d}}
form label{{display:block;font-weight:600;margin:.5rem 0 .25rem}}form button{{margin-top:.75rem}}
.banner{{padding:.75rem 1rem;border-radius:8px}}.ok{{background:#e3f9e5;color:#05400a}}.error{{background:#ffe3e3;color:#610316}}
svg{{width:100%;height:160px}}
</style></head>
<body><header>{logo}<h1>{brand}</h1></header><main>
{banner}
<section aria-labelledby="code-h"><h2 id="code-h">Your referral code</h2><p class="code" id="code">{code}</p>{link_html}<p id="terms">You earn {terms}.</p></section>
<section aria-labelledby="bal-h"><h2 id="bal-h">Balances</h2><dl class="grid">
<div class="figure"><dt>Total earned</dt><dd id="total-earned">{total}</dd></div>
<div class="figure"><dt>Pending</dt><dd>{pending}</dd></div>
<div class="figure"><dt>Available</dt><dd>{available}</dd></div>
<div class="figure"><dt>Paid out</dt><dd>{paid}</dd></div></dl></section>
<section aria-labelledby="stats-h"><h2 id="stats-h">Activity</h2><dl class="grid">
<div class="figure"><dt>Clicks</dt><dd>{clicks}</dd></div><div class="figure"><dt>Referrals</dt><dd>{referrals}</dd></div>
<div class="figure"><dt>Conversions</dt><dd>{conversions}</dd></div></dl></section>
<section aria-labelledby="chart-h"><h2 id="chart-h">Earnings over time</h2>{chart}</section>
<section aria-labelledby="com-h"><h2 id="com-h">Recent commissions</h2><table><thead><tr><th scope="col">Date</th><th scope="col">Amount</th><th scope="col">Status</th></tr></thead><tbody>{commissions}</tbody></table></section>
<section aria-labelledby="pay-h"><h2 id="pay-h">Payouts</h2><table><thead><tr><th scope="col">Date</th><th scope="col">Amount</th><th scope="col">Status</th></tr></thead><tbody>{payouts}</tbody></table></section>
<section aria-labelledby="deal-h"><h2 id="deal-h">Your deals</h2><table id="deals"><thead><tr><th scope="col">Lead</th><th scope="col">Email</th><th scope="col">Status</th></tr></thead><tbody>{deals}</tbody></table>
{deal_form}</section>
</main>
<script nonce="{n}">
var b=document.getElementById('copy');if(b){{b.addEventListener('click',function(){{var i=document.getElementById('link');i.select();(navigator.clipboard?navigator.clipboard.writeText(i.value):Promise.reject()).then(function(){{b.textContent='Copied'}},function(){{document.execCommand('copy');b.textContent='Copied'}});}});}}
</script></body></html>"#,
        brand = esc(&brand),
        colour = esc(&colour),
        code = esc(d.affiliate.code.as_str()),
        terms = esc(&d.terms),
        total = esc(&money(d.balances.total_earned, currency)),
        pending = esc(&money(d.balances.pending, currency)),
        available = esc(&money(d.balances.available, currency)),
        paid = esc(&money(d.balances.paid, currency)),
        clicks = d.stats.clicks,
        referrals = d.stats.referrals,
        conversions = d.stats.conversions,
        chart = chart(d, &colour),
        commissions = empty(&commissions, "commissions"),
        payouts = empty(&payouts, "payouts"),
        deals = empty(&deals, "deals"),
        deal_form = deal_form(d, token),
    );
    html::page(StatusCode::OK, &n, body)
}

/// The deal registration form; none for a suspended partner.
fn deal_form(d: &Dashboard, token: &str) -> String {
    if d.suspended() {
        return String::new();
    }
    format!(
        r#"<form method="post" action="{portal_deals}?token={token}"><h3>Register a deal</h3>
<label for="leadName">Lead's name</label><input id="leadName" name="leadName" required maxlength="200" autocomplete="off">
<label for="leadEmail">Lead's email</label><input id="leadEmail" name="leadEmail" type="email" required maxlength="254" autocomplete="off">
<label for="notes">Notes (optional)</label><textarea id="notes" name="notes" rows="3" maxlength="2000"></textarea>
<button type="submit">Register deal</button></form>"#,
        portal_deals = crate::PORTAL_DEALS,
        token = esc(token),
    )
}

/// `GET /portal?token=…`: the portal, or an error page (and no data) for a link that
/// is expired, altered or not a partner's.
pub(crate) async fn page(
    State(state): State<AppState>,
    notes: RequestNotes,
    Query(query): Query<PortalQuery>,
) -> Response {
    let Some(who) = holder(&state, &notes, query.token.as_deref()).await else {
        return link_problem();
    };
    match partner::dashboard(&state, &who.app_id, &who.customer_id).await {
        Ok(Some(d)) => render(
            &d,
            query.token.as_deref().unwrap_or_default(),
            query.notice.as_deref(),
            query.error.as_deref(),
        ),
        Ok(None) => link_problem(),
        Err(err) => {
            tracing::error!(error = %err, "portal page failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Try again in a moment.",
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DealForm {
    #[serde(rename = "leadEmail")]
    lead_email: String,
    #[serde(rename = "leadName")]
    lead_name: String,
    notes: Option<String>,
}

fn back_to_portal(token: &str, outcome: &str) -> Response {
    let location = format!("{PORTAL}?token={}&{outcome}", urlencode(token));
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `POST /portal/deals?token=…` (the portal's form): registers, then back to the
/// portal. The form is parsed here rather than by an extractor, so whatever arrives
/// the answer is the redirect (or the error page for a bad link), never a bare 4xx.
pub(crate) async fn register_deal(
    State(state): State<AppState>,
    notes: RequestNotes,
    Query(query): Query<TokenQuery>,
    body: axum::body::Bytes,
) -> Response {
    let token = query.token.unwrap_or_default();
    let Some(who) = holder(&state, &notes, Some(&token)).await else {
        return link_problem();
    };
    let Ok(form) = serde_urlencoded::from_bytes::<DealForm>(&body) else {
        return back_to_portal(&token, "error=invalid");
    };
    let body = DealBody {
        lead_email: form.lead_email,
        lead_name: form.lead_name,
        notes: form.notes,
    };
    let Ok((email, name, notes)) = body.parse() else {
        return back_to_portal(&token, "error=invalid");
    };
    let (affiliate, settings) = match state
        .store()
        .affiliates()
        .by_customer(&who.app_id, &who.customer_id)
        .await
    {
        Ok(Some((affiliate, settings, _))) => (affiliate, settings),
        _ => return link_problem(),
    };
    match partner::register_deal(&state, &affiliate, &settings, email, name, notes).await {
        Ok(_) => back_to_portal(&token, "notice=registered"),
        Err(CommandError::LeadTaken) => back_to_portal(&token, "error=deal_exists"),
        Err(CommandError::PartnerSuspended) => back_to_portal(&token, "error=suspended"),
        Err(CommandError::TooManyOpenDeals(_)) => back_to_portal(&token, "error=too_many_open"),
        Err(err) => {
            tracing::warn!(error = %err, "portal deal registration failed");
            back_to_portal(&token, "error=failed")
        }
    }
}
