// Every SDK method, called once with a fetch that records instead of sending:
// it must send its operation's method and path (from openapi.yaml), the
// credential that operation's security names, and the body it was given. Every
// operation the SDK maps must be called here, so none is left untried.

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { PartnerProgram } from "../dist/esm/index.js";
import { operations } from "../dist/esm/operations.js";
import { loadSpec, specOperations } from "./support/coverage.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const spec = loadSpec(process.env.OPENAPI_SPEC ?? join(repoRoot, "openapi.yaml"));
const byId = new Map(specOperations(spec).map((op) => [op.id, op]));

const credentials = {
  apiKey: "sk_live_test_secret",
  publishableKey: "pk_live_test_publishable",
  sessionToken: "session.jwt",
  adminToken: "admin.jwt",
  appId: "app_01TEST",
};

/** A client whose fetch records each request and answers with `answer`. */
function recorder(options = credentials, answer = () => ({ status: 200, body: "{}" })) {
  const requests = [];
  const client = new PartnerProgram({
    baseUrl: "https://api.example.com/",
    ...options,
    maxRetries: 0,
    fetch: async (url, init) => {
      requests.push({ url: new URL(url), method: init.method, headers: init.headers, body: init.body });
      const { status, body, type = "application/json" } = answer(url, init);
      return new Response(status === 204 ? null : body, { status, headers: { "content-type": type } });
    },
  });
  return { client, requests };
}

const page = { data: [], nextCursor: null };
const pathParams = { id: "x_1", affiliateId: "aff_1", runId: "prun_1", deliveryId: "whd_1", keyId: "key_1", groupId: "grp_1" };

// operationId → [call, the body it must send (undefined: none), the query it must send]
const calls = {
  apply: [(c) => c.affiliates.apply({ email: "a@example.com", name: "A" }), { email: "a@example.com", name: "A" }],
  applicationStatus: [(c) => c.affiliates.getApplicationStatus("a+b@example.com"), undefined, { email: "a+b@example.com" }],
  partnerByCustomer: [(c) => c.affiliates.get("x_1")],
  trackClick: [
    (c) => c.affiliates.trackReferral("JANE20", "https://site.example/?ref=JANE20", { visitorId: "v1" }),
    { code: "JANE20", url: "https://site.example/?ref=JANE20", visitorId: "v1" },
  ],
  referCustomer: [(c) => c.conversions.referral({ customerId: "user_1", code: "JANE20" }), { customerId: "user_1", code: "JANE20" }],
  recordRevenue: [
    (c) => c.conversions.revenue({
      eventId: "in_1", customerId: "user_1", amount: 9.5, currency: "usd", type: "payment",
      lines: [{ productId: "prod_1", amount: 9.5 }],
    }),
    { eventId: "in_1", customerId: "user_1", amount: 9.5, currency: "usd", type: "payment", lines: [{ productId: "prod_1", amount: 9.5 }] },
  ],
  createSession: [(c) => c.sessions.create("user_1"), { customerId: "user_1" }],
  currentPartner: [(c) => c.affiliates.getInfo()],
  dashboard: [(c) => c.affiliates.getDashboard()],
  portalLink: [(c) => c.affiliates.getPortalLink()],
  registerDeal: [(c) => c.affiliates.registerDeal({ leadEmail: "l@example.com", leadName: "L" }), { leadEmail: "l@example.com", leadName: "L" }],
  listOwnDeals: [(c) => c.affiliates.listDeals()],
  listApplications: [(c) => c.admin.applications.list({ status: "pending", limit: 5, cursor: "c1" }), undefined, { status: "pending", limit: "5", cursor: "c1" }],
  getApplication: [(c) => c.admin.applications.get("x_1")],
  reviewApplication: [(c) => c.admin.applications.review("x_1", { action: "approve", code: "JANE20" }), { action: "approve", code: "JANE20" }],
  bulkReviewApplications: [
    (c) => c.admin.applications.bulkReview(["apl_1", "apl_2"], { action: "reject", rejectionReason: "Later" }),
    { ids: ["apl_1", "apl_2"], action: "reject", rejectionReason: "Later" },
  ],
  getSettings: [(c) => c.admin.settings.get()],
  updateSettings: [(c) => c.admin.settings.update({ reapplyAfterDays: null }), { reapplyAfterDays: null }],
  listPartners: [(c) => c.admin.partners.list({ limit: 2 }), undefined, { limit: "2" }],
  getPartner: [(c) => c.admin.partners.get("aff_1")],
  updatePartner: [(c) => c.admin.partners.update("aff_1", { status: "suspended", groupId: null }), { status: "suspended", groupId: null }],
  createGroup: [
    (c) => c.admin.groups.create({ name: "Resellers", slug: "resellers", rules: [{ kind: "percentage", rate: 30 }] }),
    { name: "Resellers", slug: "resellers", rules: [{ kind: "percentage", rate: 30 }] },
  ],
  listGroups: [(c) => c.admin.groups.list()],
  getGroup: [(c) => c.admin.groups.get("grp_1")],
  updateGroup: [(c) => c.admin.groups.update("grp_1", { autoApprove: true, holdingPeriodDays: null }), { autoApprove: true, holdingPeriodDays: null }],
  deleteGroup: [(c) => c.admin.groups.delete("grp_1")],
  listDeals: [(c) => c.admin.deals.list()],
  changeDealStatus: [(c) => c.admin.deals.updateStatus("x_1", "accepted"), { status: "accepted" }],
  listCommissions: [(c) => c.admin.commissions.list({ status: "approved", affiliateId: "aff_1" }), undefined, { status: "approved", affiliateId: "aff_1" }],
  startPayoutRun: [(c) => c.admin.payouts.startRun()],
  listPayouts: [(c) => c.admin.payouts.list({ cursor: "c2" }), undefined, { cursor: "c2" }],
  getPayoutRun: [(c) => c.admin.payouts.getRun("prun_1")],
  markPayoutPaid: [(c) => c.admin.payouts.markPaid("x_1", { reference: "wire 42" }), { reference: "wire 42" }],
  createWebhook: [
    (c) => c.admin.webhooks.create({ url: "https://hooks.example.com", events: ["payout_paid"] }),
    { url: "https://hooks.example.com", events: ["payout_paid"] },
  ],
  listWebhooks: [(c) => c.admin.webhooks.list()],
  getWebhook: [(c) => c.admin.webhooks.get("x_1")],
  updateWebhook: [(c) => c.admin.webhooks.update("x_1", { enabled: false }), { enabled: false }],
  deleteWebhook: [(c) => c.admin.webhooks.delete("x_1")],
  rotateWebhookSecret: [(c) => c.admin.webhooks.rotateSecret("x_1")],
  listDeliveries: [(c) => c.admin.webhooks.deliveries("x_1", { limit: 1 }), undefined, { limit: "1" }],
  replayDelivery: [(c) => c.admin.webhooks.replay("x_1", "whd_1")],
  listApiKeys: [(c) => c.admin.apiKeys.list()],
  createApiKey: [(c) => c.admin.apiKeys.create({ kind: "publishable", label: "site" }), { kind: "publishable", label: "site" }],
  revokeApiKey: [(c) => c.admin.apiKeys.revoke("key_1")],
  listAuditLog: [
    (c) => c.admin.auditLog.list({ actor: "apiKey:key_1", since: "2026-11-30T12:00:00+01:00", limit: 10 }),
    undefined,
    { actor: "apiKey:key_1", since: "2026-11-30T12:00:00+01:00", limit: "10" },
  ],
  connectStripe: [
    (c) => c.admin.stripe.connect({ webhookSecret: "whsec_abcdefghijklmnop", livemode: false }),
    { webhookSecret: "whsec_abcdefghijklmnop", livemode: false },
  ],
  getStripeConnection: [(c) => c.admin.stripe.get()],
  disconnectStripe: [(c) => c.admin.stripe.disconnect()],
  listStripeEvents: [(c) => c.admin.stripe.events({ limit: 5, cursor: "c1" }), undefined, { limit: "5", cursor: "c1" }],
};

function expectedPath(template, appId) {
  return template.replace(/\{(\w+)\}/g, (_, name) => (name === "appId" ? appId : pathParams[name]));
}

function expectedCredential(id, security) {
  if (security.includes("adminJwt")) return { authorization: `Bearer ${credentials.adminToken}` };
  if (security.includes("session")) return { authorization: `Bearer ${credentials.sessionToken}` };
  if (security.includes("apiKey")) return { "x-api-key": credentials.apiKey };
  return {};
}

for (const op of specOperations(spec)) {
  const call = calls[op.id];
  if (!call) continue;
  test(`${op.id}: ${op.method} ${op.path}`, async () => {
    const [invoke, body, query = {}] = call;
    const { client, requests } = recorder(credentials, (url, init) =>
      init.method === "DELETE" ? { status: 204 } : { status: 200, body: JSON.stringify(page) },
    );
    await invoke(client);
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request.method, op.method);
    assert.equal(request.url.origin, "https://api.example.com");
    assert.equal(decodeURIComponent(request.url.pathname), expectedPath(op.path, credentials.appId));
    assert.deepEqual(Object.fromEntries(request.url.searchParams), query);
    const { authorization, "x-api-key": apiKey } = request.headers;
    assert.deepEqual(
      Object.fromEntries(Object.entries({ authorization, "x-api-key": apiKey }).filter(([, v]) => v !== undefined)),
      expectedCredential(op.id, op.security),
    );
    assert.deepEqual(request.body === undefined ? undefined : JSON.parse(request.body), body);
    assert.equal(request.headers["content-type"], body === undefined ? undefined : "application/json");
  });
}

test("every operation the SDK maps is called above", () => {
  const mapped = Object.entries(operations).filter(([, entry]) => entry.sdk !== null).map(([id]) => id);
  assert.deepEqual(mapped.filter((id) => !(id in calls)), []);
  assert.deepEqual(Object.keys(calls).filter((id) => !byId.has(id)), []);
});

test("apply and track fall back to the publishable key; nothing else does", async () => {
  const { client, requests } = recorder({ publishableKey: "pk_live_page" });
  await client.affiliates.apply({ email: "a@example.com", name: "A" });
  await client.affiliates.trackReferral("JANE20", "https://site.example/");
  assert.deepEqual(requests.map((r) => r.headers["x-api-key"]), ["pk_live_page", "pk_live_page"]);
  await assert.rejects(client.affiliates.getApplicationStatus("a@example.com"), { code: "missing_credential" });
  await assert.rejects(client.sessions.create("user_1"), { code: "missing_credential" });
  assert.equal(requests.length, 2, "a call without its credential sends nothing");
});

test("path parameters are percent-encoded (customer ids may hold | and @)", async () => {
  const { client, requests } = recorder();
  await client.affiliates.get("auth0|abc@x/y");
  assert.equal(requests[0].url.pathname, "/v1/affiliate/by-customer/auth0%7Cabc%40x%2Fy");
});

test("the secret key wins over the publishable key when both are given", async () => {
  const { client, requests } = recorder({ apiKey: "sk_live_server", publishableKey: "pk_live_page" });
  await client.affiliates.apply({ email: "a@example.com", name: "A" });
  assert.equal(requests[0].headers["x-api-key"], "sk_live_server");
});

test("admin calls need both the admin token and the appId", async () => {
  const { client: noApp } = recorder({ adminToken: "admin.jwt" });
  await assert.rejects(noApp.admin.settings.get(), { code: "missing_credential", status: 0 });
  const { client: noToken } = recorder({ appId: "app_1" });
  await assert.rejects(noToken.admin.settings.get(), { code: "missing_credential" });
  const { client: session } = recorder({ apiKey: "sk_live_server" });
  await assert.rejects(session.affiliates.getDashboard(), /session token/);
});

test("exports ask for CSV and return the text", async () => {
  const { client, requests } = recorder(credentials, () => ({ status: 200, body: "id,amount\n", type: "text/csv" }));
  assert.equal(await client.admin.commissions.exportCsv({ limit: 50 }), "id,amount\n");
  assert.equal(await client.admin.payouts.exportCsv(), "id,amount\n");
  assert.deepEqual(requests.map((r) => r.url.search), ["?limit=50&format=csv", "?format=csv"]);
  assert.deepEqual(requests.map((r) => r.headers.accept), ["text/csv", "text/csv"]);
});

test("all() follows nextCursor until it is null, including past short pages", async () => {
  const pages = [
    { data: [{ id: "apl_3" }, { id: "apl_2" }], nextCursor: "c1" },
    { data: [], nextCursor: "c2" },
    { data: [{ id: "apl_1" }], nextCursor: null },
  ];
  const { client, requests } = recorder(credentials, () => ({ status: 200, body: JSON.stringify(pages.shift()) }));
  const ids = [];
  for await (const application of client.admin.applications.all({ status: "pending", limit: 2 })) ids.push(application.id);
  assert.deepEqual(ids, ["apl_3", "apl_2", "apl_1"]);
  assert.deepEqual(requests.map((r) => r.url.search), [
    "?status=pending&limit=2",
    "?status=pending&limit=2&cursor=c1",
    "?status=pending&limit=2&cursor=c2",
  ]);
});
