//! Tracking a referral click.

use partner_domain::ReferralCode;
use partner_domain::ledger::{Click, ClickId};
use partner_domain::records::AffiliateStatus;

use super::{CommandError, Missing};
use crate::{AppState, Tenant};

/// A visitor's clicks on one code count once per this window.
pub const VISIT_WINDOW: time::Duration = time::Duration::hours(1);

/// The request of `POST /v1/affiliate/track`, parsed.
#[derive(Debug, Clone)]
pub struct TrackRequest {
    pub code: ReferralCode,
    pub url: String,
    pub visitor_id: Option<String>,
    pub referrer: Option<String>,
}

/// Records a referral click for an active partner: one read (code, settings,
/// visitor window) and one write.
pub async fn track(
    state: &AppState,
    tenant: &Tenant,
    request: TrackRequest,
) -> Result<Click, CommandError> {
    let app = &tenant.app_id;
    let clicks = state.store().clicks();
    let (target, settings, visit) = clicks
        .click_context(app, &request.code, request.visitor_id.as_deref())
        .await?;
    let target = target
        .filter(|t| t.status == AffiliateStatus::Active)
        .ok_or(CommandError::NotFound(Missing::Code))?;
    let settings =
        settings.ok_or_else(|| CommandError::NotFound(Missing::Settings(app.clone())))?;
    let now = partner_domain::now();
    let counted = match (&request.visitor_id, visit) {
        (Some(_), Some(previous)) => previous.until <= now.unix_timestamp(),
        _ => true,
    };
    let mut click = Click {
        id: ClickId::generate(),
        app_id: app.clone(),
        affiliate_id: target.affiliate_id,
        code: target.code,
        url: request.url,
        visitor_id: request.visitor_id.clone(),
        referrer: request.referrer,
        counted,
        created_at: now,
        expires_at: now + time::Duration::days(i64::from(settings.cookie_duration_days)),
    };
    let window = request
        .visitor_id
        .map(|_| ((now + VISIT_WINDOW).unix_timestamp(), visit));
    click.counted = clicks.record_click(&click, window).await?;
    Ok(click)
}
