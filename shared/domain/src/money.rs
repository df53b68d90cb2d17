//! Money and rates as exact integers.
//!
//! Amounts are integer minor units with a currency; rates are basis points
//! (20% = 2000 bps). How many minor units make a major one is the currency's ISO 4217
//! exponent: 100 cents to the dollar, 1 yen to the yen, 1000 fils to the dinar.
//! Clients see major units as JSON numbers (`19.8` means $19.80, `1000` means ¥1000,
//! `1.234` means 1.234 KWD), the way the API shows `totalEarned`; the conversion
//! happens only when a request is read or a response written (through [`Amount`]),
//! never inside a computation.

use std::fmt;

use crate::FieldError;
use serde::{Deserialize, Serialize, Serializer};

/// Currencies whose ISO 4217 exponent (minor-unit digits) is not 2. Every other code
/// has two decimals. The one list of exponents in the service.
const EXPONENTS: &[(&str, u32)] = &[
    ("bif", 0),
    ("clp", 0),
    ("djf", 0),
    ("gnf", 0),
    ("isk", 0),
    ("jpy", 0),
    ("kmf", 0),
    ("krw", 0),
    ("pyg", 0),
    ("rwf", 0),
    ("ugx", 0),
    ("uyi", 0),
    ("vnd", 0),
    ("vuv", 0),
    ("xaf", 0),
    ("xof", 0),
    ("xpf", 0),
    ("bhd", 3),
    ("iqd", 3),
    ("jod", 3),
    ("kwd", 3),
    ("lyd", 3),
    ("omr", 3),
    ("tnd", 3),
    ("clf", 4),
    ("uyw", 4),
];

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

    /// The ISO 4217 exponent: how many decimals a major amount has (2 for `usd`,
    /// 0 for `jpy`, 3 for `kwd`).
    pub fn minor_digits(&self) -> u32 {
        EXPONENTS
            .iter()
            .find(|(code, _)| *code == self.0)
            .map_or(2, |(_, digits)| *digits)
    }
}

/// An amount in minor units. Stored as the integer; shown to clients through [`Amount`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// Whole major units in `currency` (50 USD → 5000, 50 JPY → 50).
    pub fn from_major(units: i64, currency: &Currency) -> Self {
        Money(units.saturating_mul(10i64.pow(currency.minor_digits())))
    }

    pub fn minor(self) -> i64 {
        self.0
    }
}

/// An amount with its currency's exponent, as responses show it: a JSON number of
/// major units with at most the currency's decimals (`1980` USD → `19.8`, `1000` JPY
/// → `1000`, `1234` KWD → `1.234`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    money: Money,
    digits: u32,
}

impl Amount {
    pub fn new(money: Money, currency: &Currency) -> Self {
        Self {
            money,
            digits: currency.minor_digits(),
        }
    }

    pub fn money(self) -> Money {
        self.money
    }

    /// Every decimal the currency has (`19.80`, `1000`, `0.247`), for text shown to
    /// people. Built from the integer, so exact for every amount.
    pub fn fixed(self) -> String {
        let sign = if self.money.0 < 0 { "-" } else { "" };
        let minor = self.money.0.unsigned_abs();
        if self.digits == 0 {
            return format!("{sign}{minor}");
        }
        let scale = 10u64.pow(self.digits);
        let width = self.digits as usize;
        format!("{sign}{}.{:0width$}", minor / scale, minor % scale)
    }
}

/// The shortest form, trailing zeros dropped (`19.8`, `50`, `1.234`): how CSV
/// exports write amounts.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = self.fixed();
        if fixed.contains('.') {
            f.write_str(fixed.trim_end_matches('0').trim_end_matches('.'))
        } else {
            f.write_str(&fixed)
        }
    }
}

/// A JSON integer for zero-decimal currencies, else a float as the API has always
/// written amounts (`50.0`). The float is exact: `10^digits` is exact in an `f64`,
/// the division is correctly rounded, and while `|minor| < 2^52` the spacing of
/// floats near the quotient is below `10^-digits`, so the shortest decimal that
/// round-trips — what serde writes — is the amount with at most `digits` decimals.
impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.digits == 0 {
            s.serialize_i64(self.money.0)
        } else {
            s.serialize_f64(self.money.0 as f64 / 10f64.powi(self.digits as i32))
        }
    }
}

/// Parses a non-negative decimal with at most two decimals into hundredths, exactly:
/// `"19.8"` → 1980, `"50"` → 5000. This is how percentages become integers without
/// passing through floating point (amounts go through [`Money::parse_major`], which
/// knows their currency's decimals).
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
    /// A non-negative amount in major units of `currency`, exactly: `19.99` USD → 1999,
    /// `1000` JPY → 1000, `1.234` KWD → 1234. Decimals beyond the currency's exponent
    /// are refused unless they are zeros (`1000.0` JPY is 1000; JSON encoders write
    /// whole floats that way), so no amount is ever rounded on the way in.
    pub fn parse_major(
        field: &'static str,
        raw: &str,
        currency: &Currency,
    ) -> Result<Self, FieldError> {
        let digits = currency.minor_digits();
        let invalid = || FieldError::new(field, "must be a non-negative number of major units");
        let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
        if whole.is_empty()
            || whole.len() > 18
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let (kept, extra) = frac.split_at(frac.len().min(digits as usize));
        if extra.bytes().any(|b| b != b'0') {
            return Err(FieldError::new(
                field,
                if digits == 0 {
                    format!(
                        "{} has no minor units: give a whole number",
                        currency.as_str().to_uppercase()
                    )
                } else {
                    format!(
                        "{} has {digits} decimals: give at most {digits}",
                        currency.as_str().to_uppercase()
                    )
                },
            ));
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let kept: i64 = if kept.is_empty() {
            0
        } else {
            format!("{kept:0<width$}", width = digits as usize)
                .parse()
                .map_err(|_| invalid())?
        };
        whole
            .checked_mul(10i64.pow(digits))
            .and_then(|minor| minor.checked_add(kept))
            .filter(|minor| *minor <= MAX_MINOR_UNITS)
            .map(Money)
            .ok_or_else(invalid)
    }
}

/// The largest amount accepted, in minor units: 2^52 - 1 (about 45 trillion
/// dollars, or 4.5 quadrillion yen). Below it an amount's JSON number is exact,
/// and 2,048 of them still sum inside `i64`.
pub const MAX_MINOR_UNITS: i64 = (1 << 52) - 1;

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

    fn currency(code: &str) -> Currency {
        Currency::parse("currency", code).unwrap()
    }

    fn json(money: Money, code: &str) -> String {
        serde_json::to_string(&Amount::new(money, &currency(code))).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::usd().minor_digits(), 2);
        assert_eq!(currency("EUR").minor_digits(), 2);
        assert_eq!(currency("jpy").minor_digits(), 0);
        assert_eq!(currency("KRW").minor_digits(), 0);
        assert_eq!(currency("kwd").minor_digits(), 3);
        assert_eq!(currency("bhd").minor_digits(), 3);
        assert_eq!(currency("clf").minor_digits(), 4);
        assert_eq!(Money::from_major(50, &Currency::usd()), Money(5000));
        assert_eq!(Money::from_major(50, &currency("jpy")), Money(50));
        assert_eq!(Money::from_major(50, &currency("kwd")), Money(50_000));
    }

    #[test]
    fn major_units_display_as_the_api_shows_them() {
        assert_eq!(json(Money(1980), "usd"), "19.8");
        assert_eq!(json(Money(5000), "usd"), "50.0");
        assert_eq!(json(Money(-5), "usd"), "-0.05");
        assert_eq!(json(Money(1000), "jpy"), "1000");
        assert_eq!(json(Money(200), "jpy"), "200");
        assert_eq!(json(Money(1234), "kwd"), "1.234");
        assert_eq!(json(Money(247), "kwd"), "0.247");
        assert_eq!(json(Money(12_345), "clf"), "1.2345");
        assert_eq!(json(Money::ZERO, "jpy"), "0");
    }

    #[test]
    fn text_shows_every_decimal_and_csv_the_shortest_form() {
        let amount = |minor: i64, code: &str| Amount::new(Money(minor), &currency(code));
        assert_eq!(amount(1980, "usd").fixed(), "19.80");
        assert_eq!(amount(-5, "usd").fixed(), "-0.05");
        assert_eq!(amount(1000, "jpy").fixed(), "1000");
        assert_eq!(amount(247, "kwd").fixed(), "0.247");
        assert_eq!(amount(1200, "kwd").fixed(), "1.200");
        assert_eq!(amount(1980, "usd").to_string(), "19.8");
        assert_eq!(amount(5000, "usd").to_string(), "50");
        assert_eq!(amount(1000, "jpy").to_string(), "1000");
        assert_eq!(amount(1200, "kwd").to_string(), "1.2");
        assert_eq!(amount(0, "kwd").to_string(), "0");
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
    }

    #[test]
    fn major_amounts_parse_in_their_currency() {
        let parse = |raw: &str, code: &str| Money::parse_major("amount", raw, &currency(code));
        assert_eq!(parse("19.99", "usd"), Ok(Money(1999)));
        assert_eq!(parse("99.00", "usd"), Ok(Money(9900)));
        assert_eq!(parse("0.05", "usd"), Ok(Money(5)));
        assert_eq!(parse("0", "usd"), Ok(Money::ZERO));
        assert_eq!(parse("1000", "jpy"), Ok(Money(1000)));
        assert_eq!(parse("1000.0", "jpy"), Ok(Money(1000)));
        assert_eq!(parse("1.234", "kwd"), Ok(Money(1234)));
        assert_eq!(parse("1.2", "kwd"), Ok(Money(1200)));
        assert_eq!(parse("1.2345", "clf"), Ok(Money(12_345)));
        assert_eq!(parse("19.990", "usd"), Ok(Money(1999)));
        let yen = parse("10.5", "jpy").unwrap_err();
        assert_eq!(yen.field, "amount");
        assert!(yen.message.contains("JPY has no minor units"), "{yen}");
        let dinar = parse("1.2345", "kwd").unwrap_err();
        assert!(dinar.message.contains("KWD has 3 decimals"), "{dinar}");
        assert!(parse("19.999", "usd").is_err());
        for bad in [
            "-1",
            "-0.5",
            "1e3",
            "",
            ".5",
            "abc",
            "1.2.3",
            "9999999999999999",
        ] {
            assert!(parse(bad, "usd").is_err(), "{bad:?} accepted");
        }
        // 10^15 - 1 whole units times 10^4 is past i64: refused, not wrapped.
        assert!(parse("999999999999999", "clf").is_err());
    }

    proptest! {
        #[test]
        fn displayed_amounts_parse_back_to_the_same_minor_units(
            minor in 0i64..(1i64 << 50),
            code in prop::sample::select(vec!["usd", "jpy", "kwd", "clf"]),
        ) {
            let shown = json(Money(minor), code);
            prop_assert_eq!(
                Money::parse_major("amount", &shown, &currency(code)),
                Ok(Money(minor))
            );
            let text = Amount::new(Money(minor), &currency(code)).fixed();
            prop_assert_eq!(
                Money::parse_major("amount", &text, &currency(code)),
                Ok(Money(minor))
            );
        }

        #[test]
        fn major_unit_display_round_trips_to_the_exact_minor_units(
            minor in -(1i64 << 50)..(1i64 << 50),
            code in prop::sample::select(vec!["usd", "jpy", "kwd", "clf"]),
        ) {
            let digits = currency(code).minor_digits() as usize;
            let shown = json(Money(minor), code);
            let (whole, frac) = shown.split_once('.').unwrap_or((&shown, ""));
            let frac = if frac == "0" { "" } else { frac };
            prop_assert!(frac.len() <= digits, "{} has more than {} decimals", shown, digits);
            let frac_minor: i64 = format!("{frac:0<digits$}").parse().unwrap_or(0);
            let whole: i64 = whole.parse().unwrap();
            let sign = if shown.starts_with('-') { -1 } else { 1 };
            prop_assert_eq!(whole * 10i64.pow(digits as u32) + sign * frac_minor, minor);
        }
    }
}
