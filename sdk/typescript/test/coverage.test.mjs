// openapi.yaml against the SDK: every operation is mapped (method, path,
// credential, SDK method), every schema and every request, response and query
// field has its TypeScript counterpart, and the webhook event union matches the
// EventType enum and the events table of docs/api.md. OPENAPI_SPEC points the test
// at another copy of the spec (to watch it fail on a route the SDK lacks).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { PartnerProgram } from "../dist/esm/index.js";
import { operations } from "../dist/esm/operations.js";
import {
  documentedEvents,
  eventProblems,
  loadSpec,
  operationProblems,
  sdkTypes,
  typeProblems,
} from "./support/coverage.mjs";

const sdkRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(sdkRoot, "../..");
const specPath = process.env.OPENAPI_SPEC ?? join(repoRoot, "openapi.yaml");
const spec = loadSpec(specPath);
const client = new PartnerProgram({ baseUrl: "http://127.0.0.1:1" });
const types = sdkTypes(sdkRoot);

const report = (problems) => `${problems.length} gap(s) between ${specPath} and the SDK:\n  ${problems.join("\n  ")}`;

test("every operation of openapi.yaml is in the SDK, with its method, path and credential", () => {
  const problems = operationProblems(spec, operations, client);
  assert.deepEqual(problems, [], report(problems));
});

test("every schema, request, response and query field of openapi.yaml has its TypeScript type", () => {
  const problems = typeProblems(spec, operations, types);
  assert.deepEqual(problems, [], report(problems));
});

test("WebhookEvent has every event of openapi.yaml and the data fields docs/api.md lists", () => {
  const docs = documentedEvents(readFileSync(join(repoRoot, "docs/api.md"), "utf8"));
  assert.ok(docs.size >= 10, `docs/api.md's events table was not found (${docs.size} events read)`);
  const problems = eventProblems(spec, docs, types);
  assert.deepEqual(problems, [], report(problems));
});

test("the checks catch a route, a field and an event the SDK lacks", () => {
  const changed = structuredClone(spec);
  changed.paths["/v1/affiliate/referrals/{id}"] = {
    delete: { operationId: "deleteReferral", responses: { 204: { description: "Gone." } } },
  };
  changed.components.schemas.Deal.properties.value = { type: "number" };
  changed.components.schemas.Payout.required.push("reference");
  changed.components.schemas.EventType.enum.push("partner_suspended");
  const routes = operationProblems(changed, operations, client);
  assert.ok(routes.some((p) => p.startsWith("deleteReferral (DELETE /v1/affiliate/referrals/{id})")), report(routes));
  const fields = typeProblems(changed, operations, types);
  assert.ok(fields.includes("Deal.value: in openapi.yaml, missing from the SDK"), report(fields));
  assert.ok(fields.includes("Payout.reference: required in openapi.yaml, optional in the SDK"), report(fields));
  const events = eventProblems(changed, new Map(), types);
  assert.ok(events.some((p) => p.includes("partner_suspended")), report(events));
});
