//! A property test over random sequences of payments (some repeated, some in two
//! product lines), refunds (some naming their payment), approvals, payouts and
//! moves of the partner between a group with reward rules and tiers and the
//! default group, payouts marked paid, and deals registered and moved, through
//! the API and commands: the stored balances always equal the sums of the
//! entries, the partner's summary always lists what its three listings return,
//! no payout exceeds the available balance, a repeated revenue event is never
//! counted twice, and no refund reverses more than its payment earned.

use partner_domain::audit::Actor;
use partner_domain::deals::{DealId, DealStatus};
use partner_domain::ledger::{Balances, Entry, EntryStatus, PayoutId};
use partner_domain::{Amount, Currency, Money};
use partner_tests::TestApp;
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Step {
    Payment {
        customer: u8,
        cents: i64,
        repeat: bool,
        /// Split in two product lines (a share in percent goes to `prod_a`).
        split: Option<u8>,
    },
    Refund {
        customer: u8,
        cents: i64,
        /// Names the customer's n-th payment so far (modulo), else none.
        names: Option<u8>,
    },
    Approve,
    Payout,
    /// Into the rewards group, or back to the default group.
    Move,
    /// Marks the n-th payout so far (modulo) paid.
    MarkPaid(u8),
    /// Registers a deal (refused beyond the open-deal limit).
    Deal,
    /// Moves the n-th deal so far (modulo) on, to its first or second next status.
    MoveDeal(u8, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (
            0u8..3,
            2i64..100_000,
            any::<bool>(),
            proptest::option::of(1u8..100)
        )
            .prop_map(|(customer, cents, repeat, split)| Step::Payment {
                customer,
                cents,
                repeat,
                split,
            }),
        (0u8..3, 1i64..100_000, proptest::option::of(any::<u8>())).prop_map(
            |(customer, cents, names)| Step::Refund {
                customer,
                cents,
                names
            }
        ),
        Just(Step::Approve),
        Just(Step::Payout),
        Just(Step::Move),
        any::<u8>().prop_map(Step::MarkPaid),
        Just(Step::Deal),
        (any::<u8>(), any::<bool>()).prop_map(|(n, second)| Step::MoveDeal(n, second)),
    ]
}

/// One partner with three referred customers, and a group of reward rules it can
/// be moved into: a flat 5.00 on a first payment from 10.00, 10% of `prod_a`, 30%
/// for two months, then 20%, raised to 25% from two paying customers.
struct Ledger {
    app: TestApp,
    partner_customer: partner_domain::CustomerId,
    affiliate: partner_domain::AffiliateId,
    group: String,
    in_group: std::cell::Cell<bool>,
}

impl Ledger {
    async fn new() -> Self {
        let app = TestApp::memory().await;
        let id = app.applied("partner@example.com", "Jane").await;
        let approved = app
            .review(&id, &json!({"action": "approve", "code": "JANE20"}))
            .await;
        for customer in 0..3 {
            let referred = app
                .post_json(
                    "/v1/affiliate/referrals",
                    Some(&app.api_key),
                    &json!({"customerId": format!("cust_{customer}"), "code": "JANE20"}),
                )
                .await;
            assert_eq!(referred.status, 201);
        }
        let customer = approved.body["affiliate"]["customer_id"].as_str().unwrap();
        let affiliate = approved.body["affiliate"]["id"].as_str().unwrap();
        let group = app
            .admin(
                axum::http::Method::POST,
                &format!("/v1/apps/{}/affiliates/groups", app.app_id),
                Some(&app.admin_token()),
                Some(&json!({"name": "Rules", "slug": "rules", "rules": [
                    {"kind": "flat", "amount": 5, "appliesTo": "first_payment", "minAmount": 10},
                    {"kind": "percentage", "rate": 10, "productIds": ["prod_a"]},
                    {"kind": "percentage", "rate": 30, "appliesTo": "first_months", "months": 2},
                    {"kind": "percentage", "rate": 20}],
                    "tiers": [{"minCustomers": 2, "rate": 25}]})),
            )
            .await;
        assert_eq!(group.status, 201, "{:#}", group.body);
        Self {
            partner_customer: partner_domain::CustomerId::parse("c", customer).unwrap(),
            affiliate: partner_domain::AffiliateId::parse("a", affiliate).unwrap(),
            group: group.body["id"].as_str().unwrap().to_owned(),
            in_group: std::cell::Cell::new(false),
            app,
        }
    }

    async fn toggle_group(&self) {
        let to = if self.in_group.get() {
            serde_json::Value::Null
        } else {
            json!(self.group)
        };
        let moved = self
            .app
            .admin(
                axum::http::Method::PATCH,
                &format!("/v1/apps/{}/affiliates/{}", self.app.app_id, self.affiliate),
                Some(&self.app.admin_token()),
                Some(&json!({"groupId": to})),
            )
            .await;
        assert_eq!(moved.status, 200, "{:#}", moved.body);
        self.in_group.set(!self.in_group.get());
    }

    async fn revenue(&self, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .app
            .post_json("/v1/affiliate/revenue", Some(&self.app.api_key), &body)
            .await;
        assert!(response.status.is_success(), "{:#}", response.body);
        response.body
    }

    async fn approve_all(&self) {
        let later = partner_domain::now() + time::Duration::days(400);
        partner_service::commands::approvals::approve_due(&self.app.state, later)
            .await
            .unwrap();
    }

    async fn pay_out(&self) -> Vec<(PayoutId, Money)> {
        partner_tests::pay_out(&self.app.state, &self.app.app_id)
            .await
            .1
            .into_iter()
            .map(|p| (p.id, p.amount))
            .collect()
    }

    async fn balances(&self) -> Balances {
        self.app
            .store
            .ledger()
            .balances(&self.app.app_id, &self.partner_customer)
            .await
            .unwrap()
            .into()
    }

    /// What the dashboard lists (the summary) and what the three listings return.
    async fn listed(
        &self,
    ) -> (
        partner_store::repo::dashboard::DashboardRecords,
        partner_store::repo::summary::Summary,
    ) {
        let store = &self.app.store;
        let shown = store
            .affiliates()
            .dashboard(&self.app.app_id, &self.partner_customer)
            .await
            .unwrap()
            .unwrap();
        let listed =
            partner_store::repo::dashboard::listings(store, &self.app.app_id, &shown.affiliate)
                .await
                .unwrap();
        (shown, listed)
    }

    async fn register_deal(&self, n: usize) -> Option<DealId> {
        let (affiliate, settings, _) = self
            .app
            .store
            .affiliates()
            .by_customer(&self.app.app_id, &self.partner_customer)
            .await
            .unwrap()
            .unwrap();
        let lead = partner_domain::Email::parse("e", &format!("lead{n}@example.com")).unwrap();
        partner_service::commands::partner::register_deal(
            &self.app.state,
            &affiliate,
            &settings,
            lead,
            format!("Lead {n}"),
            Some("x".repeat(n * 10)),
        )
        .await
        .ok()
        .map(|deal| deal.id)
    }

    async fn entries(&self) -> Vec<Entry> {
        self.app
            .store
            .ledger()
            .entries_of_affiliate(&self.app.app_id, &self.affiliate)
            .await
            .unwrap()
    }
}

fn usd(cents: i64) -> Amount {
    Amount::new(Money(cents), &Currency::usd())
}

async fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let ledger = Ledger::new().await;
    // Each customer's payments so far, and which refund named which payment.
    let mut payments: Vec<Vec<String>> = vec![Vec::new(); 3];
    let mut named: Vec<(String, String)> = Vec::new();
    let mut payouts: Vec<PayoutId> = Vec::new();
    let mut deals: Vec<DealId> = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Payment {
                customer,
                cents,
                repeat,
                split,
            } => {
                let event = format!("pay_{n}");
                let mut body = json!({"eventId": event, "customerId": format!("cust_{customer}"),
                    "amount": usd(*cents), "currency": "usd", "type": "payment",
                    // A month apart, so first-months rules end within a sequence.
                    "occurredAt": partner_domain::rfc3339(partner_domain::now() + time::Duration::days(30 * n as i64))});
                if let Some(share) = split {
                    let a = (*cents * i64::from(*share) / 100).clamp(1, cents - 1);
                    body["lines"] = json!([{"productId": "prod_a", "amount": usd(a)},
                                           {"productId": "prod_b", "amount": usd(cents - a)}]);
                }
                ledger.revenue(body.clone()).await;
                if *repeat {
                    let before = ledger.entries().await.len();
                    ledger.revenue(body).await;
                    prop_assert_eq!(
                        ledger.entries().await.len(),
                        before,
                        "a repeat added an entry"
                    );
                }
                payments[*customer as usize].push(event);
            }
            Step::Refund {
                customer,
                cents,
                names,
            } => {
                let event = format!("ref_{n}");
                let mut body = json!({"eventId": event, "customerId": format!("cust_{customer}"),
                    "amount": usd(*cents), "currency": "usd", "type": "refund"});
                let of = &payments[*customer as usize];
                if let (Some(pick), false) = (names, of.is_empty()) {
                    let payment = of[*pick as usize % of.len()].clone();
                    body["paymentEventId"] = json!(payment);
                    named.push((event, payment));
                }
                ledger.revenue(body).await;
            }
            Step::Approve => ledger.approve_all().await,
            Step::Payout => {
                let available = ledger.balances().await.available;
                for (id, paid) in ledger.pay_out().await {
                    prop_assert!(
                        paid <= available,
                        "payout {paid:?} over available {available:?}"
                    );
                    payouts.push(id);
                }
            }
            Step::Move => ledger.toggle_group().await,
            Step::MarkPaid(pick) if !payouts.is_empty() => {
                let id = &payouts[*pick as usize % payouts.len()];
                // A payout marked paid before refuses a second time; both are fine.
                let _ = partner_service::commands::payouts::mark_paid(
                    &ledger.app.state,
                    &ledger.app.app_id,
                    id,
                    Some(format!("wire {n}")),
                    Actor::System,
                )
                .await;
            }
            Step::MarkPaid(_) => {}
            Step::Deal => deals.extend(ledger.register_deal(n).await),
            Step::MoveDeal(pick, second) if !deals.is_empty() => {
                let id = &deals[*pick as usize % deals.len()];
                let app = &ledger.app.app_id;
                let deal = ledger
                    .app
                    .store
                    .deals()
                    .get(app, id)
                    .await
                    .unwrap()
                    .unwrap();
                let next = match (deal.status, second) {
                    (DealStatus::Pending, false) => DealStatus::Accepted,
                    (DealStatus::Pending, true) => DealStatus::Rejected,
                    (DealStatus::Accepted, false) => DealStatus::Won,
                    (DealStatus::Accepted, true) => DealStatus::Lost,
                    _ => continue,
                };
                partner_service::commands::partner::change_deal_status(
                    &ledger.app.state,
                    app,
                    id,
                    next,
                    Actor::System,
                )
                .await
                .unwrap();
            }
            Step::MoveDeal(..) => {}
        }
        let (shown, listed) = ledger.listed().await;
        prop_assert_eq!(&shown.commissions, &listed.commissions);
        prop_assert_eq!(&shown.payouts, &listed.payouts);
        prop_assert_eq!(&shown.deals, &listed.deals);
        let entries = ledger.entries().await;
        let pairs: Vec<(Money, EntryStatus)> =
            entries.iter().map(|e| (e.amount, e.status)).collect();
        prop_assert_eq!(ledger.balances().await, Balances::of(&pairs));
        // One entry per revenue event and product line at most.
        let distinct: std::collections::HashSet<(&str, Option<&str>)> = entries
            .iter()
            .map(|e| (e.revenue_event_id.as_str(), e.product_id.as_deref()))
            .collect();
        prop_assert_eq!(
            distinct.len(),
            entries.len(),
            "a revenue event counted twice"
        );
        // Refunds naming a payment never reverse more than it earned.
        for (payment, _) in named.iter().map(|(_, p)| (p, ())) {
            let earned: i64 = entries
                .iter()
                .filter(|e| &e.revenue_event_id == payment)
                .map(|e| e.amount.minor())
                .sum();
            let reversed: i64 = entries
                .iter()
                .filter(|e| {
                    named
                        .iter()
                        .any(|(refund, p)| p == payment && refund == &e.revenue_event_id)
                })
                .map(|e| -e.amount.minor())
                .sum();
            prop_assert!(
                reversed <= earned,
                "{payment}: reversed {reversed} of {earned}"
            );
        }
        prop_assert!(
            entries
                .iter()
                .all(|e| (e.status == EntryStatus::Paid) == e.payout_id.is_some())
        );
        // A customer's reversals never exceed what its commissions earned.
        for customer in 0..3 {
            let net: i64 = entries
                .iter()
                .filter(|e| e.customer_id.as_str() == format!("cust_{customer}"))
                .map(|e| e.amount.minor())
                .sum();
            prop_assert!(net >= 0, "customer {customer} reversed more than earned");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn balances_equal_the_entries_and_the_summary_its_listings(steps in proptest::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(steps))?;
    }
}
