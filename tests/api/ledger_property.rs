//! A property test over random sequences of payments (some repeated), refunds,
//! approvals and payouts, through the API and commands: the stored balances always
//! equal the sums of the entries, no payout exceeds the available balance, and a
//! repeated revenue event is never counted twice.

use partner_domain::ledger::{Balances, Entry, EntryStatus};
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
    },
    Refund {
        customer: u8,
        cents: i64,
    },
    Approve,
    Payout,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..3, 1i64..100_000, any::<bool>()).prop_map(|(customer, cents, repeat)| {
            Step::Payment {
                customer,
                cents,
                repeat,
            }
        }),
        (0u8..3, 1i64..100_000).prop_map(|(customer, cents)| Step::Refund { customer, cents }),
        Just(Step::Approve),
        Just(Step::Payout),
    ]
}

/// One partner with three referred customers.
struct Ledger {
    app: TestApp,
    partner_customer: partner_domain::CustomerId,
    affiliate: partner_domain::AffiliateId,
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
        Self {
            partner_customer: partner_domain::CustomerId::parse("c", customer).unwrap(),
            affiliate: partner_domain::AffiliateId::parse("a", affiliate).unwrap(),
            app,
        }
    }

    async fn revenue(&self, event: &str, customer: u8, cents: i64, kind: &str) {
        let amount = Amount::new(Money(cents), &Currency::usd());
        let response = self
            .app
            .post_json(
                "/v1/affiliate/revenue",
                Some(&self.app.api_key),
                &json!({"eventId": event, "customerId": format!("cust_{customer}"), "amount": amount, "currency": "usd", "type": kind}),
            )
            .await;
        assert!(response.status.is_success(), "{:#}", response.body);
    }

    async fn approve_all(&self) {
        let later = partner_domain::now() + time::Duration::days(400);
        partner_service::commands::approvals::approve_due(&self.app.state, later)
            .await
            .unwrap();
    }

    async fn pay_out(&self) -> Vec<Money> {
        partner_tests::pay_out(&self.app.state, &self.app.app_id)
            .await
            .1
            .into_iter()
            .map(|p| p.amount)
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

    async fn entries(&self) -> Vec<Entry> {
        self.app
            .store
            .ledger()
            .entries_of_affiliate(&self.app.app_id, &self.affiliate)
            .await
            .unwrap()
    }
}

async fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let ledger = Ledger::new().await;
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Payment {
                customer,
                cents,
                repeat,
            } => {
                let event = format!("pay_{n}");
                ledger.revenue(&event, *customer, *cents, "payment").await;
                if *repeat {
                    ledger.revenue(&event, *customer, *cents, "payment").await;
                }
            }
            Step::Refund { customer, cents } => {
                ledger
                    .revenue(&format!("ref_{n}"), *customer, *cents, "refund")
                    .await
            }
            Step::Approve => ledger.approve_all().await,
            Step::Payout => {
                let available = ledger.balances().await.available;
                for paid in ledger.pay_out().await {
                    prop_assert!(
                        paid <= available,
                        "payout {paid:?} over available {available:?}"
                    );
                }
            }
        }
        let entries = ledger.entries().await;
        let pairs: Vec<(Money, EntryStatus)> =
            entries.iter().map(|e| (e.amount, e.status)).collect();
        prop_assert_eq!(ledger.balances().await, Balances::of(&pairs));
        let distinct: std::collections::HashSet<&str> = entries
            .iter()
            .map(|e| e.revenue_event_id.as_str())
            .collect();
        prop_assert_eq!(
            distinct.len(),
            entries.len(),
            "a revenue event counted twice"
        );
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
    fn balances_always_equal_the_sums_of_the_entries(steps in proptest::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(steps))?;
    }
}
