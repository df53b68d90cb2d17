// Run by scripts/test-sdk.sh in an empty project where only the packed tarball is
// installed: the ES module build loads through the package's exports and works.

import assert from "node:assert/strict";
import { PartnerProgram, PartnerProgramError, verifyWebhook } from "@partner-program/sdk";

const event = await verifyWebhook(
  '{"test": 2432232314}',
  {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  },
  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  { now: 1614265330 * 1000 },
);
assert.deepEqual(event, { test: 2432232314 });

const seen = [];
const partners = new PartnerProgram({
  baseUrl: "https://partners-api.example.com",
  publishableKey: "pk_live_example",
  fetch: async (url, init) => {
    seen.push([init.method, url, init.headers["x-api-key"]]);
    return new Response(JSON.stringify({ type: "x", title: "Conflict", status: 409, detail: "Exists.", code: "application_exists", field: "email" }), {
      status: 409,
      headers: { "content-type": "application/problem+json" },
    });
  },
});
const error = await partners.affiliates.apply({ email: "jane@example.com", name: "Jane" }).catch((e) => e);
assert.ok(error instanceof PartnerProgramError);
assert.equal(error.code, "application_exists");
assert.deepEqual(seen, [["POST", "https://partners-api.example.com/v1/affiliate/apply", "pk_live_example"]]);
console.log("ESM: ok");
