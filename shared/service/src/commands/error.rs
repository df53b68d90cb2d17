//! Why a command refused, in the program's words. Commands know nothing of HTTP:
//! `problem.rs` maps each variant to its status, code and field, once.

use partner_domain::AppId;
use partner_domain::deals::DealStatus;
use partner_domain::ledger::PayoutRunId;
use partner_domain::rate_limit::Exceeded;
use partner_store::StoreError;
use partner_store::repo::applications::ReviewError;
use partner_store::repo::clicks::ClickError;
use partner_store::repo::deals::DealError;
use partner_store::repo::ledger::EarningsError;
use partner_store::repo::webhooks::EndpointError;

/// What a command looked for and did not find in the caller's app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The app has no program settings (it was never created, or was deleted).
    Settings(AppId),
    /// No active partner has the referral code.
    Code,
    Click,
    Payout,
    /// The payment a refund names was not recorded for the customer.
    Payment,
    Group,
    Deal,
    Application,
    ApiKey,
    /// The customer is not a partner of the app.
    Partner,
    PayoutRun,
    /// The app has not connected Stripe.
    StripeIntegration,
}

/// The field of the request a self-referral was recognised by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfReferralBy {
    CustomerId,
    Email,
}

/// A command's refusal. Each variant is one outcome a client can act on; `Store`
/// and `Internal` are failures of ours or of the database.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("not found: {0:?}")]
    NotFound(Missing),
    #[error("the click's attribution window has passed")]
    AttributionExpired,
    #[error("a partner cannot refer itself")]
    SelfReferral(SelfReferralBy),
    #[error("the customer is already attributed to a partner")]
    AlreadyReferred,
    #[error("concurrent revenue events of the customer kept colliding")]
    RevenueCollided,
    /// A payment of a customer not attributed yet, which waits for its attribution
    /// (nothing was written; the sender retries).
    #[error("the customer's attribution has not arrived yet")]
    AttributionPending,
    /// A write the caller added to the command's transaction found its condition
    /// false: another call did the same thing first, and this one changed nothing.
    #[error("another call did this first")]
    DoneMeanwhile,
    #[error("the payout is already marked paid")]
    PayoutAlreadyPaid,
    #[error("the partner is suspended")]
    PartnerSuspended,
    #[error("the lead cannot be registered")]
    LeadTaken,
    #[error("the deal changed meanwhile")]
    DealChanged,
    /// The partner has the program's `maxOpenDeals` open deals.
    #[error("the partner has {0} open deals, the most the program allows")]
    TooManyOpenDeals(u32),
    #[error("a {} deal cannot become {}", from.as_str(), to.as_str())]
    InvalidTransition { from: DealStatus, to: DealStatus },
    #[error("the application has already been reviewed")]
    AlreadyReviewed,
    #[error("the approval kept colliding with concurrent changes")]
    ApprovalCollided,
    #[error("the referral code is already used in this app")]
    CodeTaken,
    #[error("another group of the app has this slug")]
    GroupSlugTaken,
    /// The app has [`partner_domain::rewards::MAX_GROUPS`] groups.
    #[error("the app has the most groups allowed")]
    TooManyGroups,
    #[error("the app's groups kept changing concurrently")]
    GroupsCollided,
    #[error("the customer account is already a partner")]
    CustomerAlreadyPartner,
    #[error("the currency cannot change once commissions exist")]
    CurrencyLocked,
    /// The app has the operator's `MAX_WEBHOOK_ENDPOINTS` webhook endpoints.
    #[error("the app has {0} webhook endpoints, the most allowed")]
    TooManyEndpoints(u32),
    /// The app's running run, if it could be read.
    #[error("a payout run of the app is running")]
    RunInProgress(Option<PayoutRunId>),
    /// The client is over one of its rate limits; nothing was written.
    #[error("over the {} rate limit", .0.policy.as_str())]
    RateLimited(Exceeded),
    /// A delivery to the Stripe endpoint whose signature does not hold.
    #[error("the Stripe signature does not hold: {0}")]
    BadSignature(partner_domain::stripe::SignatureError),
    /// A signed Stripe event that is not one (only Stripe can send it).
    #[error("invalid Stripe event: {0}")]
    InvalidEvent(partner_domain::FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule of the store broken in a way no caller can cause: our bug.
    #[error("internal: {0}")]
    Internal(String),
}

impl CommandError {
    /// Whether this is a failure of ours or of a dependency, not the caller's.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Internal(_))
    }
}

impl From<EarningsError> for CommandError {
    fn from(err: EarningsError) -> Self {
        match err {
            EarningsError::Store(err) => Self::Store(err),
            EarningsError::AlreadyReferred => Self::AlreadyReferred,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<ClickError> for CommandError {
    fn from(err: ClickError) -> Self {
        match err {
            ClickError::Limited(exceeded) => Self::RateLimited(exceeded),
            ClickError::Store(err) => Self::Store(err),
        }
    }
}

impl From<DealError> for CommandError {
    fn from(err: DealError) -> Self {
        match err {
            DealError::LeadTaken => Self::LeadTaken,
            DealError::Changed => Self::DealChanged,
            DealError::TooManyOpen { limit } => Self::TooManyOpenDeals(limit),
            DealError::Store(err) => Self::Store(err),
        }
    }
}

impl From<EndpointError> for CommandError {
    fn from(err: EndpointError) -> Self {
        match err {
            EndpointError::TooMany { limit } => Self::TooManyEndpoints(limit),
            EndpointError::Store(err) => Self::Store(err),
        }
    }
}

impl From<ReviewError> for CommandError {
    fn from(err: ReviewError) -> Self {
        match err {
            ReviewError::NotPending => Self::AlreadyReviewed,
            ReviewError::CodeTaken => Self::CodeTaken,
            ReviewError::AlreadyPartner => Self::CustomerAlreadyPartner,
            ReviewError::CustomerExists => Self::ApprovalCollided,
            ReviewError::Store(err) => Self::Store(err),
        }
    }
}
