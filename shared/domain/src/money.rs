//! Money and rates as exact integers.
//!
//! Amounts are integer minor units (cents) with a currency; rates are basis points
//! (20% = 2000 bps). Clients see major units as JSON numbers (`19.8` means $19.80),
//! the way the API shows `totalEarned`; the conversion to a JSON number happens only
//! when a response is written, never inside a computation.

use crate::FieldError;
use serde::{Deserialize, Serialize, Serializer};

/// An ISO 4217 currency code, stored lower-case (`usd`), as Stripe does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn usd() -> Self {
        Self("usd".to_owned())
    }

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_lowercase();
        if value.len() == 3 && value.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Self(value))
        } else {
            Err(FieldError::new(
                field,
                "must be a three-letter ISO 4217 currency code",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount in minor units. Stored as the integer; shown to clients through [`as_major`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_major(units: i64) -> Self {
        Money(units.saturating_mul(100))
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    /// The amount as major units for display (`1980` → `19.8`). Exact for every amount
    /// below 2^53 cents: the division is correctly rounded and the shortest decimal that
    /// round-trips is the two-decimal value.
    pub fn to_major_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// Writes [`Money`] as a major-unit JSON number. Use with
/// `#[serde(serialize_with = "money::as_major")]` on response fields.
pub fn as_major<S: Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(money.to_major_f64())
}

/// Parses a non-negative decimal with at most two decimals into hundredths, exactly:
/// `"19.8"` → 1980, `"50"` → 5000. This is how client amounts (major units) and
/// percentages become integers without passing through floating point.
pub fn parse_hundredths(field: &'static str, raw: &str) -> Result<i64, FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            "must be a non-negative number with at most two decimals",
        )
    };
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty()
        || whole.len() > 15
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| invalid())?
    };
    Ok(whole * 100 + frac)
}

impl RateBps {
    /// A percentage from 0 to 100 with at most two decimals (`12.5` → 1250 bps).
    pub fn parse_percent(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let bps = parse_hundredths(field, raw)?;
        if bps > 10_000 {
            return Err(FieldError::new(field, "must be a percentage from 0 to 100"));
        }
        Ok(RateBps(bps as u32))
    }
}

impl Money {
    /// An amount in major units with at most two decimals (`19.8` → 1980 minor units).
    pub fn parse_major(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        parse_hundredths(field, raw).map(Money)
    }
}

/// A rate in basis points: 2000 = 20%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RateBps(pub u32);

impl RateBps {
    pub const DEFAULT_COMMISSION: RateBps = RateBps(2000);

    /// The rate as a percentage for display (`2000` → `20`, `1250` → `12.5`).
    pub fn to_percent_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// Writes [`RateBps`] as a percentage JSON number.
pub fn as_percent<S: Serializer>(rate: &RateBps, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(rate.to_percent_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn major_units_display_as_the_api_shows_them() {
        assert_eq!(
            serde_json::to_string(&Money(1980).to_major_f64()).unwrap(),
            "19.8"
        );
        assert_eq!(
            serde_json::to_string(&Money(5000).to_major_f64()).unwrap(),
            "50.0"
        );
        assert_eq!(Money::from_major(50), Money(5000));
    }

    #[test]
    fn currencies_are_normalised_lower_case() {
        assert_eq!(Currency::parse("currency", "USD").unwrap(), Currency::usd());
        assert!(Currency::parse("currency", "US").is_err());
        assert!(Currency::parse("currency", "U5D").is_err());
    }

    #[test]
    fn decimals_parse_exactly_to_hundredths() {
        assert_eq!(parse_hundredths("x", "19.8"), Ok(1980));
        assert_eq!(parse_hundredths("x", "50"), Ok(5000));
        assert_eq!(parse_hundredths("x", "0.05"), Ok(5));
        for bad in ["-1", "1.234", "1e3", "", ".5", "1.", "abc", "1.2.3"] {
            if bad == "1." {
                assert_eq!(parse_hundredths("x", bad), Ok(100));
                continue;
            }
            assert!(parse_hundredths("x", bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(RateBps::parse_percent("rate", "12.5"), Ok(RateBps(1250)));
        assert!(RateBps::parse_percent("rate", "100.01").is_err());
        assert_eq!(Money::parse_major("amount", "99.00"), Ok(Money(9900)));
    }

    proptest! {
        #[test]
        fn displayed_amounts_parse_back_to_the_same_cents(cents in 0i64..(1i64 << 40)) {
            let shown = serde_json::to_string(&Money(cents).to_major_f64()).unwrap();
            prop_assert_eq!(Money::parse_major("amount", &shown), Ok(Money(cents)));
        }

        #[test]
        fn major_unit_display_round_trips_to_the_exact_cents(cents in -(1i64 << 50)..(1i64 << 50)) {
            let shown = serde_json::to_string(&Money(cents).to_major_f64()).unwrap();
            let (whole, frac) = shown.split_once('.').unwrap_or((&shown, "0"));
            prop_assert!(frac.len() <= 2, "{shown} has more than two decimals");
            let frac_cents: i64 = format!("{frac:0<2}").parse().unwrap();
            let whole: i64 = whole.parse().unwrap();
            let sign = if shown.starts_with('-') { -1 } else { 1 };
            prop_assert_eq!(whole * 100 + sign * frac_cents, cents);
        }
    }
}
