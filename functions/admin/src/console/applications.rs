//! Applications: tabs by status, search by email, one application with every
//! field, approve (with an optional code) or reject (with an optional reason),
//! and several at once through the bulk review.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use partner_domain::Email;
use partner_service::AppState;
use partner_service::extract::{Json, PathParam, QueryParams};
use partner_service::html::esc;
use partner_service::views::applications::ApplicationView;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Reply, call, input, reply, strip_nulls};
use super::layout::{self, Banner, Brand, next_page, problem_page, table, text, when};
use super::session::{Console, Form, csrf_field};
use super::{APPLICATIONS, path};
use crate::applications as api;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

const TABS: &[(Option<&str>, &str)] = &[
    (Some("pending"), "Pending"),
    (Some("approved"), "Approved"),
    (Some("rejected"), "Rejected"),
    (None, "All"),
];

/// Selecting every application of the page at once (the form works without it).
const SELECT_ALL: &str = "var a=document.getElementById('select-all');if(a){a.hidden=false;a.addEventListener('change',function(){document.querySelectorAll('input[name=ids]').forEach(function(c){c.checked=a.checked})})}";

/// `GET /admin/applications?status=&q=&cursor=`: pending first.
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<ListQuery>,
) -> Response {
    let status = match query.status.as_deref() {
        None => Some("pending"),
        Some("all") => None,
        Some(other) => Some(other),
    };
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (brand, found) = tokio::join!(
        Brand::load(&state, &console),
        find(&state, &console, status, search, query.cursor.clone())
    );
    let (applications, cursor) = match found {
        Ok(found) => found,
        Err(problem) => (Vec::new(), Err(problem)),
    };
    let mut banner = Banner::from_code(query.done.as_deref());
    let next = match cursor {
        Ok(cursor) => next_page(
            APPLICATIONS,
            &[("status", Some(status.unwrap_or("all")))],
            &cursor,
        ),
        Err(problem) => {
            banner = Banner::Problem(problem.message());
            String::new()
        }
    };
    let tabs: String = TABS
        .iter()
        .map(|(value, label)| {
            let current = if *value == status && search.is_none() {
                r#" aria-current="page""#
            } else {
                ""
            };
            format!(
                r#"<a href="{APPLICATIONS}?status={}"{current}>{label}</a>"#,
                value.unwrap_or("all")
            )
        })
        .collect();
    let rows: Vec<String> = applications
        .iter()
        .map(|a| {
            let id = a["id"].as_str().unwrap_or_default();
            let select = if a["status"] == "pending" {
                format!(
                    r#"<input type="checkbox" name="ids" value="{}" aria-label="Select {}">"#,
                    esc(id),
                    text(&a["name"])
                )
            } else {
                String::new()
            };
            format!(
                r#"<tr><td>{select}</td><td><a href="{href}">{name}</a></td><td>{email}</td><td>{submitted}</td><td>{status}</td></tr>"#,
                href = path(super::APPLICATION, &[id]),
                name = text(&a["name"]),
                email = text(&a["email"]),
                submitted = when(&a["submittedAt"]),
                status = text(&a["status"]),
            )
        })
        .collect();
    let content = format!(
        r#"<nav class="tabs" aria-label="Status">{tabs}</nav>
<form method="get" action="{APPLICATIONS}" class="row" role="search"><label>Search by email<input type="email" name="q" value="{q}"></label><button type="submit" class="secondary">Search</button></form>
<section><form method="post" action="{bulk}">{csrf}
<div class="row"><label><span><input type="checkbox" id="select-all" hidden> Select all on this page</span></label></div>
{table}
<div class="row"><label>Rejection reason (optional)<input name="rejectionReason" maxlength="1000"></label>
<button type="submit" name="action" value="approve">Approve selected</button>
<button type="submit" name="action" value="reject" class="danger">Reject selected</button></div></form>{next}</section>"#,
        q = esc(search.unwrap_or_default()),
        bulk = super::BULK_REVIEW,
        csrf = csrf_field(&console),
        table = table(
            "applications",
            &[
                "<span class=\"muted\">Select</span>",
                "Name",
                "Email",
                "Submitted",
                "Status"
            ],
            &rows,
            "No applications here.",
        ),
    );
    layout::render_with_status(
        StatusCode::OK,
        &console,
        &brand,
        APPLICATIONS,
        "Applications",
        &banner,
        &content,
        SELECT_ALL,
    )
}

type Found = (Vec<Value>, Result<Value, Reply>);

/// One page of applications with `status` (or the one applicant with the searched
/// email), and the next page's cursor.
async fn find(
    state: &AppState,
    console: &Console,
    status: Option<&str>,
    search: Option<&str>,
    cursor: Option<String>,
) -> Result<Found, Reply> {
    if let Some(search) = search {
        let email = Email::parse("q", search).map_err(|e| Reply::refused(e.to_string()))?;
        let found = state
            .store()
            .applications()
            .by_email(&console.admin.app_id, &email)
            .await
            .map_err(|e| Reply::refused(e.to_string()))?;
        let found = found
            .map(|a| serde_json::to_value(ApplicationView::from(a)).unwrap_or_default())
            .into_iter()
            .collect();
        return Ok((found, Ok(Value::Null)));
    }
    let query = input(json!({"status": status, "limit": "25", "cursor": cursor}))?;
    let answer = reply(
        api::list(
            State(state.clone()),
            console.admin.clone(),
            QueryParams(query),
        )
        .await,
    )
    .await;
    if !answer.ok() {
        return Err(answer);
    }
    let data = answer.body["data"].as_array().cloned().unwrap_or_default();
    Ok((data, Ok(answer.body["nextCursor"].clone())))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    done: Option<String>,
}

/// `GET /admin/applications/{id}`: every field, and the review forms while pending.
pub(crate) async fn detail(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    let (brand, answer) = layout::with_brand(&state, &console, async {
        reply(
            api::get(
                State(state.clone()),
                console.admin.clone(),
                PathParam((console.admin.app_id.to_string(), id.clone())),
            )
            .await,
        )
        .await
    })
    .await;
    if !answer.ok() {
        return layout::render_with_status(
            answer.status,
            &console,
            &brand,
            APPLICATIONS,
            "Application",
            &Banner::Problem(answer.message()),
            "",
            "",
        );
    }
    let a = &answer.body;
    let field = |label: &str, value: &Value| {
        if value.is_null() {
            String::new()
        } else {
            format!("<dt>{label}</dt><dd>{}</dd>", text(value))
        }
    };
    let partner = a["customerId"]
        .as_str()
        .map(|customer| {
            format!(
                r#"<dt>Partner</dt><dd><a href="{}">{}</a></dd>"#,
                path(super::PARTNER, &[customer]),
                esc(customer)
            )
        })
        .unwrap_or_default();
    let fields = [
        field("Name", &a["name"]),
        field("Email", &a["email"]),
        field("Company", &a["company"]),
        field("Website", &a["website"]),
        field("Why they applied", &a["reason"]),
        field("Status", &a["status"]),
        format!("<dt>Submitted</dt><dd>{}</dd>", when(&a["submittedAt"])),
        if a["reviewedAt"].is_null() {
            String::new()
        } else {
            format!("<dt>Reviewed</dt><dd>{}</dd>", when(&a["reviewedAt"]))
        },
        field("Reviewed by", &a["reviewedBy"]),
        field("Rejection reason", &a["rejectionReason"]),
        field("Application id", &a["id"]),
        partner,
    ]
    .concat();
    let forms = if a["status"] == "pending" {
        let action = path(super::REVIEW, &[&id]);
        let csrf = csrf_field(&console);
        format!(
            r#"<section><h3>Approve</h3><form method="post" action="{action}">{csrf}<input type="hidden" name="action" value="approve">
<div class="row"><label>Referral code (optional: one is made from the name)<input name="code" maxlength="32" pattern="[A-Za-z0-9_-]{{3,32}}"></label>
<button type="submit">Approve</button></div></form></section>
<section><h3>Reject</h3><form method="post" action="{action}">{csrf}<input type="hidden" name="action" value="reject">
<div class="row"><label>Reason (optional, sent to your app)<input name="rejectionReason" maxlength="1000"></label>
<button type="submit" class="danger">Reject</button></div></form></section>"#
        )
    } else {
        String::new()
    };
    let content =
        format!(r#"<section><dl class="fields" id="application">{fields}</dl></section>{forms}"#);
    layout::render(
        &console,
        &brand,
        APPLICATIONS,
        &format!(
            "Application from {}",
            a["name"].as_str().unwrap_or_default()
        ),
        &Banner::from_code(query.done.as_deref()),
        &content,
    )
}

/// `POST /admin/applications/{id}/review`: as the review API, then back to it.
pub(crate) async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let action = form.get("action").unwrap_or_default().to_owned();
    let body = match action.as_str() {
        "approve" => json!({"action": "approve", "code": form.get("code")}),
        _ => json!({"action": action, "rejectionReason": form.get("rejectionReason")}),
    };
    let answer = call(strip_nulls(body), |body| {
        api::review(
            State(state.clone()),
            form.console.admin.clone(),
            PathParam((form.console.admin.app_id.to_string(), id.clone())),
            Json(body),
        )
    })
    .await;
    if answer.ok() {
        let done = if action == "approve" {
            "approved"
        } else {
            "rejected"
        };
        return layout::done(&path(super::APPLICATION, &[&id]), done);
    }
    problem_page(&state, &form.console, &answer).await
}

/// `POST /admin/applications/bulk-review`: the selected applications through the
/// bulk review API; the page lists what became of each.
pub(crate) async fn bulk_review(State(state): State<AppState>, form: Form) -> Response {
    let ids = form.all("ids");
    let console = &form.console;
    if ids.is_empty() {
        return problem_page(
            &state,
            console,
            &Reply::refused("Select at least one application."),
        )
        .await;
    }
    let body = strip_nulls(json!({
        "ids": ids,
        "action": form.get("action").unwrap_or_default(),
        "rejectionReason": form.get("rejectionReason"),
    }));
    let answer = call(body, |body| {
        api::bulk_review(State(state.clone()), console.admin.clone(), Json(body))
    })
    .await;
    if !answer.ok() {
        return problem_page(&state, console, &answer).await;
    }
    let results = answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<String> = results
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap_or_default();
            let outcome = match r["status"].as_u64() {
                Some(200) => {
                    let code = &r["affiliate"]["code"];
                    if code.is_null() {
                        text(&r["application"]["status"])
                    } else {
                        format!(
                            "{} (code {})",
                            text(&r["application"]["status"]),
                            text(code)
                        )
                    }
                }
                Some(404) => "not found".to_owned(),
                Some(409) => "already reviewed: not changed".to_owned(),
                _ => text(&r["problem"]["detail"]),
            };
            format!(
                r#"<tr><td><a href="{}">{}</a></td><td>{outcome}</td></tr>"#,
                path(super::APPLICATION, &[id]),
                esc(id)
            )
        })
        .collect();
    let changed = results.iter().filter(|r| r["status"] == 200).count();
    let content = format!(
        r#"<section>{}<p><a href="{APPLICATIONS}">Back to applications</a></p></section>"#,
        table(
            "bulk-results",
            &["Application", "Outcome"],
            &rows,
            "Nothing was reviewed."
        )
    );
    let brand = Brand::load(&state, console).await;
    layout::render(
        console,
        &brand,
        APPLICATIONS,
        "Bulk review",
        &Banner::Done(format!("{changed} of {} reviewed.", results.len())),
        &content,
    )
}
