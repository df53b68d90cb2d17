//! Running the program: deals moving through their statuses, the program
//! settings (with a live preview of the branded header), and API keys (a new key
//! shown once; revoking).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use partner_service::AppState;
use partner_service::extract::{Json, PathParam, QueryParams};
use partner_service::html::esc;
use partner_service::views::groups::GroupView;
use serde::Deserialize;
use serde_json::{Map, Number, Value, json};

use super::api::{Reply, call, input, reply, strip_nulls};
use super::layout::{self, Banner, Brand, next_page, problem_page, table, text, when};
use super::session::{Console, Form, csrf_field};
use super::{API_KEYS, DEALS, SETTINGS, path};

#[derive(Debug, Deserialize)]
pub(crate) struct DealsQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// Where a deal can go from each status.
fn next_statuses(status: &str) -> &'static [&'static str] {
    match status {
        "pending" => &["accepted", "rejected"],
        "accepted" => &["won", "lost"],
        _ => &[],
    }
}

/// `GET /admin/deals?cursor=`: newest first, each with the moves it allows.
pub(crate) async fn deals(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<DealsQuery>,
) -> Response {
    let (brand, answer) = layout::with_brand(&state, &console, async {
        call(json!({"limit": "25", "cursor": query.cursor}), |paging| {
            crate::deals::list(
                State(state.clone()),
                console.admin.clone(),
                QueryParams(paging),
            )
        })
        .await
    })
    .await;
    let banner = Banner::from_code(query.done.as_deref()).unless_failed(&answer);
    let csrf = csrf_field(&console);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|d| {
            let status = d["status"].as_str().unwrap_or_default();
            let moves: String = next_statuses(status)
                .iter()
                .map(|next| format!(r#"<option value="{next}">{next}</option>"#))
                .collect();
            let form = if moves.is_empty() {
                String::new()
            } else {
                format!(
                    r#"<form method="post" action="{}" class="row">{csrf}<label>Move to<select name="status">{moves}</select></label><button type="submit" class="secondary">Update</button></form>"#,
                    path(super::DEAL, &[d["id"].as_str().unwrap_or_default()])
                )
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{form}</td></tr>",
                text(&d["leadName"]),
                text(&d["leadEmail"]),
                text(&d["affiliateId"]),
                when(&d["createdAt"]),
                esc(status),
            )
        })
        .collect();
    let content = format!(
        "<section>{}{}</section>",
        table(
            "deals",
            &["Lead", "Email", "Partner", "Registered", "Status", ""],
            &rows,
            "No deals yet."
        ),
        next_page(DEALS, &[], &answer.body["nextCursor"]),
    );
    layout::render(&console, &brand, DEALS, "Deals", &banner, &content)
}

/// `POST /admin/deals/{id}`: moves a deal, as the deals API does.
pub(crate) async fn move_deal(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let console = &form.console;
    let answer = call(
        json!({"status": form.get("status").unwrap_or_default()}),
        |body| {
            crate::deals::patch(
                State(state.clone()),
                console.admin.clone(),
                PathParam((console.admin.app_id.to_string(), id)),
                Json(body),
            )
        },
    )
    .await;
    layout::after(&state, console, answer, DEALS, "moved").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// Updates the header as the branding fields change (the form works without it).
const PREVIEW: &str = "var n=document.getElementById('branding-name'),c=document.getElementById('branding-color'),h=document.getElementById('brand-name'),r=document.documentElement;function p(){if(n.value.trim())h.textContent=n.value;if(/^#[0-9a-fA-F]{6}$/.test(c.value))r.style.setProperty('--brand',c.value)}n.addEventListener('input',p);c.addEventListener('input',p);";

/// `GET /admin/settings`: the program settings as a form.
pub(crate) async fn settings(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<DoneQuery>,
) -> Response {
    // The settings and the groups, read together (the groups' amounts are shown
    // in the settings' currency).
    let groups = state.store().groups();
    let (answer, set) = tokio::join!(
        async {
            reply(crate::settings::get(State(state.clone()), console.admin.clone()).await).await
        },
        groups.all(&console.admin.app_id),
    );
    if !answer.ok() {
        return problem_page(&state, &console, &answer).await;
    }
    let currency = answer.body["currency"]
        .as_str()
        .and_then(|c| partner_domain::Currency::parse("currency", c).ok())
        .unwrap_or_else(partner_domain::Currency::usd);
    let groups: Vec<Value> = set
        .map(|set| set.groups)
        .unwrap_or_default()
        .iter()
        .map(|g| serde_json::to_value(GroupView::new(g, &currency)).unwrap_or_default())
        .collect();
    settings_page(
        &console,
        &answer.body,
        &groups,
        Banner::from_code(query.done.as_deref()),
    )
}

fn settings_page(console: &Console, s: &Value, groups: &[Value], banner: Banner) -> Response {
    // The settings just read brand the page: no read of its own.
    let branding = &s["branding"];
    let brand = Brand::of_view(console, branding);
    let number = |label: &str, name: &str, value: &Value, step: &str| {
        format!(
            r#"<label>{label}<input name="{name}" type="number" min="0" step="{step}" value="{}" required></label>"#,
            text(value)
        )
    };
    let field = |label: &str, name: &str, value: &Value, kind: &str| {
        format!(
            r#"<label>{label}<input id="branding-{id}" name="{name}" type="{kind}" value="{}" maxlength="2048"></label>"#,
            text(value),
            id = name.trim_start_matches("branding."),
        )
    };
    let origins: Vec<String> = s["allowedOrigins"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(text)
        .collect();
    let checked = if s["enabled"] == true { " checked" } else { "" };
    let content = format!(
        r#"<form method="post" action="{SETTINGS}">{csrf}
<section><h3>Program</h3><div class="row"><label><span><input type="checkbox" name="enabled" value="true"{checked}> Accepting applications</span></label></div>
<div class="row">{rate}{holding}{min}{cookie}{deals}
<label>Currency<input name="currency" value="{currency}" maxlength="3" required></label>
<label>Reapply after days (empty: never)<input name="reapplyAfterDays" type="number" min="0" value="{reapply}"></label></div></section>
<section><h3>Branding</h3><p class="muted">The portal and this console show these; the header above previews them as you type. An empty field removes the value.</p>
<div class="row">{name}{color}{logo}{website}</div></section>
<section><h3>Allowed origins</h3><p class="muted">The web pages that may call the API with a publishable key, one origin per line (https://example.com).</p>
<textarea name="allowedOrigins" rows="4" cols="40">{origins}</textarea></section>
<button type="submit">Save settings</button></form>
<section><h3>Partner groups</h3><p class="muted">Groups have their own reward rules and settings; the program settings above are the default group. Create and change them with the groups API (<code>…/affiliates/groups</code>); move a partner on its page.</p>{groups}</section>"#,
        groups = table(
            "groups",
            &["Group", "Slug", "Terms", "Auto-approve"],
            &groups
                .iter()
                .map(|g| format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    text(&g["name"]),
                    text(&g["slug"]),
                    text(&g["terms"]),
                    if g["autoApprove"] == true {
                        "yes"
                    } else {
                        "no"
                    }
                ))
                .collect::<Vec<_>>(),
            "No groups: every partner earns the default rate."
        ),
        csrf = csrf_field(console),
        rate = number(
            "Default commission rate, %",
            "defaultCommissionRate",
            &s["defaultCommissionRate"],
            "0.01"
        ),
        holding = number(
            "Holding period, days",
            "holdingPeriodDays",
            &s["holdingPeriodDays"],
            "1"
        ),
        min = number(
            "Minimum payout",
            "minPayoutAmount",
            &s["minPayoutAmount"],
            "any"
        ),
        cookie = number(
            "Attribution window, days",
            "cookieDurationDays",
            &s["cookieDurationDays"],
            "1"
        ),
        deals = number(
            "Open deals per partner",
            "maxOpenDeals",
            &s["maxOpenDeals"],
            "1"
        ),
        currency = text(&s["currency"]),
        reapply = text(&s["reapplyAfterDays"]),
        name = field("Program name", "branding.name", &branding["name"], "text"),
        color = field(
            "Colour (#rrggbb)",
            "branding.color",
            &branding["color"],
            "text"
        ),
        logo = field(
            "Logo URL (https)",
            "branding.logoUrl",
            &branding["logoUrl"],
            "url"
        ),
        website = field(
            "Website (referral links)",
            "branding.websiteUrl",
            &branding["websiteUrl"],
            "url"
        ),
        origins = origins.join("\n"),
    );
    layout::render_with_status(
        axum::http::StatusCode::OK,
        console,
        &brand,
        SETTINGS,
        "Settings",
        &banner,
        &content,
        PREVIEW,
    )
}

/// A form's number field as JSON (the API takes numbers, not strings).
fn number(form: &Form, name: &str) -> Result<Option<Value>, Reply> {
    match form.get(name) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(|n| {
                // Whole numbers go as integers, as day counts must.
                Some(
                    if n.as_f64()
                        .is_some_and(|f| f.fract() == 0.0 && f.abs() < 1e15)
                    {
                        json!(n.as_f64().unwrap_or_default() as i64)
                    } else {
                        Value::Number(n)
                    },
                )
            })
            .ok_or_else(|| Reply::refused(format!("{name}: must be a number"))),
    }
}

/// The settings form as the settings API's body.
fn settings_body(form: &Form) -> Result<Value, Reply> {
    let mut body = Map::new();
    body.insert("enabled".into(), json!(form.get("enabled").is_some()));
    for name in [
        "defaultCommissionRate",
        "holdingPeriodDays",
        "minPayoutAmount",
        "cookieDurationDays",
        "maxOpenDeals",
    ] {
        if let Some(value) = number(form, name)? {
            body.insert(name.into(), value);
        }
    }
    if let Some(currency) = form.get("currency") {
        body.insert("currency".into(), json!(currency));
    }
    body.insert(
        "reapplyAfterDays".into(),
        number(form, "reapplyAfterDays")?.unwrap_or(Value::Null),
    );
    let mut branding = Map::new();
    for name in ["name", "color", "logoUrl", "websiteUrl"] {
        // Empty removes the value, as in the API.
        let value = form.get(&format!("branding.{name}")).unwrap_or_default();
        branding.insert(name.into(), json!(value));
    }
    body.insert("branding".into(), Value::Object(branding));
    let origins: Vec<&str> = form
        .get("allowedOrigins")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    body.insert("allowedOrigins".into(), json!(origins));
    Ok(Value::Object(body))
}

/// `POST /admin/settings`: the whole form through the settings API.
pub(crate) async fn save_settings(State(state): State<AppState>, form: Form) -> Response {
    let console = &form.console;
    let answer = match settings_body(&form).and_then(input) {
        Ok(body) => {
            reply(
                crate::settings::put(State(state.clone()), console.admin.clone(), Json(body)).await,
            )
            .await
        }
        Err(refused) => refused,
    };
    layout::after(&state, console, answer, SETTINGS, "saved").await
}

/// `GET /admin/api-keys`: the app's keys (never their secrets) and the form for
/// a new one.
pub(crate) async fn api_keys(
    State(state): State<AppState>,
    console: Console,
    Query(query): Query<DoneQuery>,
) -> Response {
    keys_page(
        &state,
        &console,
        Banner::from_code(query.done.as_deref()),
        "",
    )
    .await
}

async fn keys_page(state: &AppState, console: &Console, banner: Banner, created: &str) -> Response {
    let (brand, answer) = layout::with_brand(state, console, async {
        reply(crate::api_keys::list(State(state.clone()), console.admin.clone()).await).await
    })
    .await;
    let banner = banner.unless_failed(&answer);
    let csrf = csrf_field(console);
    let rows: Vec<String> = answer
        .data()
        .iter()
        .map(|k| {
            let action = if k["revokedAt"].is_null() {
                format!(
                    r#"<form method="post" action="{}">{csrf}<button type="submit" class="danger">Revoke</button></form>"#,
                    path(super::REVOKE_KEY, &[k["id"].as_str().unwrap_or_default()])
                )
            } else {
                format!("revoked {}", when(&k["revokedAt"]))
            };
            format!(
                "<tr><td>{}</td><td>{}…</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                text(&k["kind"]),
                text(&k["prefix"]),
                text(&k["label"]),
                when(&k["createdAt"]),
            )
        })
        .collect();
    let content = format!(
        r#"{created}<section>{table}</section>
<section><h3>Create a key</h3><p class="muted">A secret key is for your servers only; a publishable key may sit in a web page (apply and track only, from the allowed origins).</p>
<form method="post" action="{API_KEYS}" class="row">{csrf}<label>Kind<select name="kind"><option value="secret">secret</option><option value="publishable">publishable</option></select></label>
<label>Label (optional)<input name="label" maxlength="100"></label><button type="submit">Create key</button></form></section>"#,
        table = table(
            "api-keys",
            &["Kind", "Starts with", "Label", "Created", ""],
            &rows,
            "No keys."
        ),
    );
    layout::render(console, &brand, API_KEYS, "API keys", &banner, &content)
}

/// `POST /admin/api-keys`: the page shows the new key once.
pub(crate) async fn create_key(State(state): State<AppState>, form: Form) -> Response {
    let console = &form.console;
    let body = strip_nulls(
        json!({"kind": form.get("kind").unwrap_or_default(), "label": form.get("label")}),
    );
    let answer = call(body, |body| {
        crate::api_keys::create(State(state.clone()), console.admin.clone(), Json(body))
    })
    .await;
    if !answer.ok() {
        return problem_page(&state, console, &answer).await;
    }
    let created = format!(
        r#"<section><h3>Your new {kind} key</h3><p>Copy it now: it is not shown again.</p><p class="secret" id="new-key">{key}</p></section>"#,
        kind = text(&answer.body["kind"]),
        key = text(&answer.body["key"]),
    );
    keys_page(
        &state,
        console,
        Banner::Done("Key created.".into()),
        &created,
    )
    .await
}

/// `POST /admin/api-keys/{keyId}/revoke`.
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Path(key): Path<String>,
    form: Form,
) -> Response {
    let console = &form.console;
    let answer = reply(
        crate::api_keys::revoke(
            State(state.clone()),
            console.admin.clone(),
            PathParam((console.admin.app_id.to_string(), key)),
        )
        .await,
    )
    .await;
    layout::after(&state, console, answer, API_KEYS, "revoked").await
}
