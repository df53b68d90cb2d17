// verifyWebhook: the Standard Webhooks test vector (checked against the official
// `standardwebhooks` package too), refusals (tampered body, stale or future
// timestamp, wrong secret, missing headers), secret rotation, and real deliveries
// from `partnerctl serve` to a receiver on loopback, including a replay.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import { Webhook } from "standardwebhooks";

import { PartnerProgram, WebhookVerificationError, verifyWebhook } from "../dist/esm/index.js";
import { startServer } from "./support/server.mjs";

// The test vector of the Standard Webhooks libraries.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const vectorHeaders = {
  "webhook-id": VECTOR.id,
  "webhook-timestamp": String(VECTOR.timestamp),
  "webhook-signature": VECTOR.signature,
};
const atVector = { now: VECTOR.timestamp * 1000 };

const refusedBecause = (reason) => (error) => {
  assert.ok(error instanceof WebhookVerificationError, `${error}`);
  assert.equal(error.name, "WebhookVerificationError");
  assert.equal(error.reason, reason);
  return true;
};

describe("verifyWebhook with the Standard Webhooks test vector", () => {
  test("the official library signs the vector as the spec says", () => {
    const signed = new Webhook(VECTOR.secret).sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.payload);
    assert.equal(signed, VECTOR.signature);
  });

  test("accepts it, as a string, as bytes and with fetch Headers", async () => {
    assert.deepEqual(await verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret, atVector), { test: 2432232314 });
    const bytes = new TextEncoder().encode(VECTOR.payload);
    assert.deepEqual(await verifyWebhook(bytes, vectorHeaders, VECTOR.secret, atVector), { test: 2432232314 });
    assert.deepEqual(await verifyWebhook(bytes.buffer, new Headers(vectorHeaders), VECTOR.secret, atVector), { test: 2432232314 });
    const nodeStyle = { "Webhook-Id": VECTOR.id, "webhook-timestamp": [String(VECTOR.timestamp)], "webhook-signature": VECTOR.signature };
    assert.ok(await verifyWebhook(VECTOR.payload, nodeStyle, VECTOR.secret, atVector));
  });

  test("accepts the secret without its whsec_ prefix", async () => {
    assert.ok(await verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret.slice(6), atVector));
  });

  test("accepts a signature among several (a rotation), ignoring other versions", async () => {
    const headers = {
      ...vectorHeaders,
      "webhook-signature": `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,${VECTOR.signature.slice(3)} ${VECTOR.signature}`,
    };
    assert.ok(await verifyWebhook(VECTOR.payload, headers, VECTOR.secret, atVector));
  });

  test("refuses a tampered body", async () => {
    await assert.rejects(
      verifyWebhook('{"test": 2432232315}', vectorHeaders, VECTOR.secret, atVector),
      refusedBecause("invalid_signature"),
    );
  });

  test("refuses a wrong secret", async () => {
    await assert.rejects(
      verifyWebhook(VECTOR.payload, vectorHeaders, "whsec_" + btoa("another secret of 24 bytes"), atVector),
      refusedBecause("invalid_signature"),
    );
    await assert.rejects(verifyWebhook(VECTOR.payload, vectorHeaders, "whsec_", atVector), refusedBecause("invalid_secret"));
  });

  test("refuses a stale timestamp and one from the future, beyond the tolerance", async () => {
    const ms = VECTOR.timestamp * 1000;
    await assert.rejects(
      verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret, { now: ms + 301_000 }),
      refusedBecause("timestamp_too_old"),
    );
    await assert.rejects(
      verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret, { now: new Date(ms - 301_000) }),
      refusedBecause("timestamp_too_new"),
    );
    assert.ok(await verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret, { now: ms + 299_000 }));
    assert.ok(await verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret, { now: ms + 3_600_000, toleranceSeconds: 3600 }));
    // Without `now`, the real clock: the vector is from 2021.
    await assert.rejects(verifyWebhook(VECTOR.payload, vectorHeaders, VECTOR.secret), refusedBecause("timestamp_too_old"));
  });

  test("refuses missing headers, a malformed timestamp and malformed signatures", async () => {
    const { "webhook-id": _, ...noId } = vectorHeaders;
    await assert.rejects(verifyWebhook(VECTOR.payload, noId, VECTOR.secret, atVector), refusedBecause("missing_header"));
    await assert.rejects(
      verifyWebhook(VECTOR.payload, { ...vectorHeaders, "webhook-timestamp": "soon" }, VECTOR.secret, atVector),
      refusedBecause("invalid_timestamp"),
    );
    for (const signature of ["v1,", "v1,not base64!", VECTOR.signature.slice(0, 8), VECTOR.signature.slice(3)]) {
      await assert.rejects(
        verifyWebhook(VECTOR.payload, { ...vectorHeaders, "webhook-signature": signature }, VECTOR.secret, atVector),
        refusedBecause("invalid_signature"),
      );
    }
  });

  test("a body that verifies but is not JSON is refused as a payload", async () => {
    const wh = new Webhook(VECTOR.secret);
    const signature = wh.sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), "not json");
    await assert.rejects(
      verifyWebhook("not json", { ...vectorHeaders, "webhook-signature": signature }, VECTOR.secret, atVector),
      refusedBecause("invalid_payload"),
    );
  });
});

describe("verifyWebhook with real deliveries from partnerctl serve", () => {
  let server;
  let receiver;
  let partners;
  const received = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    server = await startServer({
      env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1,1,1" },
      appName: "Webhooks",
    });
    partners = new PartnerProgram({
      baseUrl: server.baseUrl, apiKey: server.apiKey, adminToken: server.adminToken, appId: server.appId,
    });
  });
  after(async () => {
    await server?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  async function waitFor(count) {
    const deadline = Date.now() + 15_000;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`${received.length} of ${count} deliveries arrived`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return received[count - 1];
  }

  test("events are delivered, verify, and come out typed; tampering, staleness and a wrong secret are refused", async () => {
    const url = `http://127.0.0.1:${receiver.address().port}/webhooks/partners`;
    const endpoint = await partners.admin.webhooks.create({
      url, events: ["partner_application_submitted", "partner_application_approved", "partner_application_rejected"],
      description: "SDK tests",
    });
    assert.match(endpoint.secret, /^whsec_/);
    assert.equal(endpoint.enabled, true);

    const applied = await partners.affiliates.apply({ email: "jane@example.com", name: "Jane Smith", company: "Acme Inc" });
    const first = await waitFor(1);
    const submitted = await verifyWebhook(first.body, first.headers, endpoint.secret);
    assert.equal(submitted.event, "partner_application_submitted");
    assert.equal(submitted.id, first.headers["webhook-id"]);
    assert.equal(submitted.appId, server.appId);
    if (submitted.event === "partner_application_submitted") {
      assert.deepEqual(submitted.data.application, {
        id: applied.id, email: "jane@example.com", name: "Jane Smith", company: "Acme Inc", website: null, reason: null,
      });
    }

    const review = await partners.admin.applications.review(applied.id, { action: "approve", code: "JANE20" });
    const second = await waitFor(2);
    const approved = await verifyWebhook(second.body.toString("utf8"), second.headers, endpoint.secret);
    assert.equal(approved.event, "partner_application_approved");
    assert.deepEqual(approved.data.affiliate, review.affiliate);

    const tampered = Buffer.from(second.body.toString("utf8").replace("JANE20", "EVIL20"));
    await assert.rejects(verifyWebhook(tampered, second.headers, endpoint.secret), refusedBecause("invalid_signature"));
    const sentAt = Number(second.headers["webhook-timestamp"]) * 1000;
    await assert.rejects(
      verifyWebhook(second.body, second.headers, endpoint.secret, { now: sentAt + 301_000 }),
      refusedBecause("timestamp_too_old"),
    );
    const other = await partners.admin.webhooks.create({ url, events: ["payout_paid"] });
    await assert.rejects(verifyWebhook(second.body, second.headers, other.secret), refusedBecause("invalid_signature"));
    await partners.admin.webhooks.delete(other.id);

    // A rotation: both secrets sign for a while, so both verify.
    const rotated = await partners.admin.webhooks.rotateSecret(endpoint.id);
    assert.notEqual(rotated.secret, endpoint.secret);
    const sam = await partners.affiliates.apply({ email: "sam@example.com", name: "Sam Lee" });
    await partners.admin.applications.review(sam.id, { action: "reject", rejectionReason: "Not a fit" });
    const fourth = await waitFor(4);
    assert.equal(fourth.headers["webhook-signature"].split(" ").length, 2);
    const rejected = await verifyWebhook(fourth.body, fourth.headers, rotated.secret);
    assert.equal(rejected.event, "partner_application_rejected");
    assert.equal(rejected.data.application.reason, "Not a fit");
    assert.deepEqual(await verifyWebhook(fourth.body, fourth.headers, endpoint.secret), rejected);

    // The delivery log, and a replay with the same webhook-id.
    const log = await partners.admin.webhooks.deliveries(endpoint.id, { limit: 10 });
    assert.equal(log.data.length, 4, "submitted, approved, submitted, rejected");
    const delivery = log.data.find((d) => d.eventId === approved.id);
    assert.equal(delivery.status, "succeeded");
    assert.equal(delivery.attempts[0].statusCode, 204);
    const all = [];
    for await (const d of partners.admin.webhooks.allDeliveries(endpoint.id, { limit: 1 })) all.push(d.id);
    assert.deepEqual(all, log.data.map((d) => d.id));
    assert.deepEqual(await partners.admin.webhooks.replay(endpoint.id, delivery.id), { deliveryId: delivery.id, status: "queued" });
    const replayed = await waitFor(5);
    assert.equal(replayed.headers["webhook-id"], approved.id);
    assert.deepEqual(await verifyWebhook(replayed.body, replayed.headers, rotated.secret), approved);
  });

  test("endpoints are listed without secrets, changed and deleted", async () => {
    const created = await partners.admin.webhooks.create({
      url: `http://127.0.0.1:${receiver.address().port}/other`, events: ["deal_registered"],
    });
    const listed = await partners.admin.webhooks.list();
    assert.equal(listed.nextCursor, null);
    assert.ok(listed.data.some((e) => e.id === created.id));
    assert.ok(!JSON.stringify(listed).includes("whsec_"));
    const changed = await partners.admin.webhooks.update(created.id, { enabled: false, events: ["deal_registered", "deal_status_changed"] });
    assert.equal(changed.enabled, false);
    assert.deepEqual(changed.events, ["deal_registered", "deal_status_changed"]);
    assert.equal((await partners.admin.webhooks.get(created.id)).enabled, false);
    assert.equal(await partners.admin.webhooks.delete(created.id), undefined);
    await assert.rejects(partners.admin.webhooks.get(created.id), { status: 404 });
  });
});
