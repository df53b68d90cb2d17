//! What a stress run reports: the load table (latencies and errors per operation)
//! and the audit — through the API, every write the load was told was accepted is
//! present exactly once, and each partner's balance equals the sum of its entries.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Accepted, Api, Op, Partner, Write};
use crate::stats::{Sample, ms};

pub(super) fn load_table(seen: &[Accepted], elapsed: Duration, concurrency: usize) -> String {
    let mut by_op: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
    let mut errors: BTreeMap<Op, u64> = BTreeMap::new();
    let mut unavailable: BTreeMap<Op, u64> = BTreeMap::new();
    for worker in seen {
        for (op, times) in &worker.latencies {
            by_op.entry(*op).or_default().extend(times);
        }
        for (op, count) in &worker.errors {
            *errors.entry(*op).or_default() += count;
        }
        for (op, count) in &worker.unavailable {
            *unavailable.entry(*op).or_default() += count;
        }
    }
    let total: usize = by_op.values().map(Vec::len).sum();
    let all = Sample::new(by_op.values().flatten().copied().collect());
    let mut out = format!(
        "Mixed load: {concurrency} concurrent clients for {:.1} s: {total} requests, {:.0} requests/s, p50 {} ms, p99 {} ms, {} answered 503 (retry later), {} errors.\n\n| Operation | Requests | Requests/s | p50 (ms) | p99 (ms) | 503 | Errors |\n|---|---|---|---|---|---|---|\n",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ms(all.median()),
        ms(all.p99()),
        unavailable.values().sum::<u64>(),
        errors.values().sum::<u64>(),
    );
    for (op, times) in by_op {
        let sample = Sample::new(times);
        out.push_str(&format!(
            "| {op:?} | {} | {:.0} | {} | {} | {} | {} |\n",
            sample.len(),
            sample.len() as f64 / elapsed.as_secs_f64(),
            ms(sample.median()),
            ms(sample.p99()),
            unavailable.get(&op).copied().unwrap_or(0),
            errors.get(&op).copied().unwrap_or(0)
        ));
    }
    let mut samples: BTreeMap<Op, Vec<&String>> = BTreeMap::new();
    for (op, worker_samples) in seen.iter().flat_map(|w| w.error_samples.iter()) {
        samples.entry(*op).or_default().extend(worker_samples);
    }
    for sample in samples.values().flat_map(|s| s.iter().take(3)) {
        out.push_str(&format!("\nError: {sample}\n"));
    }
    out
}

fn cents(value: &Value) -> i64 {
    (value.as_f64().unwrap_or(0.0) * 100.0).round() as i64
}

/// Reads everything back and checks it against what the load saw accepted.
pub(super) async fn audit(
    api: &Api,
    partners: &[Partner],
    seen: &[Accepted],
) -> Result<String, String> {
    let mut problems = Vec::new();

    // Applications: every accepted one listed exactly once, none extra.
    let accepted: HashMap<&str, &str> = seen
        .iter()
        .flat_map(|w| w.applications.iter())
        .map(|(id, email)| (id.as_str(), email.as_str()))
        .collect();
    let listed = api.all("/applications").await?;
    let mut listed_ids: HashMap<String, usize> = HashMap::new();
    for application in &listed {
        *listed_ids
            .entry(application["id"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let duplicated = listed_ids.values().filter(|&&n| n > 1).count();
    let missing = accepted
        .keys()
        .filter(|id| !listed_ids.contains_key(**id))
        .count();
    let uncertain: Vec<&Write> = seen.iter().flat_map(|w| w.uncertain.iter()).collect();
    let count_uncertain = |pick: fn(&Write) -> bool| uncertain.iter().filter(|w| pick(w)).count();
    let uncertain_applications = count_uncertain(|w| matches!(w, Write::Application(_)));
    let expected_total = accepted.len() + partners.len();
    if duplicated > 0
        || missing > 0
        || !(expected_total..=expected_total + uncertain_applications).contains(&listed.len())
    {
        problems.push(format!(
            "applications: {} listed, {expected_total} accepted (+{uncertain_applications} unknown), {missing} missing, {duplicated} duplicated",
            listed.len()
        ));
    }

    // Approvals: one partner per approved application (and per set-up partner).
    let approved: HashSet<&str> = seen
        .iter()
        .flat_map(|w| w.approved.iter().map(String::as_str))
        .collect();
    let affiliates = api.all("").await?;
    let uncertain_approvals = count_uncertain(|w| matches!(w, Write::Approval(_)));
    let expected_partners = approved.len() + partners.len();
    if !(expected_partners..=expected_partners + uncertain_approvals).contains(&affiliates.len()) {
        problems.push(format!(
            "partners: {} listed, {expected_partners} approved (+{uncertain_approvals} unknown)",
            affiliates.len(),
        ));
    }

    // Commissions: one per accepted revenue event, and balances equal to entries.
    let entries = api.all("/commissions").await?;
    let mut per_event: HashMap<String, usize> = HashMap::new();
    let mut earned_by_affiliate: HashMap<String, i64> = HashMap::new();
    for entry in &entries {
        *per_event
            .entry(entry["revenueEventId"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
        *earned_by_affiliate
            .entry(entry["affiliateId"].as_str().unwrap_or("").to_owned())
            .or_default() += cents(&entry["amount"]);
    }
    let revenue: Vec<&(usize, String)> = seen.iter().flat_map(|w| w.revenue.iter()).collect();
    let lost = revenue
        .iter()
        .filter(|(_, event)| per_event.get(event).copied().unwrap_or(0) != 1)
        .count();
    let unknown_events: Vec<&String> = uncertain
        .iter()
        .filter_map(|w| match w {
            Write::Revenue(_, event) => Some(event),
            _ => None,
        })
        .collect();
    let unknown_doubled = unknown_events
        .iter()
        .filter(|event| per_event.get(**event).copied().unwrap_or(0) > 1)
        .count();
    let unknown_taken = unknown_events
        .iter()
        .filter(|event| per_event.contains_key(**event))
        .count();
    if lost > 0 || unknown_doubled > 0 || entries.len() != revenue.len() + unknown_taken {
        problems.push(format!(
            "commissions: {} entries for {} accepted revenue events (+{unknown_taken} of {} unknown), {lost} not present exactly once, {unknown_doubled} unknown ones doubled",
            entries.len(),
            revenue.len(),
            unknown_events.len()
        ));
    }

    // Clicks and balances per partner, from its own dashboard.
    let mut balances_checked = 0;
    for (index, partner) in partners.iter().enumerate() {
        let (status, session) = api
            .call(
                Method::POST,
                "/v1/sessions",
                Some(&json!({"customerId": partner.customer})),
                false,
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(format!("session: {status} {session}"));
        }
        let response = api
            .client
            .get(format!("{}/v1/affiliate/dashboard", api.target.base))
            .bearer_auth(session["token"].as_str().unwrap_or(""))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let dashboard: Value = response.json().await.map_err(|e| e.to_string())?;
        let clicks = seen
            .iter()
            .flat_map(|w| w.clicks.iter())
            .filter(|(p, _)| *p == index)
            .count() as u64;
        let unknown_clicks = uncertain
            .iter()
            .filter(|w| matches!(w, Write::Click(p, _) if *p == index))
            .count() as u64;
        let counted = dashboard["stats"]["clicks"].as_u64().unwrap_or(u64::MAX);
        if !(clicks..=clicks + unknown_clicks).contains(&counted) {
            problems.push(format!(
                "{}: {} clicks counted, {clicks} accepted (+{unknown_clicks} unknown)",
                partner.code, dashboard["stats"]["clicks"]
            ));
        }
        let affiliate = &dashboard["affiliate"];
        let from_entries = earned_by_affiliate
            .get(affiliate["id"].as_str().unwrap_or(""))
            .copied()
            .unwrap_or(0);
        let balance = cents(&affiliate["pendingBalance"])
            + cents(&affiliate["availableBalance"])
            + cents(&affiliate["paidTotal"]);
        if cents(&affiliate["totalEarned"]) != from_entries || balance != from_entries {
            problems.push(format!(
                "{}: totalEarned {} and balances {} but entries sum to {}",
                partner.code,
                affiliate["totalEarned"],
                balance as f64 / 100.0,
                from_entries as f64 / 100.0
            ));
        }
        balances_checked += 1;
    }

    let clicks: usize = seen.iter().map(|w| w.clicks.len()).sum();
    let summary = format!(
        "Audit: {} applications accepted ({} listed), {} approvals ({} partners listed), {clicks} clicks, {} revenue events ({} commission entries), {balances_checked} partner balances equal to their entries; {} writes of unknown outcome (503 or no answer), each present at most once; {} lost or duplicated writes.\n",
        accepted.len(),
        listed.len(),
        approved.len(),
        affiliates.len(),
        revenue.len(),
        entries.len(),
        uncertain.len(),
        problems.len(),
    );
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(format!("{summary}\n{}", problems.join("\n")))
    }
}
