//! The console's page frame (the app's branding in the header, the navigation,
//! sign-out, the banner of what just happened) and the small HTML pieces every
//! page uses. Everything shown is escaped here or by the page that builds it.

use std::fmt::Display;

use axum::http::StatusCode;
use axum::response::Response;
use partner_domain::Timestamp;
use partner_domain::records::ProgramSettings;
use partner_service::AppState;
use partner_service::html::{DEFAULT_COLOUR, error_page, esc, nonce, page, text_on, urlencode};
use serde_json::Value;

use super::api::Reply;
use super::session::{Console, csrf_field};

/// The navigation's entries: (path, label).
const NAV: &[(&str, &str)] = &[
    (super::APPLICATIONS, "Applications"),
    (super::PARTNERS, "Partners"),
    (super::COMMISSIONS, "Commissions"),
    (super::PAYOUTS, "Payouts"),
    (super::DEALS, "Deals"),
    (super::WEBHOOKS, "Webhooks"),
    (super::SETTINGS, "Settings"),
    (super::API_KEYS, "API keys"),
];

/// What the page says happened, above its content.
#[derive(Debug, Default)]
pub(super) enum Banner {
    #[default]
    None,
    Done(String),
    Problem(String),
}

impl Banner {
    /// This banner, or the API's problem when `answer` failed.
    pub fn unless_failed(self, answer: &Reply) -> Self {
        if answer.ok() {
            self
        } else {
            Self::Problem(answer.message())
        }
    }

    /// The banner a redirect after a change asks for (`?done=…`): only these
    /// fixed messages, so a crafted link cannot make the console say anything else.
    pub fn from_code(code: Option<&str>) -> Self {
        let text = match code {
            Some("approved") => "Application approved.",
            Some("rejected") => "Application rejected.",
            Some("saved") => "Saved.",
            Some("run") => {
                "Payout run started: partners whose available balance reaches the minimum are being paid."
            }
            Some("paid") => "Payout marked as paid.",
            Some("moved") => "Deal updated.",
            Some("replayed") => "Delivery queued again.",
            Some("revoked") => "API key revoked.",
            _ => return Self::None,
        };
        Self::Done(text.to_owned())
    }

    fn html(&self) -> String {
        match self {
            Self::None => String::new(),
            Self::Done(text) => format!(r#"<p class="banner ok" role="status">{}</p>"#, esc(text)),
            Self::Problem(text) => {
                format!(r#"<p class="banner error" role="alert">{}</p>"#, esc(text))
            }
        }
    }
}

/// The app's look: branding name (else the app's name), colour and logo.
#[derive(Debug)]
pub(super) struct Brand {
    name: String,
    colour: String,
    logo: Option<String>,
}

impl Brand {
    pub fn of(console: &Console, settings: Option<&ProgramSettings>) -> Self {
        let branding = settings.map(|s| &s.branding);
        Self {
            name: branding
                .and_then(|b| b.name.clone())
                .unwrap_or_else(|| console.app_name.clone()),
            colour: branding
                .and_then(|b| b.color.clone())
                .unwrap_or_else(|| DEFAULT_COLOUR.to_owned()),
            logo: branding.and_then(|b| b.logo_url.clone()),
        }
    }

    /// From the settings API's view of the branding.
    pub fn of_view(console: &Console, branding: &Value) -> Self {
        let get = |name: &str| {
            branding[name]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Self {
            name: get("name").unwrap_or_else(|| console.app_name.clone()),
            colour: get("color").unwrap_or_else(|| DEFAULT_COLOUR.to_owned()),
            logo: get("logoUrl"),
        }
    }

    /// The app's branding, from the per-instance settings cache (no read while it
    /// is warm).
    pub async fn load(state: &AppState, console: &Console) -> Self {
        let settings = state
            .settings()
            .get(state.store(), &console.admin.app_id)
            .await
            .ok()
            .flatten();
        Self::of(console, settings.as_deref())
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f7f9;color:#1f2933}
header{background:var(--brand);color:var(--ink);padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.75rem;align-items:center}
header h1{font-size:1.15rem;margin:0;flex:1;min-width:8rem;overflow-wrap:anywhere}header form{margin:0}
header button{background:transparent;color:var(--ink);border:1px solid currentColor}
body>nav{background:#fff;border-bottom:1px solid #e4e7eb;padding:.25rem .5rem;display:flex;flex-wrap:wrap;gap:.25rem}
body>nav a{padding:.4rem .6rem;border-radius:6px;color:#1f2933;text-decoration:none}body>nav a[aria-current]{background:#e4e7eb;font-weight:600}
main{max-width:72rem;margin:0 auto;padding:1rem}h2{font-size:1.25rem;margin:.5rem 0 1rem}h3{font-size:1.05rem}
section{background:#fff;border-radius:10px;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:0}
.scroll{overflow-x:auto;max-width:100%}table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.45rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
td{overflow-wrap:anywhere}a{color:#1d4ed8}.muted{color:#52606d}
input,select,textarea{font:inherit;padding:.45rem;border:1px solid #9aa5b1;border-radius:6px;max-width:100%}
button{font:inherit;font-weight:600;background:var(--brand);color:var(--ink);border:0;border-radius:6px;padding:.45rem .9rem;cursor:pointer}
button.secondary{background:#e4e7eb;color:#1f2933}button.danger{background:#b91c1c;color:#fff}
:focus-visible{outline:3px solid #1f2933;outline-offset:2px}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin:.5rem 0}.row label{display:flex;flex-direction:column;font-weight:600;gap:.2rem}
.tabs{display:flex;flex-wrap:wrap;gap:.25rem;margin-bottom:.75rem}.tabs a{padding:.35rem .7rem;border-radius:999px;background:#e4e7eb;color:#1f2933;text-decoration:none}.tabs a[aria-current]{background:var(--brand);color:var(--ink)}
dl.fields{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem}dl.fields dt{font-weight:600}dl.fields dd{margin:0;overflow-wrap:anywhere}
.banner{padding:.7rem 1rem;border-radius:8px}.ok{background:#e3f9e5;color:#05400a}.error{background:#ffe3e3;color:#610316}
.secret{font-family:ui-monospace,monospace;background:#fff8c5;padding:.5rem;border-radius:6px;overflow-wrap:anywhere}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem}.figures div{border:1px solid #e4e7eb;border-radius:8px;padding:.5rem}
.figures dt{font-size:.85rem;color:#52606d}.figures dd{margin:0;font-size:1.2rem;font-weight:600}
"#;

/// A console page: the branded header, the navigation (with `active` marked),
/// the banner, then `content` under the heading `title`.
pub(super) fn render(
    console: &Console,
    brand: &Brand,
    active: &str,
    title: &str,
    banner: &Banner,
    content: &str,
) -> Response {
    render_with_status(
        StatusCode::OK,
        console,
        brand,
        active,
        title,
        banner,
        content,
        "",
    )
}

/// [`render`] with a status and a script (its text; it runs under the page's nonce).
#[allow(clippy::too_many_arguments)]
pub(super) fn render_with_status(
    status: StatusCode,
    console: &Console,
    brand: &Brand,
    active: &str,
    title: &str,
    banner: &Banner,
    content: &str,
    script: &str,
) -> Response {
    let n = nonce();
    let nav: String = NAV
        .iter()
        .map(|(href, label)| {
            let current = if *href == active {
                r#" aria-current="page""#
            } else {
                ""
            };
            format!(r#"<a href="{href}"{current}>{label}</a>"#)
        })
        .collect();
    let logo = brand
        .logo
        .as_deref()
        .map(|url| format!(r#"<img src="{}" alt="" height="28">"#, esc(url)))
        .unwrap_or_default();
    let script = if script.is_empty() {
        String::new()
    } else {
        format!(r#"<script nonce="{n}">{script}</script>"#)
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {brand} console</title>
<style nonce="{n}">:root{{--brand:{colour};--ink:{ink}}}{STYLE}</style></head>
<body><header id="brand-header">{logo}<h1 id="brand-name">{brand}</h1><span class="muted-ink">{who}</span>
<form method="post" action="{logout}">{csrf}<button type="submit">Sign out</button></form></header>
<nav aria-label="Console">{nav}</nav>
<main><h2>{title}</h2>{banner}{content}</main>{script}</body></html>"#,
        title = esc(title),
        brand = esc(&brand.name),
        colour = esc(&brand.colour),
        ink = text_on(&brand.colour),
        who = esc(&console.admin.subject),
        logout = super::LOGOUT,
        csrf = csrf_field(console),
        banner = banner.html(),
    );
    console_page(status, &n, body)
}

/// A console page: the shared headers, but a referrer policy of `same-origin`.
/// Browsers send `Origin: null` with the forms of a `no-referrer` page, and the
/// console's forms are checked by their origin; no console URL carries a token,
/// and other sites still get no referrer.
fn console_page(status: StatusCode, nonce: &str, body: String) -> Response {
    let mut response = page(status, nonce, body);
    response.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("same-origin"),
    );
    response
}

/// The sign-in page: paste an admin token (or open a login link).
pub(super) fn sign_in(signed_out: bool) -> Response {
    let n = nonce();
    let note = if signed_out {
        r#"<p class="banner ok" role="status">You are signed out.</p>"#
    } else {
        ""
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — partner program console</title>
<style nonce="{n}">:root{{--brand:{DEFAULT_COLOUR};--ink:#ffffff}}{STYLE} main{{max-width:32rem}}textarea{{width:100%}}</style></head>
<body><main><h2>Sign in to the partner program console</h2>{note}
<section><p>Open the login link <code>partnerctl console --app APP_ID</code> prints, or paste an admin token from your identity provider.</p>
<form method="post" action="{login}"><div class="row"><label for="token">Admin token</label></div>
<textarea id="token" name="token" rows="5" required autocomplete="off" spellcheck="false"></textarea>
<div class="row"><label>App id (when the token grants several)<input name="app" autocomplete="off"></label></div>
<button type="submit">Sign in</button></form></section></main></body></html>"#,
        login = super::LOGIN,
    );
    console_page(StatusCode::OK, &n, body)
}

/// A login link's page: continue to the console with a form posting its token.
pub(super) fn continue_sign_in(token: &str, app: Option<&str>) -> Response {
    let n = nonce();
    let app_field = app
        .map(|app| format!(r#"<input type="hidden" name="app" value="{}">"#, esc(app)))
        .unwrap_or_default();
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — partner program console</title>
<style nonce="{n}">:root{{--brand:{DEFAULT_COLOUR};--ink:#ffffff}}{STYLE} main{{max-width:32rem}}</style></head>
<body><main><h2>Sign in to the partner program console</h2>
<section><p>This login link opens one console session, once.</p>
<form method="post" action="{login}"><input type="hidden" name="token" value="{token}">{app_field}
<button type="submit" id="continue">Continue to the console</button></form></section></main></body></html>"#,
        login = super::LOGIN,
        token = esc(token),
    );
    // Its form must name its origin (a `no-referrer` page's forms say `null`); the
    // referrer, with the token, goes to this origin only.
    console_page(StatusCode::OK, &n, body)
}

/// A page for a failure of ours: logged, and nothing of it shown.
pub(super) fn failed(err: &dyn Display) -> Response {
    tracing::error!(error = %err, "console page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Try again in a moment.",
    )
}

/// A table with a header row; `empty` when there are no rows.
pub(super) fn table(id: &str, headers: &[&str], rows: &[String], empty: &str) -> String {
    let head: String = headers
        .iter()
        .map(|h| format!(r#"<th scope="col">{h}</th>"#))
        .collect();
    let body = if rows.is_empty() {
        format!(
            r#"<tr><td colspan="{}" class="muted">{}</td></tr>"#,
            headers.len(),
            esc(empty)
        )
    } else {
        rows.concat()
    };
    format!(
        r#"<div class="scroll"><table id="{id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"#
    )
}

/// The link to a listing's next page, keeping its filters.
pub(super) fn next_page(base: &str, filters: &[(&str, Option<&str>)], cursor: &Value) -> String {
    let Some(cursor) = cursor.as_str() else {
        return String::new();
    };
    let mut query: Vec<String> = filters
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={}", urlencode(v))))
        .collect();
    query.push(format!("cursor={}", urlencode(cursor)));
    format!(
        r#"<p><a rel="next" href="{base}?{}">Next page →</a></p>"#,
        esc(&query.join("&"))
    )
}

/// A JSON string field, escaped ("" when absent).
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => esc(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// An RFC 3339 time as its date and minute, UTC.
pub(super) fn when(value: &Value) -> String {
    let raw = value.as_str().unwrap_or_default();
    let shown = raw
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or_else(|| raw.to_owned());
    esc(&shown)
}

/// A time of ours the same way.
pub(super) fn at(time: Timestamp) -> String {
    let raw = time
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    when(&Value::String(raw))
}

/// An API view's money (`{"amount": "19.80", "currency": "usd"}` style fields).
pub(super) fn amount(value: &Value, currency: &Value) -> String {
    format!(
        "{} {}",
        text(value),
        esc(&currency.as_str().unwrap_or_default().to_uppercase())
    )
}

/// After a change: back to `to` with the banner `code` names (a 303, so the
/// browser follows the form post with a GET and a reload posts nothing again).
pub(super) fn done(to: &str, code: &str) -> Response {
    let separator = if to.contains('?') { '&' } else { '?' };
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!(
        "{to}{separator}done={code}"
    )))
}

/// The page for a refused change: what the API said, with the navigation to go on.
pub(super) async fn problem_page(state: &AppState, console: &Console, answer: &Reply) -> Response {
    let brand = Brand::load(state, console).await;
    render_with_status(
        answer.status,
        console,
        &brand,
        "",
        "That did not work",
        &Banner::Problem(answer.message()),
        "<p>Nothing was changed. Use the navigation above to go on.</p>",
        "",
    )
}

/// The header's branding and a handler's answer, read together.
pub(super) async fn with_brand(
    state: &AppState,
    console: &Console,
    answer: impl std::future::Future<Output = Reply>,
) -> (Brand, Reply) {
    tokio::join!(Brand::load(state, console), answer)
}

/// After a form's change: back to `to` with the banner `code` names, or the
/// refusal's page.
pub(super) async fn after(
    state: &AppState,
    console: &Console,
    answer: Reply,
    to: &str,
    code: &str,
) -> Response {
    if answer.ok() {
        done(to, code)
    } else {
        problem_page(state, console, &answer).await
    }
}
