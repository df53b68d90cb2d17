//! Reading and changing the program settings.

use axum::Json;
use axum::extract::State;
use partner_domain::rate_limit::MAX_PER_MINUTE;
use partner_domain::records::Branding;
use partner_domain::text::optional_text;
use partner_domain::{Currency, FieldError, Money, RateBps};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::settings::{self, RateLimitsChange, SettingsChange};
use partner_service::extract::{self, not_null, present};
use partner_service::views::SettingsView;
use partner_service::{ApiError, AppState};
use serde::Deserialize;
use serde_json::Number;

/// Fields left out keep their current value. Rates are percentages and amounts
/// major units, as in the responses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SettingsBody {
    #[serde(default, deserialize_with = "not_null")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    default_commission_rate: Option<Number>,
    #[serde(default, deserialize_with = "not_null")]
    holding_period_days: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    min_payout_amount: Option<Number>,
    #[serde(default, deserialize_with = "not_null")]
    cookie_duration_days: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    currency: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    branding: Option<BrandingBody>,
    #[serde(default, deserialize_with = "not_null")]
    allowed_origins: Option<Vec<String>>,
    /// Absent: unchanged; `null`: rejected applicants never apply again.
    #[serde(default, deserialize_with = "present")]
    reapply_after_days: Option<Option<u32>>,
    #[serde(default, deserialize_with = "not_null")]
    max_open_deals: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    rate_limits: Option<RateLimitsBody>,
}

/// Requests per minute; fields left out keep their current value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RateLimitsBody {
    #[serde(default, deserialize_with = "not_null")]
    apply_per_ip: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    track_per_ip: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    per_key: Option<u32>,
}

impl RateLimitsBody {
    fn parse(self) -> Result<RateLimitsChange, FieldError> {
        let per_minute = |field: &'static str, value: Option<u32>| match value {
            Some(n) if !(1..=MAX_PER_MINUTE).contains(&n) => Err(FieldError::new(
                field,
                format!("must be from 1 to {MAX_PER_MINUTE} requests a minute"),
            )),
            other => Ok(other),
        };
        Ok(RateLimitsChange {
            apply_per_ip: per_minute("rateLimits.applyPerIp", self.apply_per_ip)?,
            track_per_ip: per_minute("rateLimits.trackPerIp", self.track_per_ip)?,
            per_key: per_minute("rateLimits.perKey", self.per_key)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BrandingBody {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    color: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    logo_url: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    website_url: Option<String>,
}

/// A number of days from `min` to 365 (a year), or none.
pub(crate) fn days(
    field: &'static str,
    value: Option<u32>,
    min: u32,
) -> Result<Option<u32>, FieldError> {
    match value {
        Some(v) if !(min..=365).contains(&v) => Err(FieldError::new(
            field,
            format!("must be from {min} to 365 days"),
        )),
        other => Ok(other),
    }
}

fn colour(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text("branding.color", raw, 7)? else {
        return Ok(None);
    };
    let hex = value.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(Some(value.to_ascii_lowercase()))
    } else {
        Err(FieldError::new(
            "branding.color",
            "must be a colour like #1a73e8",
        ))
    }
}

fn logo_url(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(value) = optional_text("branding.logoUrl", raw, 2048)? else {
        return Ok(None);
    };
    if value.starts_with("https://")
        && !value.chars().any(char::is_whitespace)
        && value.len() > "https://".len()
    {
        Ok(Some(value))
    } else {
        Err(FieldError::new("branding.logoUrl", "must be an https URL"))
    }
}

impl SettingsBody {
    /// Whether parsing needs the program's current currency: `minPayoutAmount` is in
    /// the program's currency, and this change does not set a new one.
    fn needs_current_currency(&self) -> bool {
        self.min_payout_amount.is_some() && self.currency.is_none()
    }

    /// `current`: the program's currency, read when [`Self::needs_current_currency`].
    fn parse(self, current: Option<&Currency>) -> Result<SettingsChange, FieldError> {
        let currency = self
            .currency
            .as_deref()
            .map(|c| Currency::parse("currency", c))
            .transpose()?;
        let program_currency = currency.as_ref().or(current);
        Ok(SettingsChange {
            enabled: self.enabled,
            default_commission_rate: self
                .default_commission_rate
                .map(|n| RateBps::parse_percent("defaultCommissionRate", &n.to_string()))
                .transpose()?,
            holding_period_days: days("holdingPeriodDays", self.holding_period_days, 0)?,
            min_payout_amount: match (self.min_payout_amount, program_currency) {
                (Some(n), Some(currency)) => Some(Money::parse_major(
                    "minPayoutAmount",
                    &n.to_string(),
                    currency,
                )?),
                (Some(_), None) => {
                    return Err(FieldError::new(
                        "minPayoutAmount",
                        "needs the program's currency",
                    ));
                }
                (None, _) => None,
            },
            cookie_duration_days: days("cookieDurationDays", self.cookie_duration_days, 1)?,
            currency,
            branding: self
                .branding
                .map(|b| -> Result<Branding, FieldError> {
                    Ok(Branding {
                        name: optional_text("branding.name", b.name.as_deref(), 100)?,
                        color: colour(b.color.as_deref())?,
                        logo_url: logo_url(b.logo_url.as_deref())?,
                        website_url: partner_domain::text::optional_website(
                            "branding.websiteUrl",
                            b.website_url.as_deref(),
                        )?,
                    })
                })
                .transpose()?,
            allowed_origins: self
                .allowed_origins
                .as_deref()
                .map(|o| partner_domain::text::web_origins("allowedOrigins", o))
                .transpose()?,
            reapply_after_days: match self.reapply_after_days {
                Some(Some(days)) if days > 3650 => {
                    return Err(FieldError::new(
                        "reapplyAfterDays",
                        "must be from 0 to 3650 days, or null for never",
                    ));
                }
                other => other,
            },
            max_open_deals: match self.max_open_deals {
                Some(n) if n > 10_000 => {
                    return Err(FieldError::new("maxOpenDeals", "must be from 0 to 10000"));
                }
                other => other,
            },
            rate_limits: self.rate_limits.map(RateLimitsBody::parse).transpose()?,
        })
    }
}

/// `GET …/settings`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(
        settings::get(state.store(), &admin.app_id).await?.into(),
    ))
}

/// `PUT …/settings`.
pub(crate) async fn put(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<SettingsBody>,
) -> Result<Json<SettingsView>, ApiError> {
    // Only a new minimum without a new currency costs the extra read.
    let current = if body.needs_current_currency() {
        Some(settings::get(state.store(), &admin.app_id).await?.currency)
    } else {
        None
    };
    let change = body.parse(current.as_ref())?;
    let changed = settings::change(state.store(), &admin.app_id, change, admin.actor()).await?;
    state.settings().forget(&admin.app_id);
    Ok(Json(changed.into()))
}
