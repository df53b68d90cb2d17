//! Program settings: read, and change some fields while keeping the rest.

use partner_domain::AppId;
use partner_domain::audit::{
    Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind, fields_given,
};
use partner_domain::records::{Branding, ProgramSettings};
use partner_domain::{Currency, Money, RateBps};
use partner_store::Store;

use super::{CommandError, Missing};

/// The fields a settings change may carry; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub enabled: Option<bool>,
    pub default_commission_rate: Option<RateBps>,
    pub holding_period_days: Option<u32>,
    pub min_payout_amount: Option<Money>,
    pub cookie_duration_days: Option<u32>,
    pub currency: Option<Currency>,
    pub branding: Option<Branding>,
    pub allowed_origins: Option<Vec<String>>,
    /// `Some(None)`: rejected applicants never apply again.
    pub reapply_after_days: Option<Option<u32>>,
    pub max_open_deals: Option<u32>,
    pub rate_limits: Option<RateLimitsChange>,
}

/// A change of some rate limits; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitsChange {
    pub apply_per_ip: Option<u32>,
    pub track_per_ip: Option<u32>,
    pub per_key: Option<u32>,
}

impl SettingsChange {
    /// Which fields (by their API names) the change carries, for its audit entry.
    fn summary(&self) -> String {
        fields_given(&[
            ("enabled", self.enabled.is_some()),
            (
                "defaultCommissionRate",
                self.default_commission_rate.is_some(),
            ),
            ("holdingPeriodDays", self.holding_period_days.is_some()),
            ("minPayoutAmount", self.min_payout_amount.is_some()),
            ("cookieDurationDays", self.cookie_duration_days.is_some()),
            ("currency", self.currency.is_some()),
            ("branding", self.branding.is_some()),
            ("allowedOrigins", self.allowed_origins.is_some()),
            ("reapplyAfterDays", self.reapply_after_days.is_some()),
            ("maxOpenDeals", self.max_open_deals.is_some()),
            ("rateLimits", self.rate_limits.is_some()),
        ])
    }
}

fn missing_settings(app: &AppId) -> CommandError {
    CommandError::NotFound(Missing::Settings(app.clone()))
}

pub async fn get(store: &Store, app: &AppId) -> Result<ProgramSettings, CommandError> {
    store
        .apps()
        .settings(app)
        .await?
        .ok_or_else(|| missing_settings(app))
}

/// Changes the fields `change` carries, by `actor` (audited with the change).
pub async fn change(
    store: &Store,
    app: &AppId,
    change: SettingsChange,
    actor: Actor,
) -> Result<ProgramSettings, CommandError> {
    let mut settings = get(store, app).await?;
    let audit = AuditEntry::new(
        app.clone(),
        actor,
        AuditAction::SettingsUpdated,
        AuditSubject::new(SubjectKind::Settings, app),
    )
    .with_summary(change.summary());
    let SettingsChange {
        enabled,
        default_commission_rate,
        holding_period_days,
        min_payout_amount,
        cookie_duration_days,
        currency,
        branding,
        allowed_origins,
        reapply_after_days,
        max_open_deals,
        rate_limits,
    } = change;
    if let Some(v) = enabled {
        settings.enabled = v;
    }
    if let Some(v) = default_commission_rate {
        settings.default_commission_rate = v;
    }
    if let Some(v) = holding_period_days {
        settings.holding_period_days = v;
    }
    // Applied after the currency: a minimum given with a new currency is in it.
    let new_minimum = min_payout_amount;
    if let Some(v) = cookie_duration_days {
        settings.cookie_duration_days = v;
    }
    if let Some(v) = currency {
        // Amounts are stored without their currency's name: once there is money in the
        // ledger, relabelling it would turn dollars into euros.
        if v != settings.currency
            && !store
                .ledger()
                .entries_of_app(app, 1, None)
                .await?
                .0
                .is_empty()
        {
            return Err(CommandError::CurrencyLocked);
        }
        // The minimum keeps its figure in major units (50 USD becomes 50 JPY, not
        // 5000): the stored minor units are rescaled by the change of exponent.
        let (from, to) = (settings.currency.minor_digits(), v.minor_digits());
        let minor = settings.min_payout_amount.minor();
        settings.min_payout_amount = Money(if to >= from {
            minor.saturating_mul(10i64.pow(to - from))
        } else {
            minor / 10i64.pow(from - to)
        });
        settings.currency = v;
    }
    if let Some(v) = new_minimum {
        settings.min_payout_amount = v;
    }
    if let Some(v) = branding {
        settings.branding = v;
    }
    if let Some(v) = allowed_origins {
        settings.allowed_origins = v;
    }
    if let Some(v) = reapply_after_days {
        settings.reapply_after_days = v;
    }
    if let Some(v) = max_open_deals {
        settings.max_open_deals = v;
    }
    if let Some(change) = rate_limits {
        let limits = &mut settings.rate_limits;
        limits.apply_per_ip = change.apply_per_ip.unwrap_or(limits.apply_per_ip);
        limits.track_per_ip = change.track_per_ip.unwrap_or(limits.track_per_ip);
        limits.per_key = change.per_key.unwrap_or(limits.per_key);
    }
    if !store.apps().put_settings(app, &settings, &audit).await? {
        return Err(missing_settings(app));
    }
    Ok(settings)
}
