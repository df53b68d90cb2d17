//! Commission maths and the ledger's records.
//!
//! A commission is `rate × revenue`, rounded half-up to the cent per entry. Entries
//! are never edited in place except for their status (pending → approved → paid);
//! a refund creates a reversing entry. Every entry goes through the holding period,
//! reversals included, so a refund of a commission still in its holding period
//! takes the pending balance back to zero, and a refund of one already paid comes
//! off the next payout. The balances are the sums of the entries by status.

use serde::{Deserialize, Serialize};

use crate::{AffiliateId, AppId, CustomerId, Money, RateBps, Timestamp};

/// `amount × rate`, rounded half-up (away from zero) to the minor unit.
pub fn commission(amount: Money, rate: RateBps) -> Money {
    let product = i128::from(amount.minor()) * i128::from(rate.0);
    let quotient = product / 10_000;
    let remainder = product % 10_000;
    let rounded = if remainder.abs() * 2 >= 10_000 {
        quotient + product.signum()
    } else {
        quotient
    };
    Money(i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// Inside the holding period.
    Pending,
    /// Past the holding period, not yet paid out.
    Approved,
    /// Part of a payout.
    Paid,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Commission,
    Reversal,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commission => "commission",
            Self::Reversal => "reversal",
        }
    }
}

/// The sums a partner sees. `total_earned` is every entry; the others split it by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balances {
    pub total_earned: Money,
    pub pending: Money,
    pub available: Money,
    pub paid: Money,
}

impl Balances {
    /// The balances of a set of entries (the definition the stored counters keep to).
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a (Money, EntryStatus)>) -> Self {
        let mut balances = Self::default();
        for (amount, status) in entries {
            balances.total_earned.0 += amount.0;
            match status {
                EntryStatus::Pending => balances.pending.0 += amount.0,
                EntryStatus::Approved => balances.available.0 += amount.0,
                EntryStatus::Paid => balances.paid.0 += amount.0,
            }
        }
        balances
    }
}

crate::ids::prefixed_id!(
    /// A ledger entry (a commission or a reversal).
    CommissionId, "com"
);
crate::ids::prefixed_id!(
    /// A payout to one partner.
    PayoutId, "pay"
);
crate::ids::prefixed_id!(
    /// A referral click.
    ClickId, "clk"
);
crate::ids::prefixed_id!(
    /// A payout run: one pass over an app's partners, paying each its balance.
    PayoutRunId, "prun"
);

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: CommissionId,
    pub app_id: AppId,
    pub affiliate_id: AffiliateId,
    /// The partner's own customer account (where its balance lives).
    pub affiliate_customer_id: CustomerId,
    /// The referred customer whose revenue this is.
    pub customer_id: CustomerId,
    pub kind: EntryKind,
    /// Positive for a commission, negative for a reversal.
    pub amount: Money,
    pub currency: crate::Currency,
    /// The revenue (or refund) amount it was computed from, and the rate.
    pub revenue_amount: Money,
    pub rate: RateBps,
    /// The app's idempotency id of the revenue event that created it.
    pub revenue_event_id: String,
    pub status: EntryStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub approves_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<PayoutId>,
    /// The reward rule that produced it (a reversal: its payment's), and the tier
    /// that raised its rate, as they were when it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
    /// The product of the revenue line it was earned on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// What a partner's dashboard shows of an entry, and all its summary keeps of one:
/// the rest (the referred customer, the revenue, the rule) is the app's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedEntry {
    pub id: CommissionId,
    pub kind: EntryKind,
    pub amount: Money,
    pub currency: crate::Currency,
    pub status: EntryStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub approves_at: Timestamp,
}

impl From<&Entry> for ListedEntry {
    fn from(entry: &Entry) -> Self {
        Self {
            id: entry.id.clone(),
            kind: entry.kind,
            amount: entry.amount,
            currency: entry.currency.clone(),
            status: entry.status,
            created_at: entry.created_at,
            approves_at: entry.approves_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn twenty_percent_of_99_is_19_80() {
        assert_eq!(commission(Money(9900), RateBps(2000)), Money(1980));
        assert_eq!(commission(Money(25000), RateBps(2000)), Money(5000));
        assert_eq!(commission(Money(9900), RateBps(3000)), Money(2970));
    }

    #[test]
    fn rounding_is_half_up_away_from_zero_per_entry() {
        // 12.5% of 0.01 = 0.00125 → 0.00; 20% of 0.03 = 0.006 → 0.01; 50% of 0.01 = 0.005 → 0.01.
        assert_eq!(commission(Money(1), RateBps(1250)), Money(0));
        assert_eq!(commission(Money(3), RateBps(2000)), Money(1));
        assert_eq!(commission(Money(1), RateBps(5000)), Money(1));
        assert_eq!(commission(Money(-1), RateBps(5000)), Money(-1));
    }

    proptest! {
        #[test]
        fn a_refund_mirrors_its_payment(amount in 0i64..10_000_000_000, rate in 0u32..=10_000) {
            let paid = commission(Money(amount), RateBps(rate));
            let reversed = commission(Money(-amount), RateBps(rate));
            prop_assert_eq!(paid.0, -reversed.0);
            prop_assert!(paid.0 <= amount);
        }
    }

    #[test]
    fn balances_split_the_total_by_status() {
        let entries = [
            (Money(1000), EntryStatus::Pending),
            (Money(500), EntryStatus::Approved),
            (Money(-200), EntryStatus::Approved),
            (Money(300), EntryStatus::Paid),
        ];
        let b = Balances::of(&entries);
        assert_eq!(
            (b.total_earned, b.pending, b.available, b.paid),
            (Money(1600), Money(1000), Money(300), Money(300))
        );
    }
}

/// Which entries of a partner a payout pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayoutStatus {
    /// Created: the entries are paid out of the balance; the money is on its way.
    Pending,
    /// Marked paid by an admin.
    Paid,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: PayoutId,
    pub app_id: AppId,
    pub affiliate_id: AffiliateId,
    pub affiliate_customer_id: CustomerId,
    pub amount: Money,
    pub currency: crate::Currency,
    /// How many entries it pays; each paid entry names its payout (`payoutId`).
    #[serde(default)]
    pub entry_count: u32,
    /// The entries, on payouts made before entries named their payout (a list
    /// would grow without bound with a partner's entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_ids: Vec<CommissionId>,
    pub status: PayoutStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub paid_at: Option<Timestamp>,
}

/// Where a payout run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayoutRunStatus {
    /// Created, or part-way through the partners.
    Running,
    /// Every partner was visited.
    Completed,
    /// Stopped by an error it kept hitting; the payouts it made stand.
    Failed,
}

impl PayoutRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

/// A payout run: an admin creates it; the payout runner works through the app's
/// partners a page at a time, saving where it is after each page, so a run of any
/// size finishes across as many invocations as it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutRun {
    pub id: PayoutRunId,
    pub app_id: AppId,
    pub status: PayoutRunStatus,
    /// Partners visited (paid or not).
    #[serde(default)]
    pub partners_done: u32,
    /// The app's partners, once the runner has counted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partners_total: Option<u32>,
    /// Payouts made, and their sum in the program's currency.
    #[serde(default)]
    pub payouts: u32,
    #[serde(default)]
    pub amount: Money,
    pub currency: crate::Currency,
    /// Where the next page of partners starts (`None`: at the beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Why a failed run stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// A referral click.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Click {
    pub id: ClickId,
    pub app_id: AppId,
    pub affiliate_id: AffiliateId,
    pub code: crate::ReferralCode,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Whether it counted in the stats (a visitor's repeat within an hour does not).
    pub counted: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: Timestamp,
}

/// A customer referred by a partner (first attribution wins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Referral {
    pub customer_id: CustomerId,
    pub app_id: AppId,
    pub affiliate_id: AffiliateId,
    /// The partner's own customer account (the key of its record).
    pub affiliate_customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<ClickId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::Email>,
    #[serde(with = "time::serde::rfc3339")]
    pub attributed_at: Timestamp,
    /// Net commission earned from this customer so far (what a refund can reverse).
    #[serde(default)]
    pub earned: Money,
    /// When the customer's latest pending commission approves; a reversal approves
    /// then too, so it never lags behind what it reverses.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_until: Option<Timestamp>,
    /// The customer's payments recorded so far, and when the first was made: what
    /// first-payment and first-months rules are judged by. `None`: a referral made
    /// before payments were counted (see [`Referral::payment_history`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<u32>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_payment_at: Option<Timestamp>,
    /// The customer's latest payment: a refund that names no payment reverses at
    /// its rate, with its rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_payment: Option<PaymentRecord>,
    /// Bumped by every revenue write: what concurrent ones are told apart by.
    #[serde(default)]
    pub revision: i64,
}

impl Referral {
    /// The customer's payments before the one being judged, and when the first
    /// was made. A referral made before payments were counted knows neither: a
    /// customer it earned from has paid before (counted as one payment, the first
    /// at the attribution), one it never earned from is taken as new.
    pub fn payment_history(&self) -> (u32, Option<Timestamp>) {
        match self.payments {
            Some(n) => (n, self.first_payment_at),
            None if self.earned.minor() > 0 => {
                (1, Some(self.first_payment_at.unwrap_or(self.attributed_at)))
            }
            None => (0, None),
        }
    }
}

/// A payment as a refund needs it: what it was, what it earned and by which rule
/// (the first of its commissions), and how much of that refunds reversed so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    pub event_id: String,
    pub amount: Money,
    pub earned: Money,
    #[serde(default)]
    pub reversed: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
}

impl PaymentRecord {
    /// What a refund of `refund` reverses of this payment's commissions: its share of
    /// what the payment earned (the payment's rate, for a percentage), never more
    /// than is left to reverse.
    pub fn reversal_for(&self, refund: Money) -> Money {
        let left = (self.earned.minor() - self.reversed.minor()).max(0);
        Money(self.share_of(refund).minor().clamp(0, left))
    }

    /// `refund`'s share of what the payment earned, rounded half-up as
    /// commissions are (the payment's rate, for a percentage rule).
    pub fn share_of(&self, refund: Money) -> Money {
        if self.amount.minor() <= 0 {
            return Money::ZERO;
        }
        let share = i128::from(self.earned.minor()) * i128::from(refund.minor());
        let amount = i128::from(self.amount.minor());
        let rounded = (2 * share + amount) / (2 * amount);
        Money(i64::try_from(rounded.max(0)).unwrap_or(i64::MAX))
    }
}
