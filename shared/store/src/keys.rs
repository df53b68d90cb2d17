//! The whole table layout, readable in one place.
//!
//! One DynamoDB table holds every entity. Each item has `pk`/`sk`, an entity type
//! attribute `type`, and, when it must be listed, `gsi1pk`/`gsi1sk` and/or
//! `gsi2pk`/`gsi2sk`. Tenant ids lead every app-scoped key, and each entity lives in a
//! partition of its own (`APP#<app>#APL#<id>`), so no app-wide partition takes
//! per-request traffic; app-wide listings go through the sparse GSIs.
//!
//! | pk                                 | sk            | type                | gsi1pk / gsi1sk                      | gsi2pk / gsi2sk         |
//! |------------------------------------|---------------|---------------------|--------------------------------------|-------------------------|
//! | `APP#<app>`                        | `APP`         | `app`               | `APPS` / `<appId>`                   |                         |
//! | `APP#<app>`                        | `SETTINGS`    | `settings`          |                                      |                         |
//! | `APP#<app>`                        | `GROUPS`      | `groups`            | (every partner group of the app, their rules and tiers; versioned) |  |
//! | `LOGIN#<sha256>`                   | `LOGIN`       | `console_login`     | (a console login token that opened its session; TTL: the token's expiry) |  |
//! | `APIKEY#<sha256>`                  | `APIKEY`      | `api_key`           | `APP#<app>#APIKEYS` / `<keyId>`      |                         |
//! | `APP#<app>#APL#<aplId>`            | `APPLICATION` | `application`       | `APP#<app>#APLS#<status>`¹ / `<aplId>`| `APP#<app>#APLS`¹ / `<aplId>` |
//! | `APP#<app>#APLEMAIL#<email>`       | `APPLICATION` | `application_email` | (copy of the application: status by email is one read) |  |
//! | `APP#<app>#CUST#<custId>`          | `CUSTOMER`    | `customer`          |                                      |                         |
//! | `APP#<app>#CUSTEMAIL#<email>`      | `CUSTOMER`    | `customer_email`    |                                      |                         |
//! | `APP#<app>#CUST#<custId>`          | `AFFILIATE`   | `affiliate`         | `APP#<app>#AFFS`¹ / `<affId>`        |                         |
//! | `APP#<app>#CODE#<CODE>`            | `CODE`        | `code`              |                                      |                         |
//! | `APP#<app>#WHE#<wheId>`            | `WEBHOOK`     | `webhook_endpoint`  | `APP#<app>#WHES` / `<wheId>`         | (with its health: the circuit breaker's state) |
//! | `APP#<app>`                        | `WEBHOOKS#COUNT` | `webhook_endpoint_count` | (the app's endpoints, counted against `MAX_WEBHOOK_ENDPOINTS`) |  |
//! | `APP#<app>#WHD#<whdId>`            | `DELIVERY`    | `webhook_delivery`  | `APP#<app>#WHE#<wheId>#WHDS`¹ / `<whdId>` | (TTL: 30 days after the last attempt) |
//! | `APP#<app>#CLK#<clkId>`            | `CLICK`       | `click`             | (TTL: deleted after the attribution window) |                  |
//! | `APP#<app>#VISIT#<CODE>#<visitor>` | `VISIT`       | `visit`             | (a visitor's counted click of the last hour; TTL) |            |
//! | `APP#<app>#CUST#<custId>#STATS#<n>` | `STATS`      | `stats`             | (a partner's click / referral / conversion counters, 8 shards) |  |
//! | `APP#<app>#AFF#<affId>#STATS#<n>`  | `STATS`       | `stats`             | (the same counters of partners approved before they moved beside the partner; no longer written) |  |
//! | `APP#<app>#CUST#<custId>`          | `BALANCE`     | `balance`           | (a partner's balances, kept with every entry change) |         |
//! | `APP#<app>#CUST#<custId>`          | `SUMMARY#COMS`, `SUMMARY#PAYS`, `SUMMARY#DEALS` | `summary` | (a partner's latest commissions, payouts and deals, kept with every change to them; versioned) |  |
//! | `APP#<app>#CUST#<custId>`          | `REFERRAL`    | `referral`          | (who referred the customer; first attribution wins) |          |
//! | `APP#<app>#REV#<eventId>`          | `REVENUE`     | `revenue`           | (idempotency record of a revenue event; a payment's earnings and what refunds reversed of them) |  |
//! | `APP#<app>#COM#<comId>`            | `COMMISSION`  | `commission`        | `APP#<app>#AFF#<affId>#COMS` / `<comId>` | `APP#<app>#COMS`¹ / `<comId>` |
//! | `APPROVALS#<shard>`                | `<approvesAt>#<app>#<comId>` | `approval` | (pending entries by due time, for the approver) |       |
//! | `APP#<app>#PAY#<payId>`            | `PAYOUT`      | `payout`            | `APP#<app>#AFF#<affId>#PAYS` / `<payId>` | `APP#<app>#PAYS` / `<payId>` |
//! | `APP#<app>#CUST#<custId>`          | `OPENPAYOUT`  | `open_payout`       | (a payout run's progress for a partner, until it finishes) |  |
//! | `APP#<app>#CUST#<custId>`          | `PAYABLE#<comId>` | `payable`       | (an approved, unpaid entry of the partner: what a payout reads) |  |
//! | `APP#<app>#PRUN#<runId>`           | `PAYOUTRUN`   | `payout_run`        | (a payout run and its progress) |  |
//! | `APP#<app>`                        | `PAYOUTRUN#ACTIVE` | `payout_run_lock` | (the app's running run: one at a time) |  |
//! | `PAYOUTRUNS#RUNNING`               | `<app>#<runId>` | `running_payout_run` | (every running run: what the payout runner reads) |  |
//! | `APP#<app>#DEAL#<dealId>`          | `DEAL`        | `deal`              | `APP#<app>#AFF#<affId>#DEALS` / `<dealId>` | `APP#<app>#DEALS` / `<dealId>` |
//! | `APP#<app>#LEAD#<email>`           | `LEAD`        | `lead`              | (one deal per lead email per app)        |                     |
//! | `APP#<app>#AFF#<affId>`            | `OPENDEALS`   | `open_deals`        | (a partner's open deals, counted against `maxOpenDeals`) |      |
//! | `APP#<app>#EVT#<evtId>`            | `EVENT`       | `event`             | `OUTBOX#<shard>` / `<evtId>` while unpublished |               |
//! | `APP#<app>#AUDIT#<audId>`          | `AUDIT`       | `audit_entry`       | `APP#<app>#AUDIT`¹ / `<audId>`       | `APP#<app>#AUDITBY#<actor>`¹ / `<audId>` (TTL: 400 days) |
//! | `RATE#<subject>#<window>`          | `RATE`        | `rate_counter`      | (requests in one minute: a rate limit's counter; TTL) |        |
//! | `APP#<app>`                        | `INTEGRATION#STRIPE` | `stripe_integration` | (the Stripe connection: signing secret, mode) |          |
//! | `APP#<app>#STRIPEEVT#<evtId>`      | `STRIPE_EVENT` | `stripe_event`     | `APP#<app>#STRIPEEVTS`¹ / `<receivedMs>#<evtId>` | (TTL: 90 days; each event handled once) |
//! | `APP#<app>#STRIPELINK#<cus or pi>` | `STRIPE_LINK` | `stripe_link`       | (a Stripe customer or payment → the app's customer id, the untaxed share of its payment) | |
//! | `APP#<app>#STRIPEPROMO#<promoId>`  | `STRIPE_PROMOTION_CODE` | `stripe_promotion_code` | (a promotion code linked to a partner's code) |  |
//! | `APP#<app>#STRIPECHARGE#<chId>`    | `STRIPE_CHARGE` | `stripe_charge`   | (what of a charge was refunded so far)   |                     |
//!
//! ¹ Spread over [`LISTING_SHARDS`] partitions (see [`Listing`]): shard 0 is the
//! name shown, shard `n` is `APP#<app>#<n>#…`.
//!
//! Marker items (`APLEMAIL`, `CUSTEMAIL`, `CODE`) enforce uniqueness: they are written
//! with a not-exists condition in the same transaction as the entity they guard.
//! Counter items (`OPENDEALS`, `WEBHOOKS#COUNT`) enforce limits the same way, with a
//! below-the-limit condition.
//!
//! Events are written as outbox items in the transaction of the change that caused
//! them. While unpublished they sit in one of a few `OUTBOX#<shard>` GSI partitions
//! (sorted by their time-ordered id, so "older than a minute" is a key range); marking
//! one published removes its index keys, and a TTL deletes it a week later.
//!
//! Audit entries are written in the transaction of the change they describe, like
//! events; the app's log and each actor's are GSI partitions sorted by the entries'
//! time-ordered ids.

use partner_domain::audit::{Actor, AuditId};
use partner_domain::deals::DealId;
use partner_domain::ledger::{ClickId, CommissionId, PayoutId, PayoutRunId};
use partner_domain::records::ApplicationStatus;
use partner_domain::stripe::StripeId;
use partner_domain::{
    AffiliateId, AppId, ApplicationId, CustomerId, DeliveryId, Email, EventId, ReferralCode,
    WebhookEndpointId,
};

use crate::Key;

/// Attribute names shared by every item.
pub mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1_PK: &str = "gsi1pk";
    pub const GSI1_SK: &str = "gsi1sk";
    pub const GSI2_PK: &str = "gsi2pk";
    pub const GSI2_SK: &str = "gsi2sk";
    /// The entity type of an item, for humans reading the table and for exports.
    pub const TYPE: &str = "type";
    /// Epoch seconds after which DynamoDB may delete the item (time to live).
    pub const TTL: &str = "ttl";
    /// Every key attribute, in the order a cursor records them.
    pub const KEYS: [&str; 6] = [PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK];
}

/// What the table looks like; `dynamo::create_table`, the SQLite schema and
/// `template.yaml` all follow this (a test compares the template with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// (index name, partition key attribute, sort key attribute); projection ALL.
    pub global_indexes: [(&'static str, &'static str, &'static str); 2],
    pub ttl_attribute: &'static str,
}

pub const SCHEMA: TableSchema = TableSchema {
    partition_key: attr::PK,
    sort_key: attr::SK,
    global_indexes: [
        ("gsi1", attr::GSI1_PK, attr::GSI1_SK),
        ("gsi2", attr::GSI2_PK, attr::GSI2_SK),
    ],
    ttl_attribute: attr::TTL,
};

pub mod entity;

/// How many GSI partitions each busy app-wide listing is spread over.
pub const LISTING_SHARDS: u8 = 4;

/// An app-wide listing that takes writes at the app's request rate (applications,
/// partners, commissions, the audit log, Stripe events), spread over
/// [`LISTING_SHARDS`] GSI partitions so that one app's traffic is not capped by
/// what one partition takes. Shard 0 is the listing's unsharded name (where items
/// written before sharding stay); shard `n` puts its number after the app
/// (`APP#<app>#<n>#AUDIT`), where no other key has a digit. An item's shard is
/// picked by its id, so a lookup by id reads one partition; a listing reads all of
/// them and merges ([`crate::Store::query_listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    app: AppId,
    rest: String,
}

impl Listing {
    fn new(app: &AppId, rest: String) -> Self {
        Self {
            app: app.clone(),
            rest,
        }
    }

    fn shard(&self, shard: u8) -> String {
        match shard {
            0 => format!("APP#{}#{}", self.app, self.rest),
            n => format!("APP#{}#{n}#{}", self.app, self.rest),
        }
    }

    /// The partition an item with this id is listed in: its id's last character
    /// (random in a ULID) picks the shard.
    pub fn partition_of(&self, id: &str) -> String {
        self.shard(id.bytes().last().unwrap_or(0) % LISTING_SHARDS)
    }

    /// Every partition of the listing.
    pub fn partitions(&self) -> Vec<String> {
        (0..LISTING_SHARDS).map(|n| self.shard(n)).collect()
    }
}

/// The GSI1 partition listing every app (apps are few and rarely written).
pub const ALL_APPS: &str = "APPS";

pub fn app(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "APP")
}

/// Every partner group of an app, in one bounded item beside its settings, so the
/// paths that need a partner's terms read them in the batch they make anyway.
pub fn groups(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "GROUPS")
}

pub fn settings(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "SETTINGS")
}

/// A login token that has opened a console session (the SHA-256 of its signed
/// part), so it opens no other, for any app; kept until the token expires.
pub fn console_login(token_hash: &str) -> Key {
    Key::new(format!("LOGIN#{token_hash}"), "LOGIN")
}

/// API keys are found by the hash of the presented secret, with no app in hand yet.
pub fn api_key(hash_hex: &str) -> Key {
    Key::new(format!("APIKEY#{hash_hex}"), "APIKEY")
}

pub fn api_keys_of_app(app: &AppId) -> String {
    format!("APP#{app}#APIKEYS")
}

pub fn application(app: &AppId, id: &ApplicationId) -> Key {
    Key::new(format!("APP#{app}#APL#{id}"), "APPLICATION")
}

pub fn application_by_email(app: &AppId, email: &Email) -> Key {
    Key::new(format!("APP#{app}#APLEMAIL#{email}"), "APPLICATION")
}

pub fn applications_with_status(app: &AppId, status: ApplicationStatus) -> Listing {
    Listing::new(app, format!("APLS#{}", status.as_str()))
}

pub fn applications_of_app(app: &AppId) -> Listing {
    Listing::new(app, "APLS".into())
}

pub fn customer(app: &AppId, id: &CustomerId) -> Key {
    Key::new(format!("APP#{app}#CUST#{id}"), "CUSTOMER")
}

pub fn customer_by_email(app: &AppId, email: &Email) -> Key {
    Key::new(format!("APP#{app}#CUSTEMAIL#{email}"), "CUSTOMER")
}

/// The partner record lives beside its customer, so by-customer is one read.
pub fn affiliate_of_customer(app: &AppId, customer: &CustomerId) -> Key {
    Key::new(format!("APP#{app}#CUST#{customer}"), "AFFILIATE")
}

pub fn affiliates_of_app(app: &AppId) -> Listing {
    Listing::new(app, "AFFS".into())
}

pub fn webhook_endpoint(app: &AppId, id: &WebhookEndpointId) -> Key {
    Key::new(format!("APP#{app}#WHE#{id}"), "WEBHOOK")
}

pub fn webhook_endpoints_of_app(app: &AppId) -> String {
    format!("APP#{app}#WHES")
}

/// How many webhook endpoints the app has: the guard of `MAX_WEBHOOK_ENDPOINTS`.
/// Written only when an endpoint is created or deleted, so the app's own partition
/// takes no delivery traffic from it.
pub fn webhook_endpoint_count(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "WEBHOOKS#COUNT")
}

pub fn webhook_delivery(app: &AppId, id: &DeliveryId) -> Key {
    Key::new(format!("APP#{app}#WHD#{id}"), "DELIVERY")
}

/// An endpoint's delivery log: every event of the app it subscribes to is written
/// here, so it is spread like the app-wide listings (by the event's id).
pub fn deliveries_of_endpoint(app: &AppId, endpoint: &WebhookEndpointId) -> Listing {
    Listing::new(app, format!("WHE#{endpoint}#WHDS"))
}

pub fn click(app: &AppId, id: &ClickId) -> Key {
    Key::new(format!("APP#{app}#CLK#{id}"), "CLICK")
}

pub fn visit(app: &AppId, code: &ReferralCode, visitor: &str) -> Key {
    Key::new(
        format!("APP#{app}#VISIT#{}#{visitor}", code.canonical()),
        "VISIT",
    )
}

/// Counters are spread over this many items per partner, so a popular partner's
/// clicks do not all update one item.
pub const STATS_SHARDS: u8 = 8;

/// A partner's counters, keyed by its customer id like the rest of its dashboard,
/// so they are read in the dashboard's one batch.
pub fn stats(app: &AppId, partner_customer: &CustomerId, shard: u8) -> Key {
    Key::new(
        format!("APP#{app}#CUST#{partner_customer}#STATS#{shard}"),
        "STATS",
    )
}

/// Where the counters of partners approved before they moved beside the partner's
/// customer id were kept: read (and added) for those partners, never written.
pub fn legacy_stats(app: &AppId, affiliate: &AffiliateId, shard: u8) -> Key {
    Key::new(format!("APP#{app}#AFF#{affiliate}#STATS#{shard}"), "STATS")
}

/// One list of a partner's summary (`COMS`, `PAYS` or `DEALS`: its latest
/// commissions, payouts or deals), beside its balance: what its dashboard lists.
pub fn summary(app: &AppId, partner_customer: &CustomerId, part: &str) -> Key {
    Key::new(
        format!("APP#{app}#CUST#{partner_customer}"),
        format!("SUMMARY#{part}"),
    )
}

/// Beside the partner record (keyed by the partner's customer id), so by-customer
/// reads both in one round trip.
pub fn balance(app: &AppId, partner_customer: &CustomerId) -> Key {
    Key::new(format!("APP#{app}#CUST#{partner_customer}"), "BALANCE")
}

pub fn referral(app: &AppId, customer: &CustomerId) -> Key {
    Key::new(format!("APP#{app}#CUST#{customer}"), "REFERRAL")
}

pub fn revenue(app: &AppId, event_id: &str) -> Key {
    Key::new(format!("APP#{app}#REV#{event_id}"), "REVENUE")
}

pub fn entry(app: &AppId, id: &CommissionId) -> Key {
    Key::new(format!("APP#{app}#COM#{id}"), "COMMISSION")
}

pub fn entries_of_affiliate(app: &AppId, affiliate: &AffiliateId) -> String {
    format!("APP#{app}#AFF#{affiliate}#COMS")
}

pub fn entries_of_app(app: &AppId) -> Listing {
    Listing::new(app, "COMS".into())
}

/// Pending entries wait in one of these partitions, sorted by when they are due.
pub const APPROVAL_SHARDS: u8 = 4;

pub fn approval_shard(shard: u8) -> String {
    format!("APPROVALS#{shard}")
}

pub fn approval(app: &AppId, id: &CommissionId, due: &str) -> Key {
    let shard = id.as_str().bytes().last().unwrap_or(0) % APPROVAL_SHARDS;
    Key::new(approval_shard(shard), format!("{due}#{app}#{id}"))
}

/// Sort-key prefix of a partner's payable entries, beside its balance.
pub const PAYABLE_PREFIX: &str = "PAYABLE#";

/// An approved, unpaid entry of a partner: one small item per entry in the
/// partner's partition, so a payout reads what it pays and nothing else.
pub fn payable(app: &AppId, partner_customer: &CustomerId, entry: &CommissionId) -> Key {
    Key::new(
        format!("APP#{app}#CUST#{partner_customer}"),
        format!("{PAYABLE_PREFIX}{entry}"),
    )
}

/// The partition a partner's payable entries live in.
pub fn partner_partition(app: &AppId, partner_customer: &CustomerId) -> String {
    format!("APP#{app}#CUST#{partner_customer}")
}

/// A payout run's progress for a partner, beside its balance.
pub fn open_payout(app: &AppId, partner_customer: &CustomerId) -> Key {
    Key::new(format!("APP#{app}#CUST#{partner_customer}"), "OPENPAYOUT")
}

pub fn payout(app: &AppId, id: &PayoutId) -> Key {
    Key::new(format!("APP#{app}#PAY#{id}"), "PAYOUT")
}

pub fn payout_run(app: &AppId, id: &PayoutRunId) -> Key {
    Key::new(format!("APP#{app}#PRUN#{id}"), "PAYOUTRUN")
}

/// Held while a run of the app is running: one run at a time per app.
pub fn payout_run_lock(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "PAYOUTRUN#ACTIVE")
}

/// The partition listing every running run, which the payout runner reads. Runs
/// are few (one per app at a time) and short-lived, so one partition holds them.
pub const RUNNING_RUNS: &str = "PAYOUTRUNS#RUNNING";

pub fn running_run(app: &AppId, id: &PayoutRunId) -> Key {
    Key::new(RUNNING_RUNS, format!("{app}#{id}"))
}

pub fn payouts_of_affiliate(app: &AppId, affiliate: &AffiliateId) -> String {
    format!("APP#{app}#AFF#{affiliate}#PAYS")
}

pub fn payouts_of_app(app: &AppId) -> String {
    format!("APP#{app}#PAYS")
}

/// How many deals of a partner are open (pending or accepted): the guard of the
/// program's `maxOpenDeals`.
pub fn open_deals(app: &AppId, affiliate: &AffiliateId) -> Key {
    Key::new(format!("APP#{app}#AFF#{affiliate}"), "OPENDEALS")
}

/// A rate limit's counter for one subject (what is counted: an app's IP, a key)
/// in the window starting at `window` (Unix seconds). Each window is its own
/// partition, so a busy subject's counters do not pile up in one.
pub fn rate_counter(subject: &str, window: i64) -> Key {
    Key::new(format!("RATE#{subject}#{window}"), "RATE")
}

pub fn deal(app: &AppId, id: &DealId) -> Key {
    Key::new(format!("APP#{app}#DEAL#{id}"), "DEAL")
}

pub fn lead(app: &AppId, email: &Email) -> Key {
    Key::new(format!("APP#{app}#LEAD#{email}"), "LEAD")
}

pub fn deals_of_affiliate(app: &AppId, affiliate: &AffiliateId) -> String {
    format!("APP#{app}#AFF#{affiliate}#DEALS")
}

pub fn deals_of_app(app: &AppId) -> String {
    format!("APP#{app}#DEALS")
}

/// How many GSI partitions unpublished events are spread over.
pub const OUTBOX_SHARDS: u8 = 4;

pub fn event(app: &AppId, id: &EventId) -> Key {
    Key::new(format!("APP#{app}#EVT#{id}"), "EVENT")
}

/// The unpublished-outbox partition of an event: its id's last character picks one.
pub fn outbox_shard_of(id: &EventId) -> String {
    let last = id.as_str().bytes().last().unwrap_or(0);
    outbox_shard(last % OUTBOX_SHARDS)
}

pub fn outbox_shard(shard: u8) -> String {
    format!("OUTBOX#{shard}")
}

pub fn audit_entry(app: &AppId, id: &AuditId) -> Key {
    Key::new(format!("APP#{app}#AUDIT#{id}"), "AUDIT")
}

/// The app's audit log, newest first by id.
pub fn audit_log_of_app(app: &AppId) -> Listing {
    Listing::new(app, "AUDIT".into())
}

/// One actor's entries in the app's audit log (the `actor` filter is one query).
pub fn audit_log_of_actor(app: &AppId, actor: &Actor) -> Listing {
    Listing::new(app, format!("AUDITBY#{actor}"))
}

pub fn stripe_integration(app: &AppId) -> Key {
    Key::new(format!("APP#{app}"), "INTEGRATION#STRIPE")
}

/// A received Stripe event: its log entry, and the marker that it was handled.
pub fn stripe_event(app: &AppId, id: &StripeId) -> Key {
    Key::new(format!("APP#{app}#STRIPEEVT#{id}"), "STRIPE_EVENT")
}

/// The app's received Stripe events, sorted by when they arrived.
pub fn stripe_events_of_app(app: &AppId) -> Listing {
    Listing::new(app, "STRIPEEVTS".into())
}

/// What a Stripe customer (`cus_…`) or PaymentIntent (`pi_…`) is linked to.
pub fn stripe_link(app: &AppId, id: &StripeId) -> Key {
    Key::new(format!("APP#{app}#STRIPELINK#{id}"), "STRIPE_LINK")
}

pub fn stripe_promotion_code(app: &AppId, id: &StripeId) -> Key {
    Key::new(
        format!("APP#{app}#STRIPEPROMO#{id}"),
        "STRIPE_PROMOTION_CODE",
    )
}

pub fn stripe_charge(app: &AppId, id: &StripeId) -> Key {
    Key::new(format!("APP#{app}#STRIPECHARGE#{id}"), "STRIPE_CHARGE")
}

pub fn referral_code(app: &AppId, code: &ReferralCode) -> Key {
    Key::new(format!("APP#{app}#CODE#{}", code.canonical()), "CODE")
}

#[cfg(test)]
mod tests;
