// Prints the Stripe-Signature header the official stripe library's test helper
// makes for a payload: reads {"payload", "secret", "timestamp"?} as JSON on stdin
// (timestamp in Unix seconds; now when absent).
import Stripe from "stripe";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { payload, secret, timestamp } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const stripe = new Stripe("sk_test_signing_only");
process.stdout.write(
  stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
);
