//! Webhooks: the endpoints, adding one (its signing secret shown once), an
//! endpoint's delivery log with every attempt, replaying a delivery and rotating
//! the secret.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use partner_domain::WebhookEndpointId;
use partner_domain::events::EventType;
use partner_service::AppState;
use partner_service::extract::{Json, PathParam};
use partner_service::html::esc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{call, reply, strip_nulls};
use super::layout::{self, Banner, Brand, next_page, problem_page, table, text, when};
use super::session::{Console, Form, csrf_field};
use super::{WEBHOOKS, path};
use crate::webhooks as api;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    done: Option<String>,
}

/// `GET /admin/webhooks`: the endpoints and the form to add one.
pub(crate) async fn list(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<ListQuery>,
) -> Response {
    endpoints_page(
        &state,
        &console,
        Banner::from_code(query.done.as_deref()),
        "",
    )
    .await
}

async fn endpoints_page(
    state: &AppState,
    console: &Console,
    banner: Banner,
    secret: &str,
) -> Response {
    let (brand, answer) = layout::with_brand(state, console, async {
        reply(api::list(State(state.clone()), console.admin.clone()).await).await
    })
    .await;
    let banner = banner.unless_failed(&answer);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|e| {
            let events: Vec<String> = e["events"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(text)
                .collect();
            let state = if e["enabled"] == true {
                "enabled".to_owned()
            } else {
                format!("disabled {}", text(&e["disabledReason"]))
            };
            format!(
                r#"<tr><td><a href="{href}">{url}</a></td><td>{events}</td><td>{state}</td><td>{description}</td></tr>"#,
                href = path(super::WEBHOOK, &[e["id"].as_str().unwrap_or_default()]),
                url = text(&e["url"]),
                events = events.join(", "),
                description = text(&e["description"]),
            )
        })
        .collect();
    let choices: String = EventType::ALL
        .iter()
        .map(|event| {
            format!(
                r#"<label><span><input type="checkbox" name="events" value="{0}" checked> {0}</span></label>"#,
                event.as_str()
            )
        })
        .collect();
    let content = format!(
        r#"{secret}<section>{table}</section>
<section><h3>Add an endpoint</h3><form method="post" action="{WEBHOOKS}">{csrf}
<div class="row"><label>URL (https)<input name="url" type="url" required maxlength="2048" placeholder="https://example.com/webhooks/partners"></label>
<label>Description (optional)<input name="description" maxlength="500"></label></div>
<fieldset><legend>Events</legend><div class="row">{choices}</div></fieldset>
<button type="submit">Add endpoint</button></form></section>"#,
        table = table(
            "endpoints",
            &["URL", "Events", "State", "Description"],
            &rows,
            "No endpoints yet."
        ),
        csrf = csrf_field(console),
    );
    layout::render(console, &brand, WEBHOOKS, "Webhooks", &banner, &content)
}

/// The signing secret, once, with what to do with it.
fn secret_box(secret: &str) -> String {
    format!(
        r#"<section><h3>Signing secret</h3><p>Copy it now: it is not shown again. Your receiver verifies each delivery's signature with it.</p><p class="secret" id="secret">{}</p></section>"#,
        esc(secret)
    )
}

/// `POST /admin/webhooks`: adds an endpoint; the page shows its secret once.
pub(crate) async fn create(State(state): State<AppState>, form: Form) -> Response {
    let body = strip_nulls(json!({
        "url": form.get("url").unwrap_or_default(),
        "events": form.all("events"),
        "description": form.get("description"),
    }));
    let answer = call(body, |body| {
        api::create(State(state.clone()), form.console.admin.clone(), Json(body))
    })
    .await;
    if !answer.ok() {
        return problem_page(&state, &form.console, &answer).await;
    }
    let secret = answer.body["secret"].as_str().unwrap_or_default();
    endpoints_page(
        &state,
        &form.console,
        Banner::Done("Endpoint added.".into()),
        &secret_box(secret),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// `GET /admin/webhooks/{id}?cursor=`: the endpoint and its delivery log.
pub(crate) async fn detail(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Response {
    delivery_log(
        &state,
        &console,
        &id,
        query.cursor,
        Banner::from_code(query.done.as_deref()),
        "",
    )
    .await
}

async fn delivery_log(
    state: &AppState,
    console: &Console,
    id: &str,
    cursor: Option<String>,
    banner: Banner,
    secret: &str,
) -> Response {
    let app = &console.admin.app_id;
    let endpoint_id = WebhookEndpointId::parse("id", id);
    // The endpoint and its deliveries are read together.
    let (brand, endpoint, deliveries) = tokio::join!(
        Brand::load(state, console),
        async {
            reply(
                api::get(
                    State(state.clone()),
                    console.admin.clone(),
                    PathParam((app.to_string(), id.to_owned())),
                )
                .await,
            )
            .await
        },
        async {
            match &endpoint_id {
                Ok(endpoint) => state
                    .store()
                    .webhooks()
                    .deliveries(app, endpoint, 25, cursor)
                    .await
                    .ok(),
                Err(_) => None,
            }
        }
    );
    if !endpoint.ok() {
        return layout::render_with_status(
            endpoint.status,
            console,
            &brand,
            WEBHOOKS,
            "Webhook endpoint",
            &Banner::Problem(endpoint.message()),
            "",
            "",
        );
    }
    let (deliveries, next_cursor) = deliveries.unwrap_or_default();
    let csrf = csrf_field(console);
    let rows: Vec<String> = deliveries
        .into_iter()
        .map(|d| {
            let view = serde_json::to_value(api::DeliveryView::from(d)).unwrap_or_default();
            let attempts: Vec<String> = view["attempts"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    let outcome = if a["statusCode"].is_null() {
                        text(&a["error"])
                    } else {
                        format!("HTTP {}", text(&a["statusCode"]))
                    };
                    format!("<li>{} — {outcome} ({} ms)</li>", when(&a["at"]), text(&a["latencyMs"]))
                })
                .collect();
            let delivery = view["id"].as_str().unwrap_or_default();
            format!(
                r#"<tr><td>{event}</td><td>{status}</td><td>{count}<ul>{attempts}</ul></td><td><form method="post" action="{replay}">{csrf}<button type="submit" class="secondary">Replay</button></form></td></tr>"#,
                event = text(&view["eventType"]),
                status = text(&view["status"]),
                count = text(&view["attemptCount"]),
                attempts = attempts.concat(),
                replay = path(super::REPLAY, &[id, delivery]),
            )
        })
        .collect();
    let e = &endpoint.body;
    let content = format!(
        r#"{secret}<section><dl class="fields"><dt>URL</dt><dd>{url}</dd><dt>Enabled</dt><dd>{enabled}</dd><dt>Created</dt><dd>{created}</dd></dl>
<form method="post" action="{rotate}">{csrf}<button type="submit" class="secondary">Rotate signing secret</button></form>
<p class="muted">After a rotation the old secret still signs alongside the new one for a while, so receivers can switch without losing deliveries.</p></section>
<section><h3>Delivery log</h3>{table}{next}</section>"#,
        url = text(&e["url"]),
        enabled = text(&e["enabled"]),
        created = when(&e["createdAt"]),
        rotate = path(super::ROTATE_SECRET, &[id]),
        table = table(
            "deliveries",
            &["Event", "Status", "Attempts", ""],
            &rows,
            "No deliveries yet."
        ),
        next = next_page(
            &path(super::WEBHOOK, &[id]),
            &[],
            &next_cursor.map(Value::String).unwrap_or_default()
        ),
    );
    layout::render(
        console,
        &brand,
        WEBHOOKS,
        "Webhook endpoint",
        &banner,
        &content,
    )
}

/// `POST /admin/webhooks/{id}/rotate-secret`: the page shows the new secret once.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let console = &form.console;
    let answer = reply(
        api::rotate(
            State(state.clone()),
            console.admin.clone(),
            PathParam((console.admin.app_id.to_string(), id.clone())),
        )
        .await,
    )
    .await;
    if !answer.ok() {
        return problem_page(&state, console, &answer).await;
    }
    let secret = secret_box(answer.body["secret"].as_str().unwrap_or_default());
    delivery_log(
        &state,
        console,
        &id,
        None,
        Banner::Done("Secret rotated.".into()),
        &secret,
    )
    .await
}

/// `POST /admin/webhooks/{id}/deliveries/{deliveryId}/replay`.
pub(crate) async fn replay(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
    form: Form,
) -> Response {
    let console = &form.console;
    let answer = reply(
        api::replay(
            State(state.clone()),
            console.admin.clone(),
            PathParam((console.admin.app_id.to_string(), id.clone(), delivery)),
        )
        .await,
    )
    .await;
    if answer.status == StatusCode::ACCEPTED || answer.ok() {
        return layout::done(&path(super::WEBHOOK, &[&id]), "replayed");
    }
    problem_page(&state, console, &answer).await
}
