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
        rule_id: None,
        tier: None,
        product_id: None,
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

/// The payouts one payout run made, as the API lists them.
async fn run_payouts(app: &TestApp) -> Value {
    Value::Array(app.run_payouts().await.payouts)
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
    // The run's start; 1,000 entries in chunks of 49: 21 chunk transactions and the
    // one finishing the payout; the run's end.
    assert_eq!(calls.transactions, 1 + 22 + 1, "{calls:?}");
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
    let payouts_path = format!("/v1/apps/{}/affiliates/payouts", app.app_id);
    let started = app
        .admin(Method::POST, &payouts_path, Some(&app.admin_token()), None)
        .await;
    assert_eq!(started.status, 202, "{:#}", started.body);
    assert!(
        payout_runner::handle(&state, std::time::Duration::from_secs(600))
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

    // A second run cannot start while the first is unfinished.
    app.admin(Method::POST, &payouts_path, Some(&app.admin_token()), None)
        .await
        .assert_problem(409, "payout_run_in_progress");
    // The runner's next invocation finishes the run the dead one left.
    partner_tests::run_payout_runner(&app.state).await;
    let run_id = started.body["id"].as_str().unwrap();
    let finished = app
        .admin(
            Method::GET,
            &format!("{payouts_path}/runs/{run_id}"),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(finished.body["status"], "completed", "{:#}", finished.body);
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
    let started = app
        .admin(
            Method::POST,
            &format!("/v1/apps/{}/affiliates/payouts", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await;
    assert_eq!(started.status, 202, "{:#}", started.body);
    let before = app.calls();
    partner_tests::run_payout_runner(&app.state).await;
    let queries = app.calls().since(before).queries;
    // The running runs, the partner count and the partners page (each one query
    // per partition of the app's partner listing) and one page of payable items;
    // no walk over 170 entries.
    let spread = u64::from(partner_store::keys::LISTING_SHARDS);
    assert_eq!(queries, 2 + 2 * spread, "the run read more than it pays");
    let paid = app
        .admin(
            Method::GET,
            &format!("/v1/apps/{}/affiliates/payouts?limit=1", app.app_id),
            Some(&app.admin_token()),
            None,
        )
        .await
        .body["data"]
        .clone();
    assert_eq!(paid[0]["amount"], 60.0);

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

/// 5,000 partners, each with 60.00 available: the admin request only starts the
/// run (the same two round trips for any size); the runner works through the
/// partners a page per invocation here, showing its progress; the run ends with
/// the ledger's totals and pays nobody twice.
#[tokio::test]
async fn a_run_over_five_thousand_partners_completes_through_the_job() {
    const PARTNERS: u32 = 5_000;
    let app = TestApp::memory().await;
    for n in 0..PARTNERS {
        let customer = format!("partner-{n}");
        let affiliate = partner_domain::records::Affiliate {
            id: AffiliateId::generate(),
            app_id: app.app_id.clone(),
            customer_id: CustomerId::parse("c", &customer).unwrap(),
            application_id: partner_domain::ApplicationId::generate(),
            code: partner_domain::ReferralCode::parse("c", &format!("P{n:05}")).unwrap(),
            status: partner_domain::records::AffiliateStatus::Active,
            commission_rate: None,
            group_id: None,
            created_at: partner_domain::now(),
        };
        partner_store::testing::seed_partner(&app.store, &affiliate)
            .await
            .unwrap();
        let entry = approved_entry(
            &app,
            &customer,
            &affiliate.id,
            EntryKind::Commission,
            Money(6_000),
            &format!("in_{n}"),
        );
        partner_store::testing::seed_entries(&app.store, &[entry])
            .await
            .unwrap();
    }
    let payouts = format!("/v1/apps/{}/affiliates/payouts", app.app_id);
    let token = app.admin_token();
    let (before, started_at) = (app.calls(), std::time::Instant::now());
    let started = app.admin(Method::POST, &payouts, Some(&token), None).await;
    let (calls, took) = (app.calls().since(before), started_at.elapsed());
    assert_eq!(started.status, 202, "{:#}", started.body);
    // The settings, then the run with its lock: one read, one transaction.
    assert_eq!(
        (calls.gets, calls.writes, calls.transactions, calls.queries),
        (1, 0, 1, 0),
        "{calls:?}"
    );
    eprintln!("FIGURE starting a payout run over {PARTNERS} partners: {calls:?} in {took:?}");
    let run_path = format!("{payouts}/runs/{}", started.body["id"].as_str().unwrap());

    // An invocation with no time left still does one page: the run moves on.
    payout_runner::handle(&app.state, std::time::Duration::ZERO)
        .await
        .unwrap();
    let part_way = app.admin(Method::GET, &run_path, Some(&token), None).await;
    assert_eq!(
        (
            part_way.body["status"].clone(),
            part_way.body["partnersDone"].clone(),
            part_way.body["partnersTotal"].clone(),
        ),
        (json!("running"), json!(100), json!(PARTNERS)),
        "{:#}",
        part_way.body
    );

    let started_at = std::time::Instant::now();
    let mut invocations = 1;
    loop {
        let run = app.admin(Method::GET, &run_path, Some(&token), None).await;
        if run.body["status"] == "completed" {
            assert_eq!(run.body["partnersDone"], PARTNERS, "{:#}", run.body);
            assert_eq!(run.body["payouts"], PARTNERS, "{:#}", run.body);
            assert_eq!(run.body["amount"], json!(60.0 * f64::from(PARTNERS)));
            break;
        }
        assert!(invocations < 100, "the run does not end: {:#}", run.body);
        payout_runner::handle(&app.state, std::time::Duration::from_secs(21))
            .await
            .unwrap();
        invocations += 1;
    }
    eprintln!(
        "FIGURE payout run over {PARTNERS} partners: {invocations} invocations in {:?}",
        started_at.elapsed()
    );
    // The ledger agrees: every partner paid its 60.00 once, nothing left.
    let mut paid_total = 0;
    for n in 0..PARTNERS {
        let customer = CustomerId::parse("c", &format!("partner-{n}")).unwrap();
        let balances = app
            .store
            .ledger()
            .balances(&app.app_id, &customer)
            .await
            .unwrap();
        assert_eq!(
            (balances.available, balances.paid),
            (0, 6_000),
            "partner {n}"
        );
        paid_total += balances.paid;
    }
    assert_eq!(paid_total, 6_000 * i64::from(PARTNERS));
    assert_eq!(app.run_payouts().await.run["payouts"], 0);
}

/// The sample schedule event is what EventBridge Scheduler sends the runner (the
/// runner reads nothing from it), and one invocation finishes a small run.
#[tokio::test]
async fn the_sample_schedule_event_runs_the_payout_runner() {
    let app = TestApp::memory().await;
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/payout-runner.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(sample["source"], "aws.scheduler");
    let (customer, affiliate) = partner_with_commissions(&app, 30).await;
    let run = app.run_payouts().await;
    assert_eq!(run.run["payouts"], 1, "{:#}", run.run);
    assert_eq!(run.run["partnersDone"], 1, "{:#}", run.run);
    assert_paid_once(&app, &customer, &affiliate, 30).await;
}

on_both_backends!(
    a_run_reads_only_what_it_pays_and_still_pays_entries_from_before,
    an_old_approved_reversal_comes_off_the_payout,
    one_run_pays_a_thousand_commissions_in_full_and_only_once,
    a_run_killed_midway_is_finished_by_the_next_without_paying_twice,
);
