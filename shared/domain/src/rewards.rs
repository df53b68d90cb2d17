//! Reward terms: partner groups with their own rules and tiers, and the pure
//! evaluation that turns one payment, line by line, into commissions.
//!
//! A group's rules are tried in order for each line of a payment; the first rule
//! that matches the line earns it (a percentage of the line, or a flat amount once
//! per payment: the other lines it matches earn nothing else) and makes one
//! commission entry. A rule matches when the line's
//! product is one of its `productIds` (or it names none), the line reaches its
//! `minAmount`, and the payment is within what it applies to: every payment, the
//! customer's first, the first N payments, or payments within N months of the
//! customer's first. Tiers raise percentage rules once the partner has enough
//! paying customers; a partner's own rate replaces the percentage of every
//! percentage rule (tiers then do not apply). The program settings are the default
//! group: one rule, every payment at `defaultCommissionRate`.

use serde::{Deserialize, Serialize};

use crate::ledger::commission;
use crate::{Money, RateBps, Timestamp};

crate::ids::prefixed_id!(
    /// A partner group.
    GroupId, "grp"
);

/// Groups an app may have, rules a group may have, tiers a group may have, lines
/// a payment may have: all are read in one item or one transaction, so they are
/// bounded.
pub const MAX_GROUPS: usize = 25;
pub const MAX_RULES: usize = 10;
pub const MAX_TIERS: usize = 10;
pub const MAX_LINES: usize = 20;

/// The rule id of the default group's one rule.
pub const DEFAULT_RULE: &str = "default";

/// What a rule pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reward {
    /// A share of the line.
    Percentage(RateBps),
    /// An amount in the program's currency, once per payment.
    Flat(Money),
}

/// Which payments of a customer a rule pays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AppliesTo {
    EveryPayment,
    FirstPayment,
    /// Payments within this many months of the customer's first payment.
    FirstMonths(u32),
    /// The customer's first this many payments.
    FirstPayments(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub reward: Reward,
    pub applies_to: AppliesTo,
    /// The products it applies to; empty: every product (and lines without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_amount: Option<Money>,
}

impl Rule {
    /// The default group's rule: every payment at the program's rate.
    pub fn default_rule(rate: RateBps) -> Self {
        Self {
            id: DEFAULT_RULE.to_owned(),
            reward: Reward::Percentage(rate),
            applies_to: AppliesTo::EveryPayment,
            product_ids: Vec::new(),
            min_amount: None,
        }
    }
}

/// From `min_customers` paying customers on, percentage rules pay at least `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub min_customers: u32,
    pub rate: RateBps,
}

/// A partner group: its terms, and what it overrides of the program settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    /// Public: an application names the group by it.
    pub slug: String,
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding_period_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_payout_amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_duration_days: Option<u32>,
    /// Applications naming the group are approved at once.
    #[serde(default)]
    pub auto_approve: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// One line of a payment (a payment without lines is one line of its amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    pub amount: Money,
}

/// What is known when a payment is judged.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// When the payment happened.
    pub occurred_at: Timestamp,
    /// The customer's payments recorded before this one.
    pub payments_before: u32,
    /// When the customer first paid (`None`: this is the first payment).
    pub first_payment_at: Option<Timestamp>,
    /// The partner's referred customers who had paid before this payment.
    pub paying_customers_before: u32,
    /// The partner's own rate, which replaces percentage rules' rates.
    pub own_rate: Option<RateBps>,
}

/// A commission one line earned, and what produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earned {
    pub rule_id: String,
    /// The tier that raised the rate (1-based, in the group's order then).
    pub tier: Option<u32>,
    /// The rate paid, for percentage rules.
    pub rate: Option<RateBps>,
    pub amount: Money,
    /// The line it was earned on.
    pub line: Line,
}

/// `at` plus `months` calendar months (the day clamped to the month's length).
fn add_months(at: Timestamp, months: u32) -> Timestamp {
    let date = at.date();
    let total =
        i64::from(date.year()) * 12 + i64::from(u8::from(date.month()) - 1) + i64::from(months);
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let Ok(month) = time::Month::try_from(month0 as u8 + 1) else {
        return at;
    };
    let year = i32::try_from(year).unwrap_or(i32::MAX);
    let day = date.day().min(time::util::days_in_month(month, year));
    time::Date::from_calendar_date(year, month, day)
        .map(|d| at.replace_date(d))
        .unwrap_or(at)
}

impl AppliesTo {
    fn covers(self, facts: &Facts) -> bool {
        match self {
            Self::EveryPayment => true,
            Self::FirstPayment => facts.payments_before == 0,
            Self::FirstPayments(n) => facts.payments_before < n,
            Self::FirstMonths(months) => match facts.first_payment_at {
                None => months > 0,
                Some(first) => facts.occurred_at < add_months(first, months),
            },
        }
    }
}

/// The highest tier the partner has reached (1-based) and its rate.
fn reached(tiers: &[Tier], paying_customers: u32) -> Option<(u32, RateBps)> {
    tiers
        .iter()
        .enumerate()
        .filter(|(_, tier)| paying_customers >= tier.min_customers)
        .max_by_key(|(_, tier)| tier.rate.0)
        .map(|(n, tier)| (n as u32 + 1, tier.rate))
}

/// Judges a payment line by line: what each line earns, by which rule and tier.
/// Lines that match no rule, or earn nothing, make no commission.
pub fn evaluate(rules: &[Rule], tiers: &[Tier], lines: &[Line], facts: &Facts) -> Vec<Earned> {
    let tier = if facts.own_rate.is_some() {
        None
    } else {
        reached(tiers, facts.paying_customers_before)
    };
    let mut flat_paid: Vec<&str> = Vec::new();
    let mut earned = Vec::new();
    for line in lines {
        let matching = rules.iter().find(|rule| {
            (rule.product_ids.is_empty()
                || line
                    .product_id
                    .as_ref()
                    .is_some_and(|p| rule.product_ids.contains(p)))
                && rule
                    .min_amount
                    .is_none_or(|min| line.amount.minor() >= min.minor())
                && rule.applies_to.covers(facts)
        });
        let Some(rule) = matching else { continue };
        let (amount, rate, raised) = match rule.reward {
            Reward::Percentage(rate) => {
                let (rate, raised) = match (facts.own_rate, tier) {
                    (Some(own), _) => (own, None),
                    (None, Some((n, tier_rate))) if tier_rate.0 > rate.0 => (tier_rate, Some(n)),
                    (None, _) => (rate, None),
                };
                (commission(line.amount, rate), Some(rate), raised)
            }
            // Once per payment, however many of its lines the rule matches.
            Reward::Flat(_) if flat_paid.contains(&rule.id.as_str()) => continue,
            Reward::Flat(amount) => {
                flat_paid.push(&rule.id);
                (amount, None, None)
            }
        };
        if amount.minor() > 0 {
            earned.push(Earned {
                rule_id: rule.id.clone(),
                tier: raised,
                rate,
                amount,
                line: line.clone(),
            });
        }
    }
    earned
}

/// The terms in plain words: "30% of payments for 12 months", "50.00 on the first
/// payment", with `money` writing amounts in the program's currency.
pub fn describe(rules: &[Rule], tiers: &[Tier], money: &dyn Fn(Money) -> String) -> String {
    let mut parts: Vec<String> = rules
        .iter()
        .map(|rule| {
            let what = match rule.reward {
                Reward::Percentage(rate) => format!("{}% of", rate.to_percent_f64()),
                Reward::Flat(amount) => format!("{} on", money(amount)),
            };
            let payments = match (rule.reward, rule.applies_to) {
                (Reward::Percentage(_), AppliesTo::EveryPayment) => "every payment".to_owned(),
                (Reward::Flat(_), AppliesTo::EveryPayment) => "every payment".to_owned(),
                (_, AppliesTo::FirstPayment) => "the first payment".to_owned(),
                (_, AppliesTo::FirstPayments(1)) => "the first payment".to_owned(),
                (_, AppliesTo::FirstPayments(n)) => format!("the first {n} payments"),
                (_, AppliesTo::FirstMonths(1)) => "payments for 1 month".to_owned(),
                (_, AppliesTo::FirstMonths(n)) => format!("payments for {n} months"),
            };
            let mut text = format!("{what} {payments}");
            if !rule.product_ids.is_empty() {
                text.push_str(&format!(" of {}", rule.product_ids.join(", ")));
            }
            if let Some(min) = rule.min_amount {
                text.push_str(&format!(" from {}", money(min)));
            }
            text
        })
        .collect();
    for tier in tiers {
        parts.push(format!(
            "{}% from {} paying customers",
            tier.rate.to_percent_f64(),
            tier.min_customers
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn rule(id: &str, reward: Reward, applies_to: AppliesTo) -> Rule {
        Rule {
            id: id.into(),
            reward,
            applies_to,
            product_ids: Vec::new(),
            min_amount: None,
        }
    }

    fn line(amount: i64) -> Line {
        Line {
            product_id: None,
            amount: Money(amount),
        }
    }

    fn facts(payments_before: u32, first: Option<&str>, occurred: &str) -> Facts {
        Facts {
            occurred_at: at(occurred),
            payments_before,
            first_payment_at: first.map(at),
            paying_customers_before: 0,
            own_rate: None,
        }
    }

    #[test]
    fn thirty_percent_for_twelve_months_then_nothing() {
        let rules = [rule(
            "r",
            Reward::Percentage(RateBps(3000)),
            AppliesTo::FirstMonths(12),
        )];
        let first = "2026-01-31T10:00:00Z";
        let earn = |n: u32, when: &str| {
            let first = if n == 0 { None } else { Some(first) };
            evaluate(&rules, &[], &[line(10_000)], &facts(n, first, when))
        };
        assert_eq!(earn(0, first)[0].amount, Money(3000));
        assert_eq!(earn(1, "2026-02-28T10:00:00Z")[0].amount, Money(3000));
        assert_eq!(
            earn(11, "2027-01-30T10:00:00Z")[0].amount,
            Money(3000),
            "month 12"
        );
        assert!(earn(12, "2027-01-31T10:00:00Z").is_empty(), "month 13");
    }

    #[test]
    fn a_flat_first_payment_reward_pays_once_per_customer_and_once_per_payment() {
        let rules = [rule(
            "r",
            Reward::Flat(Money(5000)),
            AppliesTo::FirstPayment,
        )];
        let two_lines = [line(2_000), line(3_000)];
        let first = evaluate(
            &rules,
            &[],
            &two_lines,
            &facts(0, None, "2026-01-01T00:00:00Z"),
        );
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].amount, Money(5000));
        let second = facts(1, Some("2026-01-01T00:00:00Z"), "2026-02-01T00:00:00Z");
        assert!(evaluate(&rules, &[], &two_lines, &second).is_empty());
    }

    #[test]
    fn a_product_rule_before_the_default_splits_a_two_line_payment() {
        let mut special = rule(
            "pro",
            Reward::Percentage(RateBps(1000)),
            AppliesTo::EveryPayment,
        );
        special.product_ids = vec!["prod_pro".into()];
        let rules = [
            special,
            rule(
                "all",
                Reward::Percentage(RateBps(2000)),
                AppliesTo::EveryPayment,
            ),
        ];
        let lines = [
            Line {
                product_id: Some("prod_pro".into()),
                amount: Money(10_000),
            },
            Line {
                product_id: Some("prod_basic".into()),
                amount: Money(5_000),
            },
        ];
        let earned = evaluate(&rules, &[], &lines, &facts(0, None, "2026-01-01T00:00:00Z"));
        let got: Vec<(&str, i64)> = earned
            .iter()
            .map(|e| (e.rule_id.as_str(), e.amount.minor()))
            .collect();
        assert_eq!(got, [("pro", 1000), ("all", 1000)]);
    }

    #[test]
    fn tiers_raise_percentages_from_their_threshold_and_own_rates_win() {
        let rules = [rule(
            "r",
            Reward::Percentage(RateBps(2000)),
            AppliesTo::EveryPayment,
        )];
        let tiers = [Tier {
            min_customers: 10,
            rate: RateBps(2500),
        }];
        let mut f = facts(0, None, "2026-01-01T00:00:00Z");
        f.paying_customers_before = 9;
        let below = evaluate(&rules, &tiers, &[line(10_000)], &f);
        assert_eq!((below[0].amount, below[0].tier), (Money(2000), None));
        f.paying_customers_before = 10;
        let above = evaluate(&rules, &tiers, &[line(10_000)], &f);
        assert_eq!((above[0].amount, above[0].tier), (Money(2500), Some(1)));
        f.own_rate = Some(RateBps(1500));
        let own = evaluate(&rules, &tiers, &[line(10_000)], &f);
        assert_eq!((own[0].amount, own[0].tier), (Money(1500), None));
    }

    #[test]
    fn minimum_amounts_and_first_payments_limit_a_rule() {
        let mut big = rule(
            "big",
            Reward::Flat(Money(1000)),
            AppliesTo::FirstPayments(2),
        );
        big.min_amount = Some(Money(5_000));
        let rules = [big];
        let f = |n| facts(n, Some("2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
        assert!(evaluate(&rules, &[], &[line(4_999)], &f(0)).is_empty());
        assert_eq!(evaluate(&rules, &[], &[line(5_000)], &f(1)).len(), 1);
        assert!(evaluate(&rules, &[], &[line(5_000)], &f(2)).is_empty());
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(
            add_months(at("2026-01-31T10:00:00Z"), 1),
            at("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            add_months(at("2026-11-15T00:00:00Z"), 14),
            at("2028-01-15T00:00:00Z")
        );
    }

    #[test]
    fn terms_read_as_plain_words() {
        let money = |m: Money| format!("{}.00 USD", m.minor() / 100);
        let mut flat = rule("f", Reward::Flat(Money(5000)), AppliesTo::FirstPayment);
        flat.min_amount = Some(Money(2000));
        let rules = [
            rule(
                "p",
                Reward::Percentage(RateBps(3000)),
                AppliesTo::FirstMonths(12),
            ),
            flat,
        ];
        let tiers = [Tier {
            min_customers: 10,
            rate: RateBps(3500),
        }];
        assert_eq!(
            describe(&rules, &tiers, &money),
            "30% of payments for 12 months; 50.00 USD on the first payment from 20.00 USD; 35% from 10 paying customers"
        );
    }
}
