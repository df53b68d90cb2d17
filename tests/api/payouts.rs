//! Payouts of any size: a partner with a thousand approved commissions is paid its
//! whole balance by one run, in transactions inside DynamoDB's limits, exactly
//! once — also when a run dies midway and the next one finishes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::http::Method;
use partner_domain::ledger::{CommissionId, Entry, EntryKind, EntryStatus};
use partner_domain::{AffiliateId, Currency, CustomerId, Money, RateBps};
use partner_store::{Item, Key, Page, Query, Store, StoreError, StoreResult, Table, WriteOp};
use partner_tests::{TestApp, on_both_backends};
use serde_json::{Value, json};

/// An approved partner with `count` approved commissions of 2.00 (10.00 payments
/// at 20%, one per referred buyer). The entries are stored directly (in a dozen
/// transactions rather than thousands of revenue calls): what is under test is
/// the payout run.
async fn partner_with_commissions(app: &TestApp, count: usize) -> (String, AffiliateId) {
    let (customer, affiliate) = approved_partner(app).await;
    seed(app, &customer, &affiliate, count, true).await;
    (customer, affiliate)
}

async fn approved_partner(app: &TestApp) -> (String, AffiliateId) {
    let id = app.applied("top@example.com", "Top Partner").await;
    let approved = app
        .review(&id, &json!({"action": "approve", "code": "TOP1"}))
        .await;
    assert_eq!(approved.status, 200, "{:#}", approved.body);
    let customer = approved.body["affiliate"]["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let affiliate =
        AffiliateId::parse("id", approved.body["affiliate"]["id"].as_str().unwrap()).unwrap();
    (customer, affiliate)
}

/// Stores `count` approved commissions of 2.00 for the partner; `payable: false`
/// stores them as they were before approved entries had payable items.
async fn seed(app: &TestApp, customer: &str, affiliate: &AffiliateId, count: usize, payable: bool) {
    let before = figures(app, customer).await["availableBalance"]
        .as_f64()
        .unwrap();
    let entries: Vec<Entry> = (0..count)
        .map(|n| {
            approved_entry(
                app,
                customer,
                affiliate,
                EntryKind::Commission,
                Money(200),
                &format!("in_{n}"),
            )
        })
        .collect();
    if payable {
        partner_store::testing::seed_entries(&app.store, &entries)
            .await
            .unwrap();
    } else {
        partner_store::testing::seed_entries_without_payable_items(&app.store, &entries)
            .await
            .unwrap();
    }
    assert_eq!(
        figures(app, customer).await["availableBalance"],
        json!(before + 2.0 * count as f64)
    );
}

/// An approved ledger entry of the partner, for a buyer named after the event.
fn approved_entry(
    app: &TestApp,
    customer: &str,
    affiliate: &AffiliateId,
    kind: EntryKind,
    amount: Money,
    event: &str,
) -> Entry {
    let now = partner_domain::now();
    Entry {
        id: CommissionId::generate(),
        app_id: app.app_id.clone(),
        affiliate_id: affiliate.clone(),
        affiliate_customer_id: CustomerId::parse("c", customer).unwrap(),
        customer_id: CustomerId::parse("c", &format!("buyer-{event}")).unwrap(),
        kind,
        amount,
        currency: Currency::usd(),
        revenue_amount: Money(amount.minor().abs() * 5),
        rate: RateBps(2000),
        revenue_event_id: event.to_owned(),
        status: EntryStatus::Approved,
        created_at: now,
        approves_at: now,
        payout_id: None,
    }
}

/// The partner's figures as by-customer shows them.
async fn figures(app: &TestApp, customer: &str) -> Value {
    app.get(
        &format!("/v1/affiliate/by-customer/{customer}"),
        Some(&app.api_key),
    )
    .await
    .body
}

async fn run_payouts(app: &TestApp) -> Value {
    let run = app
        .admin(
            Method::POST,
            &format!("/v1/apps/{}/affiliates/payouts", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(run.status, 201, "{:#}", run.body);
    run.body["data"].clone()
}

/// Every entry paid by one payout, the payout's amount their sum, the balance moved.
async fn assert_paid_once(app: &TestApp, customer: &str, affiliate: &AffiliateId, count: usize) {
    let listed = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/payouts", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    let payouts = listed.body["data"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{:#}", listed.body);
    let payout = &payouts[0];
    assert_eq!(payout["amount"], json!(2.0 * count as f64));
    assert_eq!(payout["commissionCount"], json!(count));
    let entries = app
        .store
        .ledger()
        .entries_of_affiliate(&app.app_id, affiliate)
        .await
        .unwrap();
    assert_eq!(entries.len(), count);
    let sum: i64 = entries.iter().map(|e| e.amount.minor()).sum();
    assert_eq!(json!(sum as f64 / 100.0), payout["amount"]);
    for entry in &entries {
        assert_eq!(entry.status, EntryStatus::Paid, "{entry:?}");
        assert_eq!(
            entry.payout_id.as_ref().map(|p| p.to_string()),
            payout["id"].as_str().map(str::to_owned)
        );
    }
    let figures = figures(app, customer).await;
    assert_eq!(figures["availableBalance"], 0.0, "{figures:#}");
    assert_eq!(figures["paidTotal"], payout["amount"]);
}

async fn one_run_pays_a_thousand_commissions_in_full_and_only_once(app: TestApp) {
    let (customer, affiliate) = partner_with_commissions(&app, 1000).await;
    let (before, started) = (app.calls(), std::time::Instant::now());
    let paid = run_payouts(&app).await;
    let calls = app.calls().since(before);
    // 1,000 entries in chunks of 49: 21 chunk transactions and the one finishing it.
    assert_eq!(calls.transactions, 22, "{calls:?}");
    eprintln!(
        "FIGURE payout run of 1,000 commissions: {calls:?} in {:?}",
        started.elapsed()
    );
    assert_eq!(paid.as_array().unwrap().len(), 1);
    assert_eq!(paid[0]["amount"], 2000.0);
    assert_paid_once(&app, &customer, &affiliate, 1000).await;
    assert_eq!(
        run_payouts(&app).await,
        json!([]),
        "a second run paid again"
    );
    assert_paid_once(&app, &customer, &affiliate, 1000).await;
}

/// A table whose transactions stop working after `allowed` of them: the process
/// running a payout dies there.
#[derive(Debug)]
struct DiesAfter {
    inner: Arc<dyn Table>,
    allowed: AtomicUsize,
}

#[async_trait]
impl Table for DiesAfter {
    async fn get(&self, key: &Key, consistent: bool) -> StoreResult<Option<Item>> {
        self.inner.get(key, consistent).await
    }
    async fn get_many(&self, keys: &[Key], consistent: bool) -> StoreResult<Vec<Option<Item>>> {
        self.inner.get_many(keys, consistent).await
    }
    async fn write(&self, op: WriteOp) -> StoreResult<Option<Item>> {
        self.inner.write(op).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let left = self.allowed.load(Ordering::SeqCst);
        if left == 0 {
            return Err(StoreError::backend(std::io::Error::other(
                "the process was killed",
            )));
        }
        self.allowed.store(left - 1, Ordering::SeqCst);
        self.inner.transact(ops).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
}

async fn a_run_killed_midway_is_finished_by_the_next_without_paying_twice(app: TestApp) {
    let count = 300;
    let (customer, affiliate) = partner_with_commissions(&app, count).await;
    // The first run dies after paying two chunks.
    let dying = Store::from_arc(Arc::new(DiesAfter {
        inner: app.store.table(),
        allowed: AtomicUsize::new(2),
    }));
    let state = partner_service::AppState::new(dying, partner_tests::test_config(), None).unwrap();
    assert!(
        partner_service::commands::payouts::create_payouts(&state, &app.app_id)
            .await
            .is_err()
    );
    let listed = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/payouts", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(
        listed.body["data"],
        json!([]),
        "a half-paid payout is listed"
    );
    let paid_so_far = figures(&app, &customer).await["paidTotal"]
        .as_f64()
        .unwrap();
    assert!(
        paid_so_far > 0.0 && paid_so_far < 2.0 * count as f64,
        "the run died midway, having paid {paid_so_far}"
    );

    let finished = run_payouts(&app).await;
    assert_eq!(finished[0]["amount"], json!(2.0 * count as f64));
    assert_paid_once(&app, &customer, &affiliate, count).await;
    assert_eq!(run_payouts(&app).await, json!([]));
}

/// A run reads the partner's payable entries, not its history; entries approved
/// before payable items existed are still found (by one walk) and paid.
async fn a_run_reads_only_what_it_pays_and_still_pays_entries_from_before(app: TestApp) {
    let (customer, affiliate) = approved_partner(&app).await;
    seed(&app, &customer, &affiliate, 150, true).await;
    run_payouts(&app).await;
    // 150 paid entries in the history, 30 new approved ones, all with payable items.
    seed(&app, &customer, &affiliate, 30, true).await;
    let before = app.calls();
    let paid = run_payouts(&app).await;
    assert_eq!(paid[0]["amount"], 60.0);
    let queries = app.calls().since(before).queries;
    // The partners page and one page of payable items; no walk over 170 entries.
    assert_eq!(queries, 2, "the run read more than it pays");

    // Entries stored before payable items existed, beside new ones.
    seed(&app, &customer, &affiliate, 30, false).await;
    seed(&app, &customer, &affiliate, 10, true).await;
    let paid = run_payouts(&app).await;
    assert_eq!(paid[0]["amount"], 80.0, "{paid:#}");
    let figures = figures(&app, &customer).await;
    assert_eq!(figures["availableBalance"], 0.0);
    assert_eq!(figures["paidTotal"], json!(2.0 * 220.0));
    assert_eq!(run_payouts(&app).await, json!([]));
}

/// An old reversal (approved before payable items existed) still comes off the
/// next payout, even when the new payable items alone add up to more.
async fn an_old_approved_reversal_comes_off_the_payout(app: TestApp) {
    let (customer, affiliate) = approved_partner(&app).await;
    let reversal = approved_entry(
        &app,
        &customer,
        &affiliate,
        EntryKind::Reversal,
        Money(-2000),
        "re_1",
    );
    partner_store::testing::seed_entries_without_payable_items(&app.store, &[reversal])
        .await
        .unwrap();
    seed(&app, &customer, &affiliate, 40, true).await;
    let paid = run_payouts(&app).await;
    assert_eq!(paid[0]["amount"], 60.0, "{paid:#}");
    assert_eq!(paid[0]["commissionCount"], 41);
    let figures = figures(&app, &customer).await;
    assert_eq!(figures["availableBalance"], 0.0, "{figures:#}");
}

on_both_backends!(
    a_run_reads_only_what_it_pays_and_still_pays_entries_from_before,
    an_old_approved_reversal_comes_off_the_payout,
    one_run_pays_a_thousand_commissions_in_full_and_only_once,
    a_run_killed_midway_is_finished_by_the_next_without_paying_twice,
);
