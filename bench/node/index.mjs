// GET /v1/affiliate/apply/status as a Node.js Lambda with the AWS SDK v3: the
// same work as the Rust `status` function's cold path (the API key by its
// SHA-256, then the application by email, both strongly consistent reads), so
// `make bench` can compare cold starts on equal terms. The loop below stands in
// for the managed Node.js runtime's: next event, handler, response.
import { createHash } from "node:crypto";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

const table = process.env.TABLE_NAME;
const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
const runtime = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

const json = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function get(pk, sk) {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  return Item;
}

async function handler(event) {
  const presented = (event.headers ?? {})["x-api-key"] ?? "";
  const hash = createHash("sha256").update(presented.trim()).digest("hex");
  const key = await get(`APIKEY#${hash}`, "APIKEY");
  if (!key || key.revokedAt) return json(401, { code: "unauthorized" });
  const email = (event.queryStringParameters?.email ?? "").trim().toLowerCase();
  if (!email.includes("@")) return json(400, { code: "invalid_request", field: "email" });
  const application = await get(`APP#${key.appId.S}#APLEMAIL#${email}`, "APPLICATION");
  if (!application) return json(200, { applied: false });
  return json(200, { applied: true, id: application.id.S, status: application.status.S });
}

for (;;) {
  const next = await fetch(`${runtime}/invocation/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const event = await next.json();
  let result;
  try {
    result = await handler(event);
  } catch (error) {
    await fetch(`${runtime}/invocation/${id}/error`, {
      method: "POST",
      body: JSON.stringify({ errorMessage: String(error), errorType: "Error" }),
    });
    continue;
  }
  await fetch(`${runtime}/invocation/${id}/response`, { method: "POST", body: JSON.stringify(result) });
}
