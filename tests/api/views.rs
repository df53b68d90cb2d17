//! Every response body type writes exactly what openapi.yaml describes: no field
//! the description lacks, every field it requires. Each view is filled from a
//! sample record with every optional part set, so nothing hides behind a `None`.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::deals::{Deal, DealId, DealStatus};
use partner_domain::ledger::{
    Balances, CommissionId, Entry, EntryKind, EntryStatus, Payout, PayoutId, PayoutRun,
    PayoutRunId, PayoutRunStatus, PayoutStatus,
};
use partner_domain::records::{
    Affiliate, AffiliateStatus, Application, ApplicationForm, ApplicationStatus, ProgramSettings,
};
use partner_domain::{
    AffiliateId, Amount, AppId, ApplicationId, Currency, CustomerId, Email, Money, RateBps,
    ReferralCode,
};
use partner_service::commands::partner::Dashboard;
use partner_service::views::applications::ApplicationView;
use partner_service::views::audit::AuditEntryView;
use partner_service::views::dashboard::DashboardView;
use partner_service::views::ledger::{DealView, EntryView, PayoutRunView, PayoutView, RevenueView};
use partner_service::views::{AffiliateView, PartnerInfo, SettingsView};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

fn schemas() -> Yaml {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let doc: Yaml = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["components"]["schemas"].clone()
}

/// Why `value` does not match `schema` (empty: it matches). Checks object fields
/// both ways, array items, `$ref`s and `oneOf`; types only as far as object/array.
fn mismatches(value: &Json, schema: &Yaml, all: &Yaml, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return mismatches(value, &all[name], all, at);
    }
    if let Some(options) = schema["oneOf"].as_sequence() {
        let fits = options
            .iter()
            .any(|option| mismatches(value, option, all, at).is_empty());
        return if fits {
            Vec::new()
        } else {
            vec![format!("{at}: fits none of the oneOf options: {value}")]
        };
    }
    let mut found = Vec::new();
    match value {
        Json::Object(fields) => {
            let properties = schema["properties"].as_mapping();
            let Some(properties) = properties else {
                return vec![format!(
                    "{at}: an object where the schema has no properties"
                )];
            };
            for (name, field) in fields {
                match properties.get(Yaml::from(name.as_str())) {
                    Some(field_schema) => found.extend(mismatches(
                        field,
                        field_schema,
                        all,
                        &format!("{at}.{name}"),
                    )),
                    None => found.push(format!("{at}.{name}: written but not documented")),
                }
            }
            for required in schema["required"].as_sequence().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !fields.contains_key(name) {
                    found.push(format!("{at}.{name}: required but not written"));
                }
            }
        }
        Json::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                found.extend(mismatches(
                    item,
                    &schema["items"],
                    all,
                    &format!("{at}[{n}]"),
                ));
            }
        }
        _ => {}
    }
    found
}

fn assert_documented(name: &str, view: impl serde::Serialize) {
    let all = schemas();
    let value = serde_json::to_value(view).unwrap();
    let problems = mismatches(&value, &all[name], &all, name);
    assert!(problems.is_empty(), "{problems:#?}\n{value:#}");
}

fn at() -> partner_domain::Timestamp {
    partner_domain::now()
}

fn entry() -> Entry {
    Entry {
        id: CommissionId::generate(),
        app_id: AppId::generate(),
        affiliate_id: AffiliateId::generate(),
        affiliate_customer_id: CustomerId::parse("c", "partner-1").unwrap(),
        customer_id: CustomerId::parse("c", "buyer-1").unwrap(),
        kind: EntryKind::Commission,
        amount: Money(1980),
        currency: Currency::usd(),
        revenue_amount: Money(9900),
        rate: RateBps(2000),
        revenue_event_id: "in_1".into(),
        status: EntryStatus::Paid,
        created_at: at(),
        approves_at: at(),
        payout_id: Some(PayoutId::generate()),
        rule_id: None,
        tier: None,
        product_id: None,
    }
}

fn payout() -> Payout {
    Payout {
        id: PayoutId::generate(),
        app_id: AppId::generate(),
        affiliate_id: AffiliateId::generate(),
        affiliate_customer_id: CustomerId::parse("c", "partner-1").unwrap(),
        amount: Money(5000),
        currency: Currency::usd(),
        entry_count: 3,
        entry_ids: Vec::new(),
        status: PayoutStatus::Paid,
        reference: Some("SEPA-1".into()),
        created_at: at(),
        paid_at: Some(at()),
    }
}

fn deal() -> Deal {
    Deal {
        id: DealId::generate(),
        app_id: AppId::generate(),
        affiliate_id: AffiliateId::generate(),
        affiliate_customer_id: None,
        lead_email: Email::parse("e", "lead@example.com").unwrap(),
        lead_name: "Lead".into(),
        notes: Some("met at a fair".into()),
        status: DealStatus::Accepted,
        created_at: at(),
        updated_at: at(),
    }
}

fn affiliate() -> Affiliate {
    Affiliate {
        id: AffiliateId::generate(),
        app_id: AppId::generate(),
        customer_id: CustomerId::parse("c", "partner-1").unwrap(),
        application_id: ApplicationId::generate(),
        code: ReferralCode::parse("c", "JANE20").unwrap(),
        status: AffiliateStatus::Active,
        commission_rate: Some(RateBps(3000)),
        group_id: None,
        created_at: at(),
    }
}

#[test]
fn ledger_views_write_what_the_description_says() {
    assert_documented("Commission", EntryView::from(&entry()));
    assert_documented("Payout", PayoutView::from(&payout()));
    assert_documented("Deal", DealView::from(&deal()));
    let run = PayoutRun {
        id: PayoutRunId::generate(),
        app_id: AppId::generate(),
        status: PayoutRunStatus::Failed,
        partners_done: 200,
        partners_total: Some(300),
        payouts: 12,
        amount: Money(60_000),
        currency: Currency::usd(),
        cursor: Some("opaque".into()),
        error: Some("the app has no program settings".into()),
        created_at: at(),
        updated_at: at(),
    };
    assert_documented("PayoutRun", PayoutRunView::from(&run));
    let revenue = RevenueView {
        event_id: "in_1".into(),
        customer_id: CustomerId::parse("c", "buyer-1").unwrap(),
        kind: "payment",
        amount: Amount::new(Money(9900), &Currency::usd()),
        currency: Currency::usd(),
        occurred_at: Some(at()),
        commission: Some(EntryView::from(&entry())),
        commissions: vec![EntryView::from(&entry())],
        reason: None,
    };
    assert_documented("RevenueResult", revenue);
}

#[test]
fn partner_views_write_what_the_description_says() {
    let mut settings = ProgramSettings::default();
    settings.branding.name = Some("Acme partners".into());
    settings.branding.color = Some("#123456".into());
    settings.branding.logo_url = Some("https://acme.example/logo.png".into());
    settings.branding.website_url = Some("https://acme.example".into());
    settings.allowed_origins = vec!["https://acme.example".into()];
    let balances = Balances {
        total_earned: Money(10_000),
        pending: Money(2_000),
        available: Money(3_000),
        paid: Money(5_000),
    };
    let dashboard = Dashboard {
        app_name: "Acme".into(),
        affiliate: affiliate(),
        settings: settings.clone(),
        balances,
        stats: Default::default(),
        recent_commissions: vec![(&entry()).into()],
        payouts: vec![payout()],
        deals: vec![deal()],
        terms: "20% of every payment".into(),
        groups: Default::default(),
    };
    assert_documented("Dashboard", DashboardView::from(&dashboard));
    assert_documented(
        "PartnerInfo",
        PartnerInfo::enrolled(affiliate(), &settings, balances),
    );
    assert_documented("NotEnrolled", PartnerInfo::not_enrolled());
    assert_documented("Settings", SettingsView::from(settings));
    assert_documented("Affiliate", AffiliateView::from(affiliate()));
}

#[test]
fn an_application_writes_what_the_description_says() {
    let application = Application {
        id: ApplicationId::generate(),
        app_id: AppId::generate(),
        form: ApplicationForm {
            email: Email::parse("e", "jane@example.com").unwrap(),
            name: "Jane".into(),
            company: Some("Acme".into()),
            website: Some("https://jane.example".into()),
            reason: Some("audience".into()),
        },
        status: ApplicationStatus::Rejected,
        submitted_at: at(),
        reviewed_at: Some(at()),
        reviewed_by: Some(partner_domain::audit::Actor::admin("ops@acme.com")),
        rejection_reason: Some("not a fit".into()),
        affiliate_id: Some(AffiliateId::generate()),
        customer_id: Some(CustomerId::parse("c", "user_42").unwrap()),
        group_id: None,
    };
    assert_documented("Application", ApplicationView::from(application));
}

#[test]
fn an_audit_entry_writes_what_the_description_says() {
    let entry = AuditEntry::new(
        AppId::generate(),
        Actor::admin("ops@acme.com"),
        AuditAction::ApplicationApproved,
        AuditSubject::new(SubjectKind::Application, ApplicationId::generate()),
    )
    .with_summary("partner aff_1 with code JANE20");
    assert_documented("AuditEntry", AuditEntryView::from(entry));
    // The description lists exactly the actions and subject kinds the code writes.
    let all = schemas();
    let listed = |name: &str| -> Vec<Json> {
        let values = all[name]["enum"].as_sequence().expect(name);
        values
            .iter()
            .map(|v| Json::String(v.as_str().unwrap().to_owned()))
            .collect()
    };
    let actions: Vec<Json> = AuditAction::ALL
        .iter()
        .map(|a| serde_json::to_value(a).unwrap())
        .collect();
    assert_eq!(listed("AuditAction"), actions);
    let kinds: Vec<Json> = SubjectKind::ALL
        .iter()
        .map(|k| serde_json::to_value(k).unwrap())
        .collect();
    assert_eq!(listed("AuditSubjectKind"), kinds);
}

/// The check itself catches both directions.
#[test]
fn an_undocumented_or_missing_field_is_caught() {
    let all = schemas();
    let mut payout = serde_json::to_value(PayoutView::from(&payout())).unwrap();
    payout["secretField"] = Json::Bool(true);
    payout.as_object_mut().unwrap().remove("currency");
    let problems = mismatches(&payout, &all["Payout"], &all, "Payout");
    assert!(
        problems.iter().any(|p| p.contains("secretField"))
            && problems.iter().any(|p| p.contains("currency")),
        "{problems:#?}"
    );
}
