//! Program operations from the command line: review applications, list partners,
//! run payouts. They go through the same commands as the admin API, so the same
//! rules hold and the same events are recorded: the outbox keeps them until a
//! relay publishes them (`partnerctl serve` relays every few seconds, a
//! deployment's outbox relay on its schedule), and webhooks follow.

use clap::Subcommand;
use partner_domain::audit::Actor;
use partner_domain::records::ApplicationStatus;
use partner_domain::{Amount, AppId, ApplicationId, ReferralCode};
use partner_service::AppState;
use partner_service::commands::review::{self, Decision};
use partner_service::commands::{CommandError, payout_runs};
use partner_service::config::{Config, StoreConfig};
use partner_service::views::AffiliateView;
use partner_service::views::applications::{ApplicationView, ApprovedPartnerView};
use partner_service::views::ledger::PayoutRunView;
use serde_json::json;

use crate::{CliError, print};

/// Who the command line is in the audit log and in the admin tokens it mints: an
/// admin named `partnerctl` (`admin:partnerctl`).
pub(crate) const OPERATOR: &str = "partnerctl";

pub(crate) fn operator() -> Actor {
    Actor::admin(OPERATOR)
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApplicationsCommand {
    /// An app's applications, newest first.
    List {
        #[arg(long)]
        app: String,
        /// pending, approved or rejected.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve an application (with a code, or one made from the applicant's name).
    Approve {
        #[arg(long)]
        app: String,
        id: String,
        #[arg(long)]
        code: Option<String>,
    },
    /// Reject an application (with an optional reason the applicant sees).
    Reject {
        #[arg(long)]
        app: String,
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PartnersCommand {
    /// An app's partners, newest first.
    List {
        #[arg(long)]
        app: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PayoutsCommand {
    /// Run a payout run to its end here: every partner whose available balance
    /// reaches the program's minimum is paid it.
    Run {
        #[arg(long)]
        app: String,
    },
}

/// What these commands run on: the store, with no bus (events wait in the outbox
/// for a relay) and no secrets (they mint no tokens).
async fn state(store_config: &StoreConfig) -> Result<AppState, CliError> {
    let config = Config::from_env_with_store(store_config.clone())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let store = crate::open_store(&config.store).await?;
    AppState::new(store, config, None).map_err(|e| CliError::Usage(e.to_string()))
}

/// Every item of a listing, page after page (`page` answers one page and the
/// cursor of the next).
async fn every_page<T, F, Fut>(mut page: F) -> Result<Vec<T>, CliError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = partner_store::StoreResult<(Vec<T>, Option<String>)>>,
{
    let (mut all, mut cursor) = (Vec::new(), None);
    loop {
        let (items, next) = page(cursor).await?;
        all.extend(items);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

fn usage<E: std::fmt::Display>(err: E) -> CliError {
    CliError::Usage(err.to_string())
}

fn failed(err: CommandError) -> CliError {
    CliError::Usage(partner_service::ApiError::from(err).detail().to_owned())
}

pub(crate) async fn applications(
    command: ApplicationsCommand,
    store_config: &StoreConfig,
    json_output: bool,
) -> Result<(), CliError> {
    let state = state(store_config).await?;
    match command {
        ApplicationsCommand::List { app, status } => {
            let app = AppId::parse("app", &app).map_err(usage)?;
            let status = match status.as_deref() {
                None => None,
                Some("pending") => Some(ApplicationStatus::Pending),
                Some("approved") => Some(ApplicationStatus::Approved),
                Some("rejected") => Some(ApplicationStatus::Rejected),
                Some(other) => {
                    return Err(usage(format!(
                        "--status {other}: must be pending, approved or rejected"
                    )));
                }
            };
            let applications = state.store().applications();
            let all = every_page(|cursor| applications.list(&app, status, 100, cursor)).await?;
            let text = all
                .iter()
                .map(|a| {
                    format!(
                        "{}  {:<8}  {}  {}",
                        a.id,
                        a.status.as_str(),
                        a.form.email.as_str(),
                        a.form.name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let views: Vec<ApplicationView> = all.into_iter().map(ApplicationView::from).collect();
            print(json_output, json!(views), text);
        }
        ApplicationsCommand::Approve { app, id, code } => {
            let code = code
                .as_deref()
                .map(|c| ReferralCode::parse("code", c))
                .transpose()
                .map_err(usage)?;
            review_one(&state, &app, &id, Decision::Approve { code }, json_output).await?;
        }
        ApplicationsCommand::Reject { app, id, reason } => {
            let reason = partner_domain::text::optional_text("reason", reason.as_deref(), 1000)
                .map_err(usage)?;
            review_one(&state, &app, &id, Decision::Reject { reason }, json_output).await?;
        }
    }
    Ok(())
}

async fn review_one(
    state: &AppState,
    app: &str,
    id: &str,
    decision: Decision,
    json_output: bool,
) -> Result<(), CliError> {
    let app = AppId::parse("app", app).map_err(usage)?;
    let id = ApplicationId::parse("id", id).map_err(usage)?;
    let reviewed = review::review(state, &app, &id, decision, &operator())
        .await
        .map_err(failed)?;
    let text = match &reviewed.affiliate {
        Some(partner) => format!(
            "{} approved: partner {} with code {}",
            reviewed.application.id, partner.id, partner.code
        ),
        None => format!("{} rejected", reviewed.application.id),
    };
    let affiliate = reviewed.affiliate.map(ApprovedPartnerView::from);
    let application = ApplicationView::from(reviewed.application);
    print(
        json_output,
        json!({"application": application, "affiliate": affiliate}),
        text,
    );
    Ok(())
}

pub(crate) async fn partners(
    command: PartnersCommand,
    store_config: &StoreConfig,
    json_output: bool,
) -> Result<(), CliError> {
    let state = state(store_config).await?;
    let PartnersCommand::List { app } = command;
    let app = AppId::parse("app", &app).map_err(usage)?;
    let affiliates = state.store().affiliates();
    let all = every_page(|cursor| affiliates.list(&app, 100, cursor)).await?;
    let text = all
        .iter()
        .map(|p| {
            format!(
                "{}  {:<18}  {:<9}  {}",
                p.id,
                p.code,
                p.status.as_str(),
                p.customer_id
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let views: Vec<AffiliateView> = all.into_iter().map(AffiliateView::from).collect();
    print(json_output, json!(views), text);
    Ok(())
}

pub(crate) async fn payouts(
    command: PayoutsCommand,
    store_config: &StoreConfig,
    json_output: bool,
) -> Result<(), CliError> {
    let state = state(store_config).await?;
    let PayoutsCommand::Run { app } = command;
    let app = AppId::parse("app", &app).map_err(usage)?;
    let run = payout_runs::start_run(&state, &app, operator())
        .await
        .map_err(failed)?;
    loop {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        payout_runs::work_runs(&state, deadline)
            .await
            .map_err(failed)?;
        let now = payout_runs::get_run(&state, &app, &run.id)
            .await
            .map_err(failed)?;
        if now.status != partner_domain::ledger::PayoutRunStatus::Running {
            let text = format!(
                "payout run {} {}: {} partners, {} payouts, {} {}",
                now.id,
                now.status.as_str(),
                now.partners_done,
                now.payouts,
                Amount::new(now.amount, &now.currency).fixed(),
                now.currency.as_str().to_uppercase()
            );
            print(json_output, json!(PayoutRunView::from(&now)), text);
            return Ok(());
        }
    }
}
