// The README's examples: every TypeScript snippet type-checks against the SDK's
// types, and every snippet marked `<!-- tested: NAME -->` runs against a real
// `partnerctl serve` with only its import line and its constructor's options
// changed, printing what its comments say. Snippets run in order, as separate Node
// processes, on one server whose state the test moves along between them.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

import { PartnerProgram } from "../dist/esm/index.js";
import { startServer } from "./support/server.mjs";

const sdkRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(join(sdkRoot, "README.md"), "utf8");
const distUrl = pathToFileURL(join(sdkRoot, "dist/esm/index.js")).href;
const work = mkdtempSync(join(tmpdir(), "sdk-snippets-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Every ```ts block of the README, with the name of its `tested` marker if any. */
function snippets(markdown) {
  const out = [];
  const pattern = /(?:<!-- tested: ([\w-]+) -->\n)?```ts\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) out.push({ name: match[1], code: match[2] });
  return out;
}

/** The index just past the parenthesis that closes the one at `open`, skipping strings. */
function closingParen(code, open) {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  throw new Error("unbalanced parentheses");
}

/** The snippet with the package import pointing at the build and the constructor's options replaced. */
function prepare(code) {
  assert.equal(code.match(/from "@partner-program\/sdk"/g)?.length, 1, "one import of the SDK");
  assert.equal(code.match(/new PartnerProgram\(/g)?.length, 1, "one constructor");
  const withImport = code.replace('from "@partner-program/sdk"', `from ${JSON.stringify(distUrl)}`);
  const start = withImport.indexOf("new PartnerProgram(");
  const end = closingParen(withImport, start + "new PartnerProgram".length);
  const replaced =
    withImport.slice(0, start) + "new PartnerProgram(JSON.parse(process.env.SNIPPET_OPTIONS))" + withImport.slice(end);
  return ts.transpileModule(replaced, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
}

const tested = new Map(snippets(readme).filter((s) => s.name).map((s) => [s.name, s.code]));
let runs = 0;

/** Runs a tested snippet with these client options; resolves to its printed lines. */
async function run(name, options) {
  const code = tested.get(name);
  assert.ok(code, `README has no snippet marked tested: ${name}`);
  const file = join(work, `${name}-${++runs}.mjs`);
  writeFileSync(file, prepare(code));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, SNIPPET_OPTIONS: JSON.stringify(options) },
      timeout: 30_000,
    });
    return stdout.trim().split("\n");
  } catch (error) {
    throw new Error(`snippet ${name} failed:\n${error.stderr || error.message}`);
  }
}

test("every TypeScript snippet of the README type-checks against the SDK", () => {
  const files = [join(work, "prelude.d.ts")];
  // What the snippets leave to the reader's own code.
  writeFileSync(files[0], [
    "declare function getSessionTokenFromYourServer(): Promise<string>;",
    'declare function handle(event: import("@partner-program/sdk").WebhookEvent): Promise<void>;',
  ].join("\n"));
  const all = snippets(readme);
  assert.ok(all.length >= 10, `found ${all.length} snippets`);
  for (const [i, snippet] of all.entries()) {
    const file = join(work, `typed-${i}.ts`);
    // A snippet without imports would be a script; `export {}` keeps each a module.
    writeFileSync(file, `${snippet.code}\nexport {};\n`);
    files.push(file);
  }
  const program = ts.createProgram(files, {
    strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: ["node"], typeRoots: [join(sdkRoot, "node_modules/@types")],
    baseUrl: sdkRoot, paths: { "@partner-program/sdk": ["src/index.ts"] },
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
    `${d.file ? d.file.fileName.replace(work, "README") : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  assert.deepEqual(diagnostics, []);
});

let server;
let admin;
const options = {};

before(async () => {
  server = await startServer({ appName: "README" });
  options.server = { baseUrl: server.baseUrl, apiKey: server.apiKey };
  options.page = { baseUrl: server.baseUrl, publishableKey: server.publishableKey };
  options.admin = { baseUrl: server.baseUrl, adminToken: server.adminToken, appId: server.appId };
  admin = new PartnerProgram({ ...options.admin, ...options.server });
});
after(() => server?.stop());

const snippetNames = [...tested.keys()];
const covered = new Set();
const runSnippet = (name, opts) => {
  covered.add(name);
  return run(name, opts);
};

test("getApplicationStatus: not applied, pending, then rejected with its reason", async () => {
  assert.deepEqual(await runSnippet("status", options.server), ["not applied"]);
  const [message] = await runSnippet("browser-apply", options.page);
  assert.match(message, /received/i);
  assert.deepEqual(await runSnippet("status", options.server), ["pending"]);
  const sam = await admin.affiliates.getApplicationStatus("sam@example.com");
  await admin.admin.applications.review(sam.id, { action: "reject", rejectionReason: "Not a good fit yet" });
  assert.deepEqual(await runSnippet("status", options.server), ["rejected: Not a good fit yet"]);
});

test("apply is pending; applying again is a 409 application_exists", async () => {
  const [status, message] = await runSnippet("apply", options.server);
  assert.equal(status, "pending");
  assert.ok(message.length > 0);
  assert.deepEqual(await runSnippet("errors", options.server), ["409 application_exists email"]);
});

test("get(customerId): not a partner, then enrolled with its code and earnings", async () => {
  assert.deepEqual(await runSnippet("get", options.server), ["not a partner"]);
  assert.deepEqual(await runSnippet("admin-review", options.admin), ["approved jane@example.com JANE20"]);
  const [line] = await runSnippet("track", options.page);
  const [counted, expiresAt] = line.split(" ");
  assert.equal(counted, "true");
  assert.ok(Date.parse(expiresAt) > Date.now() + 29 * 86_400_000, "the default 30-day window");
  assert.deepEqual(await runSnippet("revenue", options.server), ["19.8 pending"]);
  assert.deepEqual(await runSnippet("get", options.server), ["JANE20 19.8 usd"]);
});

test("the session routes: dashboard, portal link valid 24 h, a deal", async () => {
  const [expiresAt] = await runSnippet("session", options.server);
  const hour = Date.parse(expiresAt) - Date.now();
  assert.ok(hour > 59 * 60_000 && hour <= 60 * 60_000, `session expires in ${hour} ms`);

  const { token } = await admin.sessions.create("user_42");
  const browser = { baseUrl: server.baseUrl, sessionToken: token };
  assert.deepEqual(await runSnippet("dashboard", browser), ["19.8 19.8", "1 1 1"]);

  const [url, linkExpiry] = await runSnippet("portal-link", browser);
  assert.ok(url.startsWith(`${server.baseUrl}/portal?token=`), url);
  const day = Date.parse(linkExpiry) - Date.now();
  assert.ok(day > 23.9 * 3_600_000 && day <= 24 * 3_600_000, `the link expires in ${day} ms`);
  const portal = await fetch(url);
  assert.equal(portal.status, 200);
  assert.match(await portal.text(), /JANE20/);

  assert.deepEqual(await runSnippet("deal", browser), ["pending"]);
  const [deal] = (await new PartnerProgram(browser).affiliates.listDeals()).data;
  assert.equal(deal.leadEmail, "cto@bigcorp.example");
});

test("a payout run, followed to its end", async () => {
  const [line] = await runSnippet("payouts", options.admin);
  // The commission above is still in its 30-day holding period: nothing to pay yet.
  assert.equal(line, "completed 0 0 usd");
});

test("every tested snippet of the README was run above", () => {
  assert.deepEqual(snippetNames.filter((name) => !covered.has(name)), []);
});
