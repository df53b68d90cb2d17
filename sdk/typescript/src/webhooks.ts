// Verifying a webhook delivery (Standard Webhooks): the HMAC-SHA256 of
// `${webhook-id}.${webhook-timestamp}.${body}`, keyed with the base64 part of the
// `whsec_` secret, must match one of the `v1,<base64>` entries of
// `webhook-signature` (two during a secret rotation), and the timestamp must be
// within the tolerance of the clock, either way. Web Crypto makes it work the same
// in Node and in browsers, which is why it is async.

import { WebhookVerificationError } from "./errors.js";
import type { WebhookEvent } from "./types/events.js";

/** Header lookups accept fetch's `Headers` and Node's `IncomingHttpHeaders` alike. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from the clock, either way (default 300). */
  toleranceSeconds?: number;
  /** The clock: a Date or milliseconds since the epoch (default now). */
  now?: Date | number;
}

const SECRET_PREFIX = "whsec_";
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Verifies a delivery and returns its event. `rawBody` must be the body exactly as
 * received: a re-serialised JSON object will not verify.
 *
 * @throws WebhookVerificationError when a header is missing, the timestamp is out
 *   of tolerance, no signature matches, or the body is not an event.
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      "missing_header",
      "The webhook-id, webhook-timestamp and webhook-signature headers are required.",
    );
  }
  checkTimestamp(timestamp, options);

  // Signed as bytes, so a body that is not valid UTF-8 is not altered by decoding it first.
  const bodyBytes = typeof rawBody === "string" ? new TextEncoder().encode(rawBody) : new Uint8Array(rawBody);
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + bodyBytes.length);
  content.set(prefix);
  content.set(bodyBytes, prefix.length);
  const expected = await sign(keyBytes(secret), content);
  // Every entry is compared (no early exit), so timing says nothing about which matched.
  let matched = false;
  for (const entry of signatures.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = decodeBase64(value);
    if (given && constantTimeEqual(given, expected)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError("invalid_signature", "No signature matches this secret.");
  }

  try {
    return JSON.parse(new TextDecoder().decode(bodyBytes)) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError("invalid_payload", "The body is not JSON.");
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : value;
}

function checkTimestamp(timestamp: string, options: VerifyWebhookOptions): void {
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a number of seconds.");
  }
  const nowMs = options.now === undefined ? Date.now() : Number(options.now);
  const now = Math.floor(nowMs / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const sent = Number(timestamp);
  if (sent < now - tolerance) {
    throw new WebhookVerificationError("timestamp_too_old", "The webhook's timestamp is too old.");
  }
  if (sent > now + tolerance) {
    throw new WebhookVerificationError("timestamp_too_new", "The webhook's timestamp is in the future.");
  }
}

function keyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = encoded ? decodeBase64(encoded) : undefined;
  if (!bytes || bytes.length === 0) {
    throw new WebhookVerificationError("invalid_secret", "The secret is not whsec_ followed by base64.");
  }
  return bytes;
}

async function sign(key: Uint8Array<ArrayBuffer>, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const subtle = await subtleCrypto();
  const hmacKey = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", hmacKey, content));
}

/** The global Web Crypto; Node 18 has it only as `require("node:crypto").webcrypto`. */
async function subtleCrypto(): Promise<SubtleCrypto> {
  if (globalThis.crypto?.subtle) return globalThis.crypto.subtle;
  // A computed name keeps bundlers from pulling a Node module into browser builds.
  const name = "node:crypto";
  const nodeCrypto = (await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as {
    webcrypto?: { subtle?: SubtleCrypto };
  };
  if (nodeCrypto.webcrypto?.subtle) return nodeCrypto.webcrypto.subtle;
  throw new Error("verifyWebhook needs Web Crypto (crypto.subtle)");
}

function decodeBase64(value: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
