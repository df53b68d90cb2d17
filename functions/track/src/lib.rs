//! `POST /v1/affiliate/track`: a referral click on a partner's link, from the app's
//! server (secret key) or straight from its web page (publishable key, CORS).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use partner_domain::ledger::ClickId;
use partner_domain::text::optional_text;
use partner_domain::{FieldError, ReferralCode};
use partner_service::client_ip::ClientIp;
use partner_service::commands::track::{self, TrackRequest};
use partner_service::extract::Json;
use partner_service::http::Route;
use partner_service::presented_key::PublicKey;
use partner_service::rate_limit;
use partner_service::{ApiError, AppState, cors};
use serde::{Deserialize, Serialize};

pub const TRACK: &str = "/v1/affiliate/track";
pub const ROUTES: &[Route] = &[Route::post(TRACK), Route::options(TRACK)];

pub fn routes() -> Router<AppState> {
    cors::browser_routes(Router::new().route(
        TRACK,
        post(track).options(|headers: HeaderMap| async move {
            cors::preflight(&headers, "POST, OPTIONS")
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TrackBody {
    code: String,
    url: String,
    visitor_id: Option<String>,
    referrer: Option<String>,
}

fn http_url(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let lower = value.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be an http(s) URL of at most 2048 characters",
        ))
    }
}

impl TrackBody {
    fn parse(self) -> Result<TrackRequest, FieldError> {
        let visitor_id = optional_text("visitorId", self.visitor_id.as_deref(), 128)?;
        if let Some(visitor) = &visitor_id
            && !visitor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        {
            return Err(FieldError::new(
                "visitorId",
                "may hold only letters, digits and - _ . :",
            ));
        }
        Ok(TrackRequest {
            code: ReferralCode::parse("code", &self.code)?,
            url: http_url("url", &self.url)?,
            visitor_id,
            referrer: self
                .referrer
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .map(|r| http_url("referrer", r))
                .transpose()?,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tracked {
    id: ClickId,
    code: ReferralCode,
    /// When the attribution of this click ends (`cookieDurationDays`).
    #[serde(with = "time::serde::rfc3339")]
    expires_at: partner_domain::Timestamp,
    /// Whether the click counted in the partner's stats (a visitor's repeat within
    /// an hour does not).
    counted: bool,
}

/// One read (in the key lookup's batch, even on a cold start) and one write.
async fn track(
    State(state): State<AppState>,
    key: PublicKey,
    ip: ClientIp,
    body: Result<Json<TrackBody>, ApiError>,
) -> Result<(StatusCode, axum::Json<Tracked>), ApiError> {
    let request = match body.and_then(|Json(body)| Ok(body.parse()?)) {
        Ok(request) => request,
        Err(refused) => {
            // An unauthenticated caller learns only that.
            key.tenant(&state).await?;
            return Err(refused);
        }
    };
    let (tenant, context) = key
        .with(
            &state,
            |app| track::context(app, &request),
            |(_, settings, _)| settings.as_ref(),
        )
        .await?;
    let client = rate_limit::browser_client(&tenant, ip);
    let click = track::track_with(&state, &tenant, request, client, context).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Tracked {
            id: click.id,
            code: click.code,
            expires_at: click.expires_at,
            counted: click.counted,
        }),
    ))
}
