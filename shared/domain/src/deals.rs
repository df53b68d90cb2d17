//! Deals a partner registers: a lead it brings, which the app then works.

use serde::{Deserialize, Serialize};

use crate::{AffiliateId, AppId, Email, Timestamp};

crate::ids::prefixed_id!(
    /// A registered deal.
    DealId, "deal"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DealStatus {
    Pending,
    Accepted,
    Rejected,
    Won,
    Lost,
}

impl DealStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "rejected" => Self::Rejected,
            "won" => Self::Won,
            "lost" => Self::Lost,
            _ => return None,
        })
    }

    /// Pending or accepted: not yet decided, and so counted against the
    /// program's `maxOpenDeals`.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Accepted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Won => "won",
            Self::Lost => "lost",
        }
    }

    /// pending → accepted | rejected; accepted → won | lost. Nothing else.
    pub fn can_become(self, next: DealStatus) -> bool {
        matches!(
            (self, next),
            (Self::Pending, Self::Accepted | Self::Rejected)
                | (Self::Accepted, Self::Won | Self::Lost)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deal {
    pub id: DealId,
    pub app_id: AppId,
    pub affiliate_id: AffiliateId,
    /// The partner's own customer account (where its summary lives); absent on
    /// deals registered before deals named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliate_customer_id: Option<crate::CustomerId>,
    pub lead_email: Email,
    pub lead_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub status: DealStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deal_statuses_move_only_forward() {
        use DealStatus::*;
        assert!(Pending.can_become(Accepted) && Pending.can_become(Rejected));
        assert!(Accepted.can_become(Won) && Accepted.can_become(Lost));
        for (from, to) in [
            (Pending, Won),
            (Rejected, Accepted),
            (Won, Lost),
            (Accepted, Pending),
            (Lost, Won),
        ] {
            assert!(!from.can_become(to), "{from:?} → {to:?}");
        }
    }
}
