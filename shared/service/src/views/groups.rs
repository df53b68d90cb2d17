//! Partner groups as the admin API shows them: their rules and tiers in the
//! program's currency and percentages, and their terms in plain words.

use partner_domain::records::{Affiliate, ProgramSettings};
use partner_domain::rewards::{AppliesTo, Group, GroupId, Reward, Rule, Tier, describe};
use partner_domain::{Amount, Currency, Money, Timestamp};
use partner_store::repo::groups::GroupSet;
use serde::Serialize;

/// A reward rule: `{id, kind, rate | amount, appliesTo, months?, payments?,
/// productIds?, minAmount?}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    id: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Amount>,
    applies_to: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    months: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payments: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    product_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_amount: Option<Amount>,
}

impl RuleView {
    pub fn new(rule: &Rule, currency: &Currency) -> Self {
        let (kind, rate, amount) = match rule.reward {
            Reward::Percentage(rate) => ("percentage", Some(rate.to_percent_f64()), None),
            Reward::Flat(amount) => ("flat", None, Some(Amount::new(amount, currency))),
        };
        let (applies_to, months, payments) = match rule.applies_to {
            AppliesTo::EveryPayment => ("every_payment", None, None),
            AppliesTo::FirstPayment => ("first_payment", None, None),
            AppliesTo::FirstMonths(n) => ("first_months", Some(n), None),
            AppliesTo::FirstPayments(n) => ("first_payments", None, Some(n)),
        };
        Self {
            id: rule.id.clone(),
            kind,
            rate,
            amount,
            applies_to,
            months,
            payments,
            product_ids: rule.product_ids.clone(),
            min_amount: rule.min_amount.map(|m| Amount::new(m, currency)),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierView {
    min_customers: u32,
    rate: f64,
}

impl From<&Tier> for TierView {
    fn from(tier: &Tier) -> Self {
        Self {
            min_customers: tier.min_customers,
            rate: tier.rate.to_percent_f64(),
        }
    }
}

/// The terms in plain words, amounts in `currency`: "30% of payments for 12 months".
pub fn terms(rules: &[Rule], tiers: &[Tier], currency: &Currency) -> String {
    let money = |m: Money| {
        format!(
            "{} {}",
            Amount::new(m, currency).fixed(),
            currency.as_str().to_uppercase()
        )
    };
    describe(rules, tiers, &money)
}

/// A partner's terms in plain words: its group's rules and tiers (the program's
/// rate for the default group), with its own rate in place of every percentage
/// (tiers then do not apply).
pub fn partner_terms(
    affiliate: &Affiliate,
    settings: &ProgramSettings,
    groups: &GroupSet,
) -> String {
    let group = affiliate.group_id.as_ref().and_then(|id| groups.find(id));
    let (mut rules, mut tiers) = match group {
        Some(group) => (group.rules.clone(), group.tiers.clone()),
        None => (
            vec![Rule::default_rule(settings.default_commission_rate)],
            Vec::new(),
        ),
    };
    if let Some(own) = affiliate.commission_rate {
        for rule in &mut rules {
            if let Reward::Percentage(_) = rule.reward {
                rule.reward = Reward::Percentage(own);
            }
        }
        tiers.clear();
    }
    terms(&rules, &tiers, &settings.currency)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    id: GroupId,
    name: String,
    slug: String,
    rules: Vec<RuleView>,
    tiers: Vec<TierView>,
    holding_period_days: Option<u32>,
    min_payout_amount: Option<Amount>,
    cookie_duration_days: Option<u32>,
    auto_approve: bool,
    /// The rules and tiers in plain words.
    terms: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: Timestamp,
}

impl GroupView {
    pub fn new(group: &Group, currency: &Currency) -> Self {
        Self {
            id: group.id.clone(),
            name: group.name.clone(),
            slug: group.slug.clone(),
            rules: group
                .rules
                .iter()
                .map(|r| RuleView::new(r, currency))
                .collect(),
            tiers: group.tiers.iter().map(TierView::from).collect(),
            holding_period_days: group.holding_period_days,
            min_payout_amount: group.min_payout_amount.map(|m| Amount::new(m, currency)),
            cookie_duration_days: group.cookie_duration_days,
            auto_approve: group.auto_approve,
            terms: terms(&group.rules, &group.tiers, currency),
            created_at: group.created_at,
            updated_at: group.updated_at,
        }
    }
}
