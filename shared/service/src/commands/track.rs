//! Tracking a referral click.

use partner_domain::AppId;
use partner_domain::ReferralCode;
use partner_domain::ledger::{Click, ClickId};
use partner_domain::rate_limit::Policy;
use partner_domain::records::{AffiliateStatus, ProgramSettings};
use partner_store::repo::clicks::{ClickContext, ClickContextRecords, CodeTarget};
use partner_store::repo::rate_limits::Guard;

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
/// visitor window) and one write. `client` is what the app's `trackPerIp` limit
/// counts the request by (web pages' requests): counted in the click's write, or
/// with a write of its own when the code is unknown, so guessing codes counts too.
pub async fn track(
    state: &AppState,
    tenant: &Tenant,
    request: TrackRequest,
    client: Option<String>,
) -> Result<Click, CommandError> {
    let context = state
        .store()
        .read(&context(&tenant.app_id, &request))
        .await?;
    track_with(state, tenant, request, client, context).await
}

/// The read a click needs (the code's partner, the settings, the visitor's
/// window): one batch, which can ride with the key's lookup.
pub fn context(app: &AppId, request: &TrackRequest) -> ClickContext {
    ClickContext::new(app, &request.code, request.visitor_id.as_deref())
}

/// [`track`] with its [`context`] already read: one write.
pub async fn track_with(
    state: &AppState,
    tenant: &Tenant,
    request: TrackRequest,
    client: Option<String>,
    (target, settings, visit): ClickContextRecords,
) -> Result<Click, CommandError> {
    let app = &tenant.app_id;
    let clicks = state.store().clicks();
    let settings =
        settings.ok_or_else(|| CommandError::NotFound(Missing::Settings(app.clone())))?;
    let guard = client.map(|client| {
        Guard::per_ip(
            Policy::Track,
            app,
            &client,
            settings.rate_limits.track_per_ip,
        )
    });
    let Some(target) = target.filter(|t| t.status == AffiliateStatus::Active) else {
        state
            .store()
            .rate_limits()
            .count_refused(guard.as_ref())
            .await?
            .map_err(CommandError::RateLimited)?;
        return Err(CommandError::NotFound(Missing::Code));
    };
    let now = partner_domain::now();
    let counted = match (&request.visitor_id, visit) {
        (Some(_), Some(previous)) => previous.until <= now.unix_timestamp(),
        _ => true,
    };
    let mut click = Click {
        id: ClickId::generate(),
        app_id: app.clone(),
        affiliate_id: target.affiliate_id.clone(),
        code: target.code.clone(),
        url: request.url,
        visitor_id: request.visitor_id.clone(),
        referrer: request.referrer,
        counted,
        created_at: now,
        expires_at: now
            + time::Duration::days(i64::from(
                window_days(state, app, &target, &settings).await?,
            )),
    };
    let window = request
        .visitor_id
        .map(|_| ((now + VISIT_WINDOW).unix_timestamp(), visit));
    click.counted = clicks
        .record_click(&click, &target.customer_id, window, guard.as_ref())
        .await?;
    Ok(click)
}

/// The attribution window of the partner's clicks: its group's, else the
/// program's. Only a partner in a group costs a read (of the app's groups).
async fn window_days(
    state: &AppState,
    app: &AppId,
    target: &CodeTarget,
    settings: &ProgramSettings,
) -> Result<u32, CommandError> {
    let Some(group) = &target.group_id else {
        return Ok(settings.cookie_duration_days);
    };
    let groups = state.store().groups().all(app).await?;
    Ok(groups
        .find(group)
        .and_then(|g| g.cookie_duration_days)
        .unwrap_or(settings.cookie_duration_days))
}
