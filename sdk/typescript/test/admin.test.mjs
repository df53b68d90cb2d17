// The whole API through the SDK against a real `partnerctl serve`: settings,
// applications and their review, partners, clicks, referrals, revenue,
// commissions, payout runs, deals, API keys and the audit log of it all, each with
// the credential it needs; and partner groups with their reward rules.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { PartnerProgram, PartnerProgramError } from "../dist/esm/index.js";
import { startServer } from "./support/server.mjs";

let server;
/** The app's server (secret key) and back office (admin token), in one client. */
let app;

before(async () => {
  server = await startServer({ appName: "Admin" });
  app = new PartnerProgram({
    baseUrl: server.baseUrl, apiKey: server.apiKey, adminToken: server.adminToken, appId: server.appId,
  });
});
after(() => server?.stop());

async function until(what, check, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("settings: read, change some fields, the others keep their value", async () => {
  const before = await app.admin.settings.get();
  assert.equal(before.enabled, true);
  assert.equal(before.currency, "usd");
  const after = await app.admin.settings.update({
    holdingPeriodDays: 0,
    minPayoutAmount: 10,
    allowedOrigins: ["http://localhost:5173"],
    branding: { name: "Acme Partners", websiteUrl: "https://acme.example" },
  });
  assert.equal(after.holdingPeriodDays, 0);
  assert.equal(after.minPayoutAmount, 10);
  assert.deepEqual(after.allowedOrigins, ["http://localhost:5173"]);
  assert.equal(after.branding.name, "Acme Partners");
  assert.equal(after.defaultCommissionRate, before.defaultCommissionRate);
  assert.equal(after.reapplyAfterDays, 30);
  assert.equal(after.maxOpenDeals, before.maxOpenDeals);
  await assert.rejects(app.admin.settings.update({ currency: "dollars" }), { status: 400, code: "invalid_request", field: "currency" });
});

test("applications: list pages, iterate all, get, approve, reject, and the 409s", async () => {
  const people = [
    { email: "ada@example.com", name: "Ada Lovelace", customerId: "user_ada" },
    { email: "bob@example.com", name: "Bob Stone", customerId: "user_bob" },
    { email: "cy@example.com", name: "Cy Young", website: "cy.example" },
  ];
  const applied = [];
  for (const person of people) applied.push(await app.affiliates.apply(person));
  assert.ok(applied.every((a) => a.status === "pending" && a.id.startsWith("apl_")));

  const first = await app.admin.applications.list({ status: "pending", limit: 2 });
  assert.equal(first.data.length, 2);
  assert.ok(first.nextCursor);
  const emails = [];
  for await (const application of app.admin.applications.all({ status: "pending", limit: 1 })) emails.push(application.email);
  assert.deepEqual(emails.sort(), people.map((p) => p.email).sort());

  const cy = await app.admin.applications.get(applied[2].id);
  assert.equal(cy.website, "https://cy.example");
  assert.equal(cy.appId, server.appId);

  const ada = await app.admin.applications.review(applied[0].id, { action: "approve", code: "ADA30" });
  assert.equal(ada.application.status, "approved");
  assert.deepEqual(ada.affiliate && { code: ada.affiliate.code, customer: ada.affiliate.customer_id }, { code: "ADA30", customer: "user_ada" });
  const bob = await app.admin.applications.review(applied[1].id, { action: "approve" });
  assert.match(bob.affiliate.code, /^BOB/);
  const rejected = await app.admin.applications.review(applied[2].id, { action: "reject", rejectionReason: "No audience yet" });
  assert.equal(rejected.affiliate, undefined);

  await assert.rejects(app.admin.applications.review(applied[2].id, { action: "approve" }), {
    status: 409, code: "application_already_reviewed",
  });
  await assert.rejects(app.admin.applications.get("apl_00000000000000000000000000"), { status: 404, code: "application_not_found" });

  const status = await app.affiliates.getApplicationStatus("cy@example.com");
  assert.equal(status.applied && status.status, "rejected");
  assert.equal(status.applied && status.rejectionReason, "No audience yet");
  const again = await app.affiliates.apply({ email: "cy@example.com", name: "Cy Young" }).catch((e) => e);
  assert.ok(again instanceof PartnerProgramError);
  assert.equal(again.code, "application_exists");
  assert.ok(Date.parse(again.retryAfter) > Date.now() + 29 * 86_400_000, `retryAfter ${again.retryAfter}`);
});

test("bulk review: one outcome per id, in order, each as its single review would answer", async () => {
  const first = await app.affiliates.apply({ email: "gil@example.com", name: "Gil" });
  const second = await app.affiliates.apply({ email: "hal@example.com", name: "Hal" });
  const missing = "apl_00000000000000000000000000";
  const { results } = await app.admin.applications.bulkReview([first.id, missing, second.id], {
    action: "reject", rejectionReason: "Not yet",
  });
  assert.deepEqual(results.map((r) => [r.id, r.status]), [[first.id, 200], [missing, 404], [second.id, 200]]);
  assert.equal(results[0].application.status, "rejected");
  assert.equal(results[1].problem.code, "application_not_found");
  const again = await app.admin.applications.bulkReview([first.id], { action: "approve" });
  assert.equal(again.results[0].status, 409);
});

test("partners: list, get, set a rate, suspend and reactivate", async () => {
  const page = await app.admin.partners.list({ limit: 1 });
  assert.equal(page.data.length, 1);
  const all = [];
  for await (const partner of app.admin.partners.all({ limit: 1 })) all.push(partner);
  assert.equal(all.length, 2);
  const ada = all.find((p) => p.code === "ADA30");
  assert.equal((await app.admin.partners.get(ada.id)).customerId, "user_ada");
  assert.equal((await app.admin.partners.update(ada.id, { commissionRate: 30 })).commissionRate, 30);
  assert.equal((await app.admin.partners.update(ada.id, { status: "suspended" })).status, "suspended");
  await assert.rejects(app.affiliates.trackReferral("ADA30", "https://acme.example/?ref=ADA30"), { status: 404, code: "code_not_found" });
  assert.equal((await app.admin.partners.update(ada.id, { status: "active" })).status, "active");
});

test("earnings: click, referral, revenue (idempotent), commissions, a payout run, mark paid", async () => {
  const click = await app.affiliates.trackReferral("ADA30", "https://acme.example/?ref=ADA30", { visitorId: "v_1", referrer: "https://blog.example/" });
  assert.equal(click.counted, true);
  const repeat = await app.affiliates.trackReferral("ADA30", "https://acme.example/?ref=ADA30", { visitorId: "v_1" });
  assert.equal(repeat.counted, false);

  const referral = await app.conversions.referral({ customerId: "user_77", clickId: click.id, email: "buyer@example.org" });
  assert.equal(referral.clickId, click.id);
  await assert.rejects(app.conversions.referral({ customerId: "user_77", code: "ADA30" }), { status: 409, code: "already_referred" });

  const payment = { eventId: "in_1001", customerId: "user_77", amount: 100, currency: "usd", type: "payment" };
  const revenue = await app.conversions.revenue(payment);
  assert.equal(revenue.commission.amount, 30);
  assert.equal(revenue.commission.rate, 30);
  assert.deepEqual(await app.conversions.revenue(payment), revenue, "a repeated eventId answers the first result");
  const unreferred = await app.conversions.revenue({ ...payment, eventId: "in_1002", customerId: "user_nobody" });
  assert.equal(unreferred.commission, null);
  assert.equal(unreferred.reason, "not_referred");

  const ada = await until("the commission to be approved (holding 0 days)", async () => {
    const partner = await app.affiliates.get("user_ada");
    return partner.enrolled && partner.availableBalance === 30 ? partner : null;
  });
  assert.equal(ada.totalEarned, 30);

  const commissions = await app.admin.commissions.list({ affiliateId: ada.id });
  assert.equal(commissions.data.length, 1);
  assert.equal(commissions.data[0].revenueEventId, "in_1001");
  const approved = [];
  for await (const c of app.admin.commissions.all({ status: "approved" })) approved.push(c.id);
  assert.deepEqual(approved, [commissions.data[0].id]);
  const csv = await app.admin.commissions.exportCsv({ affiliateId: ada.id });
  assert.equal(csv.trim().split("\n").length, 2, csv);
  assert.match(csv, /in_1001/);

  const run = await app.admin.payouts.startRun();
  assert.match(run.id, /^prun_/);
  assert.equal(run.status, "running");
  await assert.rejects(app.admin.payouts.startRun(), { status: 409, code: "payout_run_in_progress" });
  const done = await until("the payout run to complete", async () => {
    const now = await app.admin.payouts.getRun(run.id);
    return now.status !== "running" ? now : null;
  });
  assert.equal(done.status, "completed");
  assert.equal(done.payouts, 1);
  assert.equal(done.amount, 30);

  const payouts = await app.admin.payouts.list();
  assert.equal(payouts.data.length, 1);
  const [payout] = payouts.data;
  assert.equal(payout.commissionCount, 1);
  assert.match(await app.admin.payouts.exportCsv(), new RegExp(payout.id));
  const paid = await app.admin.payouts.markPaid(payout.id, { reference: "wire 2026-001" });
  assert.equal(paid.status, "paid");
  assert.equal(paid.reference, "wire 2026-001");
  await assert.rejects(app.admin.payouts.markPaid(payout.id), { status: 409, code: "payout_already_paid" });
  const ids = [];
  for await (const p of app.admin.payouts.all()) ids.push(p.id);
  assert.deepEqual(ids, [payout.id]);
  assert.equal((await app.affiliates.get("user_ada")).paidTotal, 30);
});

test("deals: a partner registers one with its session, the admin moves it along", async () => {
  const { token, expiresAt } = await app.sessions.create("user_bob");
  assert.ok(Date.parse(expiresAt) > Date.now() + 50 * 60_000);
  const bob = new PartnerProgram({ baseUrl: server.baseUrl, sessionToken: token });
  const info = await bob.affiliates.getInfo();
  assert.equal(info.enrolled && info.customerId, "user_bob");
  const deal = await bob.affiliates.registerDeal({ leadEmail: "cto@bigcorp.example", leadName: "Big Corp", notes: null });
  assert.equal(deal.status, "pending");
  await assert.rejects(bob.affiliates.registerDeal({ leadEmail: "CTO@bigcorp.example", leadName: "Big Corp" }), { status: 409, code: "deal_exists" });
  assert.deepEqual((await bob.affiliates.listDeals()).data.map((d) => d.id), [deal.id]);

  const listed = await app.admin.deals.list();
  assert.deepEqual(listed.data.map((d) => d.id), [deal.id]);
  assert.equal((await app.admin.deals.updateStatus(deal.id, "accepted")).status, "accepted");
  await assert.rejects(app.admin.deals.updateStatus(deal.id, "rejected"), { status: 409, code: "invalid_transition" });
  assert.equal((await app.admin.deals.updateStatus(deal.id, "won")).status, "won");
  const dealIds = [];
  for await (const d of app.admin.deals.all()) dealIds.push(d.status);
  assert.deepEqual(dealIds, ["won"]);

  const nobody = new PartnerProgram({ baseUrl: server.baseUrl, sessionToken: (await app.sessions.create("user_nobody")).token });
  assert.deepEqual(await nobody.affiliates.getInfo(), { enrolled: false });
  await assert.rejects(nobody.affiliates.getDashboard(), { status: 404, code: "not_a_partner" });
});

test("API keys: list, create a publishable key, use it where it opens, revoke it", async () => {
  const keys = await app.admin.apiKeys.list();
  assert.deepEqual(keys.data.map((k) => k.kind).sort(), ["publishable", "secret"]);
  assert.equal(keys.nextCursor, null);
  const created = await app.admin.apiKeys.create({ kind: "publishable", label: "pricing page" });
  assert.match(created.key, /^pk_live_/);
  assert.equal(created.label, "pricing page");

  const page = new PartnerProgram({ baseUrl: server.baseUrl, publishableKey: created.key });
  assert.equal((await page.affiliates.apply({ email: "dee@example.com", name: "Dee" })).status, "pending");
  await assert.rejects(page.affiliates.apply({ email: "eve@example.com", name: "Eve", customerId: "user_eve" }), {
    status: 403, code: "publishable_key_not_allowed", field: "customerId",
  });
  const misused = new PartnerProgram({ baseUrl: server.baseUrl, apiKey: created.key });
  await assert.rejects(misused.affiliates.getApplicationStatus("dee@example.com"), { status: 403, code: "publishable_key_not_allowed" });

  assert.equal(await app.admin.apiKeys.revoke(created.id), undefined);
  const after = await app.admin.apiKeys.list();
  assert.ok(after.data.find((k) => k.id === created.id).revokedAt);
  await assert.rejects(page.affiliates.apply({ email: "fay@example.com", name: "Fay" }), { status: 401, code: "unauthorized" });
});

test("an admin token of another app, or none, is refused", async () => {
  const wrongApp = new PartnerProgram({ baseUrl: server.baseUrl, adminToken: server.adminToken, appId: "app_01M8Q9GEKF3BZC6ZY6VE9DNR3H" });
  await assert.rejects(wrongApp.admin.settings.get(), { status: 403, code: "forbidden" });
  const badToken = new PartnerProgram({ baseUrl: server.baseUrl, adminToken: "not.a.jwt", appId: server.appId });
  await assert.rejects(badToken.admin.settings.get(), { status: 401, code: "unauthorized" });
});

test("audit log: every change above names its actor, newest first, by actor and since", async () => {
  const first = await app.admin.auditLog.list({ limit: 5 });
  assert.equal(first.data.length, 5);
  assert.ok(first.nextCursor);
  const ids = first.data.map((e) => e.id);
  assert.deepEqual([...ids].sort().reverse(), ids, "newest first");

  // The app's server key recorded the revenue (and no other key did).
  const secret = (await app.admin.apiKeys.list()).data.find((k) => k.kind === "secret");
  const byKey = [];
  for await (const entry of app.admin.auditLog.all({ actor: `apiKey:${secret.id}`, limit: 10 })) byKey.push(entry);
  assert.ok(byKey.every((e) => e.actor === `apiKey:${secret.id}`));
  const revenue = byKey.filter((e) => e.action === "revenue.recorded").map((e) => e.subject.id).sort();
  assert.deepEqual(revenue, ["in_1001", "in_1002"], "the repeated in_1001 changed nothing, so it is there once");

  // partnerctl's admin token reviewed; the applications say so too.
  const reviews = [];
  for await (const entry of app.admin.auditLog.all({ actor: "admin:partnerctl" })) {
    if (entry.action === "application.approved") reviews.push(entry.subject.id);
  }
  const approved = (await app.admin.applications.list({ status: "approved" })).data;
  assert.deepEqual(reviews.sort(), approved.map((a) => a.id).sort());
  assert.ok(approved.every((a) => a.reviewedBy === "admin:partnerctl"));

  // Bob registered his deal himself; the payout runner made the payout.
  const bob = (await app.admin.auditLog.list({ actor: "partner:user_bob" })).data;
  assert.deepEqual(bob.map((e) => [e.action, e.subject.kind]), [["deal.registered", "deal"]]);
  const system = (await app.admin.auditLog.list({ actor: "system" })).data.map((e) => e.action);
  assert.ok(system.includes("payout.created") && system.includes("payout_run.completed"), system.join());

  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  assert.deepEqual((await app.admin.auditLog.list({ since: tomorrow })).data, []);
  await assert.rejects(app.admin.auditLog.list({ actor: "root" }), { status: 400, code: "invalid_request", field: "actor" });
});

test("stripe: connect shows the endpoint and never the secret; events list; disconnect", async () => {
  await assert.rejects(app.admin.stripe.get(), { status: 404, code: "integration_not_found" });
  await assert.rejects(app.admin.stripe.connect({ webhookSecret: "sk_live_nope" }), {
    status: 400, code: "invalid_request", field: "webhookSecret",
  });
  const secret = "whsec_sdkTestSigningSecret0123456789";
  const connected = await app.admin.stripe.connect({ webhookSecret: secret, livemode: false });
  assert.equal(connected.connected, true);
  assert.equal(connected.livemode, false);
  assert.equal(connected.endpointUrl, `${server.baseUrl}/v1/integrations/stripe/${server.appId}`);
  assert.ok(!JSON.stringify(connected).includes(secret));
  const read = await app.admin.stripe.get();
  assert.equal(read.lastEventAt, null);
  assert.deepEqual((await app.admin.stripe.events({ limit: 5 })).data, []);
  const all = [];
  for await (const event of app.admin.stripe.allEvents()) all.push(event);
  assert.deepEqual(all, []);
  assert.equal(await app.admin.stripe.disconnect(), undefined);
  await assert.rejects(app.admin.stripe.disconnect(), { status: 404, code: "integration_not_found" });
});

test("groups: create, list, get, update; a partner moved in earns by its rules; delete", async () => {
  const group = await app.admin.groups.create({
    name: "Launch partners", slug: "launch-sdk",
    rules: [{ id: "first", kind: "flat", amount: 50, appliesTo: "first_payment" }, { kind: "percentage", rate: 30 }],
    tiers: [{ minCustomers: 10, rate: 35 }],
  });
  assert.match(group.id, /^grp_/);
  assert.equal(group.terms, "50.00 USD on the first payment; 30% of every payment; 35% from 10 paying customers");
  assert.ok((await app.admin.groups.list()).data.some((g) => g.id === group.id));
  assert.equal((await app.admin.groups.get(group.id)).slug, "launch-sdk");
  assert.equal((await app.admin.groups.update(group.id, { holdingPeriodDays: 0 })).holdingPeriodDays, 0);
  await assert.rejects(app.admin.groups.create({ name: "Again", slug: "launch-sdk", rules: [{ kind: "percentage", rate: 5 }] }), { status: 409, code: "group_slug_taken" });

  const { data: partners } = await app.admin.partners.list({ limit: 100 });
  const bob = partners.find((p) => p.code !== "ADA30");
  const moved = await app.admin.partners.update(bob.id, { groupId: group.id });
  assert.equal(moved.groupId, group.id);
  await app.conversions.referral({ customerId: "user_group_buyer", code: bob.code });
  const paid = await app.conversions.revenue({
    eventId: "inv_group_1", customerId: "user_group_buyer", amount: 100, currency: "usd", type: "payment",
    lines: [{ productId: "seat", amount: 60 }, { productId: "addon", amount: 40 }],
  });
  // The flat rule pays once for the whole first payment: both lines are its.
  assert.deepEqual(paid.commissions.map((c) => [c.ruleId, c.amount]), [["first", 50]]);
  const next = await app.conversions.revenue({ eventId: "inv_group_2", customerId: "user_group_buyer", amount: 100, currency: "usd", type: "payment" });
  assert.deepEqual([next.commission.ruleId, next.commission.amount], [group.rules[1].id, 30]);
  assert.equal((await app.admin.partners.update(bob.id, { groupId: null })).groupId, null);
  await app.admin.groups.delete(group.id);
  await assert.rejects(app.admin.groups.get(group.id), { status: 404, code: "group_not_found" });
});
