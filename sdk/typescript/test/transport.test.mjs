// Retries, timeouts and errors, against a local Node HTTP server that answers
// from a script: reads and idempotent writes are retried after network errors,
// 429 and 5xx (honouring Retry-After); any other write is sent exactly once.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { PartnerProgram, PartnerProgramError } from "../dist/esm/index.js";
import { freePort } from "./support/server.mjs";

/** A server answering each request with the next scripted answer (then 200 `{}`). */
let script = [];
let seen = [];
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    seen.push({ method: req.method, url: req.url, body, at: Date.now() });
    const next = script.shift() ?? { status: 200, body: {} };
    if (next.hang) return; // never answers: a timeout
    if (next.destroy) return req.socket.destroy(); // a dropped connection
    const type = next.status < 300 ? "application/json" : "application/problem+json";
    res.writeHead(next.status, { "content-type": type, ...next.headers });
    res.end(next.status === 204 ? undefined : JSON.stringify(next.body));
  });
});
let baseUrl;

before(async () => {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function client(options = {}) {
  script = [];
  seen = [];
  return new PartnerProgram({ baseUrl, apiKey: "sk_live_test", ...options });
}

const unavailable = (headers = {}) => ({
  status: 503,
  headers,
  body: { type: "urn:partner-program:problem:service_unavailable", title: "Service Unavailable", status: 503, detail: "Busy.", code: "service_unavailable" },
});

test("a GET answered 503 then 200 is retried and succeeds", async () => {
  const partners = client();
  script = [unavailable(), { status: 200, body: { applied: false } }];
  assert.deepEqual(await partners.affiliates.getApplicationStatus("a@example.com"), { applied: false });
  assert.equal(seen.length, 2);
  assert.deepEqual(seen.map((r) => r.method), ["GET", "GET"]);
});

test("a POST apply answered 503 is not retried: exactly one request", async () => {
  const partners = client();
  script = [unavailable({ "retry-after": "1" }), { status: 201, body: {} }];
  await assert.rejects(partners.affiliates.apply({ email: "a@example.com", name: "A" }), (error) => {
    assert.ok(error instanceof PartnerProgramError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "service_unavailable");
    assert.equal(error.retryAfterSeconds, 1);
    return true;
  });
  assert.equal(seen.length, 1);
});

test("Retry-After is honoured before the next attempt", async () => {
  const partners = client();
  script = [unavailable({ "retry-after": "1" }), { status: 200, body: { enrolled: false } }];
  await partners.affiliates.get("user_1");
  assert.equal(seen.length, 2);
  assert.ok(seen[1].at - seen[0].at >= 950, `waited ${seen[1].at - seen[0].at} ms`);
});

test("429 is retried; after maxRetries the last error is thrown", async () => {
  const partners = client({ maxRetries: 2 });
  const tooMany = { status: 429, headers: { "retry-after": "0" }, body: { status: 429, code: "too_many_requests", detail: "Slow down.", title: "Too Many Requests", type: "x" } };
  script = [tooMany, tooMany, tooMany, { status: 200, body: {} }];
  await assert.rejects(partners.affiliates.get("user_1"), { status: 429, code: "too_many_requests" });
  assert.equal(seen.length, 3);
});

test("revenue (idempotent by eventId) and track are retried; referrals and sessions are not", async () => {
  const partners = client();
  script = [unavailable({ "retry-after": "0" }), { status: 201, body: { eventId: "in_1" } }];
  await partners.conversions.revenue({ eventId: "in_1", customerId: "u", amount: 1, currency: "usd", type: "payment" });
  assert.equal(seen.length, 2);
  assert.equal(seen[0].body, seen[1].body, "the same body, so the same eventId");

  client();
  script = [{ status: 502, body: {} }, { status: 201, body: { id: "clk_1" } }];
  await partners.affiliates.trackReferral("JANE20", "https://site.example/");
  assert.equal(seen.length, 2);

  for (const call of [
    () => partners.conversions.referral({ customerId: "u", code: "JANE20" }),
    () => partners.sessions.create("u"),
  ]) {
    script = [unavailable({ "retry-after": "0" })];
    seen = [];
    await assert.rejects(call(), { status: 503 });
    assert.equal(seen.length, 1);
  }
});

test("4xx answers are not retried and carry the problem's fields", async () => {
  const partners = client();
  script = [{
    status: 409,
    body: {
      type: "urn:partner-program:problem:application_exists", title: "Conflict", status: 409,
      detail: "This email's application was rejected; it may apply again from retryAfter.",
      code: "application_exists", field: "email", retryAfter: "2026-12-24T10:00:00Z",
    },
  }];
  const error = await partners.affiliates.getApplicationStatus("a@example.com").catch((e) => e);
  assert.ok(error instanceof PartnerProgramError);
  assert.equal(error.name, "PartnerProgramError");
  assert.equal(error.status, 409);
  assert.equal(error.code, "application_exists");
  assert.equal(error.field, "email");
  assert.equal(error.retryAfter, "2026-12-24T10:00:00Z");
  assert.equal(error.retryAfterSeconds, undefined);
  assert.match(error.detail, /may apply again/);
  assert.equal(error.problem.title, "Conflict");
  assert.equal(seen.length, 1);
});

test("a body that is not a problem still gives status and a code", async () => {
  const partners = client({ maxRetries: 0 });
  script = [{ status: 502, body: "<html>Bad gateway</html>" }];
  await assert.rejects(partners.affiliates.get("u"), { status: 502, code: "http_502" });
});

test("no answer within timeoutMs is a timeout; a GET tries again, a POST does not", async () => {
  const partners = client({ timeoutMs: 200, maxRetries: 1 });
  script = [{ hang: true }, { status: 200, body: { enrolled: false } }];
  assert.deepEqual(await partners.affiliates.get("u"), { enrolled: false });
  assert.equal(seen.length, 2);

  client();
  script = [{ hang: true }];
  const started = Date.now();
  await assert.rejects(partners.conversions.referral({ customerId: "u", code: "JANE20" }), (error) => {
    assert.equal(error.code, "timeout");
    assert.equal(error.status, 0);
    return true;
  });
  assert.ok(Date.now() - started < 2000);
  assert.equal(seen.length, 1);
});

test("a dropped connection is a network_error, retried for reads", async () => {
  const partners = client({ maxRetries: 1 });
  script = [{ destroy: true }, { status: 200, body: { enrolled: false } }];
  assert.deepEqual(await partners.affiliates.get("u"), { enrolled: false });
  assert.equal(seen.length, 2);

  const nobody = new PartnerProgram({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: "k", maxRetries: 0 });
  await assert.rejects(nobody.affiliates.get("u"), (error) => {
    assert.equal(error.code, "network_error");
    assert.ok(error.cause, "the fetch error is kept as the cause");
    return true;
  });
});

test("204 answers resolve to undefined", async () => {
  const partners = client({ adminToken: "t", appId: "app_1" });
  script = [{ status: 204 }];
  assert.equal(await partners.admin.webhooks.delete("whe_1"), undefined);
  assert.equal(seen[0].method, "DELETE");
});
