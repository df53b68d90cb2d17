// Run by scripts/test-sdk.sh in an empty project where only the packed tarball is
// installed: the CommonJS build loads through `require` and works.

const assert = require("node:assert/strict");
const { PartnerProgram, PartnerProgramError, WebhookVerificationError, verifyWebhook } = require("@partner-program/sdk");

async function main() {
  const headers = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  assert.deepEqual(await verifyWebhook('{"test": 2432232314}', headers, secret, { now: 1614265330 * 1000 }), { test: 2432232314 });
  await assert.rejects(verifyWebhook('{"test": 1}', headers, secret, { now: 1614265330 * 1000 }), WebhookVerificationError);

  const partners = new PartnerProgram({
    baseUrl: "https://partners-api.example.com/",
    apiKey: "sk_live_example",
    fetch: async () => new Response(JSON.stringify({ enrolled: false }), { status: 200, headers: { "content-type": "application/json" } }),
  });
  assert.deepEqual(await partners.affiliates.get("user_42"), { enrolled: false });
  assert.equal(typeof PartnerProgramError, "function");
  console.log("CJS: ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
