//! Partner groups: their reward rules, tiers and the settings they override.
//! Amounts are in major units of the program's currency, rates in percent.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use partner_domain::rewards::{
    AppliesTo, Group, GroupId, MAX_RULES, MAX_TIERS, Reward, Rule, Tier,
};
use partner_domain::text::required_text;
use partner_domain::{Currency, FieldError, Money, RateBps};
use partner_service::admin_auth::AdminApp;
use partner_service::commands::{CommandError, Missing, groups, settings};
use partner_service::extract::{self, PathParam, not_null, present};

use crate::settings::days;
use partner_service::views::ListPage;
use partner_service::views::groups::GroupView;
use partner_service::{ApiError, AppState};
use serde::Deserialize;
use serde_json::Number;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RuleBody {
    id: Option<String>,
    kind: String,
    rate: Option<Number>,
    amount: Option<Number>,
    applies_to: Option<String>,
    months: Option<u32>,
    payments: Option<u32>,
    product_ids: Option<Vec<String>>,
    min_amount: Option<Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TierBody {
    min_customers: u32,
    rate: Number,
}

fn rate(field: &'static str, n: &Number) -> Result<RateBps, FieldError> {
    RateBps::parse_percent(field, &n.to_string())
}

fn money(field: &'static str, n: &Number, currency: &Currency) -> Result<Money, FieldError> {
    Money::parse_major(field, &n.to_string(), currency)
}

/// A rule id a client chose, or a fresh one.
fn rule_id(raw: Option<&str>) -> Result<String, FieldError> {
    match raw {
        None => Ok(format!(
            "rule_{}",
            partner_domain::api_key::random_base62(12)
        )),
        Some(id)
            if (1..=40).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) =>
        {
            Ok(id.to_owned())
        }
        Some(_) => Err(FieldError::new(
            "rules",
            "a rule's id is 1 to 40 letters, digits, - or _",
        )),
    }
}

impl RuleBody {
    fn parse(self, currency: &Currency) -> Result<Rule, FieldError> {
        let reward = match (self.kind.as_str(), &self.rate, &self.amount) {
            ("percentage", Some(r), None) => Reward::Percentage(rate("rules", r)?),
            ("flat", None, Some(a)) => {
                let amount = money("rules", a, currency)?;
                if amount == Money::ZERO {
                    return Err(FieldError::new(
                        "rules",
                        "a flat amount must be more than 0",
                    ));
                }
                Reward::Flat(amount)
            }
            _ => {
                return Err(FieldError::new(
                    "rules",
                    "a rule is {kind: percentage, rate} or {kind: flat, amount}",
                ));
            }
        };
        let applies_to = match (self.applies_to.as_deref(), self.months, self.payments) {
            (None | Some("every_payment"), None, None) => AppliesTo::EveryPayment,
            (Some("first_payment"), None, None) => AppliesTo::FirstPayment,
            (Some("first_months"), Some(m @ 1..=120), None) => AppliesTo::FirstMonths(m),
            (Some("first_payments"), None, Some(p @ 1..=1000)) => AppliesTo::FirstPayments(p),
            _ => {
                return Err(FieldError::new(
                    "rules",
                    "appliesTo is every_payment, first_payment, first_months (with months, 1 to 120) or first_payments (with payments, 1 to 1000)",
                ));
            }
        };
        // Bounded so an app's 25 groups of 10 rules stay well inside one item.
        let product_ids = self.product_ids.unwrap_or_default();
        if product_ids.len() > 10 {
            return Err(FieldError::new("rules", "a rule names at most 10 products"));
        }
        let product_ids = product_ids
            .iter()
            .map(|p| required_text("rules", p, 64))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rule {
            id: rule_id(self.id.as_deref())?,
            reward,
            applies_to,
            product_ids,
            min_amount: self
                .min_amount
                .as_ref()
                .map(|m| money("rules", m, currency))
                .transpose()?,
        })
    }
}

fn parse_rules(raw: Vec<RuleBody>, currency: &Currency) -> Result<Vec<Rule>, FieldError> {
    if raw.is_empty() || raw.len() > MAX_RULES {
        return Err(FieldError::new("rules", "must hold 1 to 10 rules"));
    }
    let rules = raw
        .into_iter()
        .map(|r| r.parse(currency))
        .collect::<Result<Vec<_>, _>>()?;
    for (n, rule) in rules.iter().enumerate() {
        if rules[..n].iter().any(|other| other.id == rule.id) {
            return Err(FieldError::new("rules", "rule ids must differ"));
        }
    }
    Ok(rules)
}

fn parse_tiers(raw: Vec<TierBody>) -> Result<Vec<Tier>, FieldError> {
    if raw.len() > MAX_TIERS {
        return Err(FieldError::new("tiers", "must hold at most 10 tiers"));
    }
    raw.iter()
        .map(|t| {
            if t.min_customers == 0 {
                return Err(FieldError::new("tiers", "minCustomers must be at least 1"));
            }
            Ok(Tier {
                min_customers: t.min_customers,
                rate: rate("tiers", &t.rate)?,
            })
        })
        .collect()
}

fn slug(raw: &str) -> Result<String, FieldError> {
    let ok = (2..=40).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldError::new(
            "slug",
            "must be 2 to 40 lowercase letters, digits or -",
        ))
    }
}

/// `{name, slug, rules, tiers?, holdingPeriodDays?, minPayoutAmount?,
/// cookieDurationDays?, autoApprove?}`; a setting left out is the program's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GroupBody {
    name: String,
    slug: String,
    rules: Vec<RuleBody>,
    #[serde(default, deserialize_with = "not_null")]
    tiers: Option<Vec<TierBody>>,
    holding_period_days: Option<u32>,
    min_payout_amount: Option<Number>,
    cookie_duration_days: Option<u32>,
    #[serde(default, deserialize_with = "not_null")]
    auto_approve: Option<bool>,
}

impl GroupBody {
    fn parse(self, currency: &Currency) -> Result<Group, FieldError> {
        let now = partner_domain::now();
        Ok(Group {
            id: GroupId::generate(),
            name: required_text("name", &self.name, 100)?,
            slug: slug(&self.slug)?,
            rules: parse_rules(self.rules, currency)?,
            tiers: parse_tiers(self.tiers.unwrap_or_default())?,
            holding_period_days: days("holdingPeriodDays", self.holding_period_days, 0)?,
            min_payout_amount: self
                .min_payout_amount
                .as_ref()
                .map(|m| money("minPayoutAmount", m, currency))
                .transpose()?,
            cookie_duration_days: days("cookieDurationDays", self.cookie_duration_days, 1)?,
            auto_approve: self.auto_approve.unwrap_or(false),
            created_at: now,
            updated_at: now,
        })
    }
}

/// Any field of [`GroupBody`]; `null` returns an overridden setting to the program's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GroupChange {
    #[serde(default, deserialize_with = "not_null")]
    name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    slug: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    rules: Option<Vec<RuleBody>>,
    #[serde(default, deserialize_with = "not_null")]
    tiers: Option<Vec<TierBody>>,
    #[serde(default, deserialize_with = "present")]
    holding_period_days: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    min_payout_amount: Option<Option<Number>>,
    #[serde(default, deserialize_with = "present")]
    cookie_duration_days: Option<Option<u32>>,
    #[serde(default, deserialize_with = "not_null")]
    auto_approve: Option<bool>,
}

/// A parsed change: each field `Some` is set.
struct ParsedChange {
    name: Option<String>,
    slug: Option<String>,
    rules: Option<Vec<Rule>>,
    tiers: Option<Vec<Tier>>,
    holding_period_days: Option<Option<u32>>,
    min_payout_amount: Option<Option<Money>>,
    cookie_duration_days: Option<Option<u32>>,
    auto_approve: Option<bool>,
}

impl GroupChange {
    fn parse(self, currency: &Currency) -> Result<ParsedChange, FieldError> {
        Ok(ParsedChange {
            name: self
                .name
                .as_deref()
                .map(|n| required_text("name", n, 100))
                .transpose()?,
            slug: self.slug.as_deref().map(slug).transpose()?,
            rules: self.rules.map(|r| parse_rules(r, currency)).transpose()?,
            tiers: self.tiers.map(parse_tiers).transpose()?,
            holding_period_days: self
                .holding_period_days
                .map(|d| days("holdingPeriodDays", d, 0))
                .transpose()?,
            min_payout_amount: self
                .min_payout_amount
                .map(|m| {
                    m.as_ref()
                        .map(|m| money("minPayoutAmount", m, currency))
                        .transpose()
                })
                .transpose()?,
            cookie_duration_days: self
                .cookie_duration_days
                .map(|d| days("cookieDurationDays", d, 1))
                .transpose()?,
            auto_approve: self.auto_approve,
        })
    }
}

impl ParsedChange {
    fn apply(&self, group: &mut Group) {
        if let Some(name) = &self.name {
            group.name.clone_from(name);
        }
        if let Some(slug) = &self.slug {
            group.slug.clone_from(slug);
        }
        if let Some(rules) = &self.rules {
            group.rules.clone_from(rules);
        }
        if let Some(tiers) = &self.tiers {
            group.tiers.clone_from(tiers);
        }
        if let Some(days) = self.holding_period_days {
            group.holding_period_days = days;
        }
        if let Some(amount) = self.min_payout_amount {
            group.min_payout_amount = amount;
        }
        if let Some(days) = self.cookie_duration_days {
            group.cookie_duration_days = days;
        }
        if let Some(auto) = self.auto_approve {
            group.auto_approve = auto;
        }
    }
}

async fn currency(state: &AppState, admin: &AdminApp) -> Result<Currency, ApiError> {
    Ok(settings::get(state.store(), &admin.app_id).await?.currency)
}

/// The program's currency (the groups' amounts are in it) and the app's groups,
/// read together.
async fn currency_and_groups(
    state: &AppState,
    admin: &AdminApp,
) -> Result<(Currency, Vec<Group>), ApiError> {
    let store = state.store();
    let (apps, all) = (store.apps(), store.groups());
    let (settings, set) = tokio::join!(apps.settings(&admin.app_id), all.all(&admin.app_id));
    let currency = settings?
        .ok_or(CommandError::NotFound(Missing::Settings(
            admin.app_id.clone(),
        )))?
        .currency;
    Ok((currency, set?.groups))
}

fn group_id(raw: &str) -> Result<GroupId, ApiError> {
    GroupId::parse("groupId", raw).map_err(|_| CommandError::NotFound(Missing::Group).into())
}

/// `POST …/affiliates/groups` → 201.
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: AdminApp,
    extract::Json(body): extract::Json<GroupBody>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let currency = currency(&state, &admin).await?;
    let group = body.parse(&currency)?;
    let created = groups::create(&state, &admin.app_id, group, &admin.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(GroupView::new(&created, &currency)),
    ))
}

/// `GET …/affiliates/groups`: every group of the app (the program settings are the
/// default group, for partners in none).
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
) -> Result<Json<ListPage<GroupView>>, ApiError> {
    let (currency, set) = currency_and_groups(&state, &admin).await?;
    Ok(Json(ListPage {
        data: set.iter().map(|g| GroupView::new(g, &currency)).collect(),
        next_cursor: None,
    }))
}

/// `GET …/affiliates/groups/{groupId}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<Json<GroupView>, ApiError> {
    let id = group_id(&id)?;
    let (currency, set) = currency_and_groups(&state, &admin).await?;
    let group = set
        .iter()
        .find(|g| g.id == id)
        .ok_or(CommandError::NotFound(Missing::Group))?;
    Ok(Json(GroupView::new(group, &currency)))
}

/// `PATCH …/affiliates/groups/{groupId}`: changes apply to revenue from then on.
pub(crate) async fn patch(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
    extract::Json(body): extract::Json<GroupChange>,
) -> Result<Json<GroupView>, ApiError> {
    let id = group_id(&id)?;
    let currency = currency(&state, &admin).await?;
    let change = body.parse(&currency)?;
    let changed = groups::change(
        &state,
        &admin.app_id,
        &id,
        &|group| change.apply(group),
        &admin.actor(),
    )
    .await?;
    Ok(Json(GroupView::new(&changed, &currency)))
}

/// `DELETE …/affiliates/groups/{groupId}` → 204: its partners are in the default
/// group from then on.
pub(crate) async fn delete(
    State(state): State<AppState>,
    admin: AdminApp,
    PathParam((_, id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = group_id(&id)?;
    groups::delete(&state, &admin.app_id, &id, &admin.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
