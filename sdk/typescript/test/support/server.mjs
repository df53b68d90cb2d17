// Starts a real `partnerctl serve` for a test file: its own data directory, a free
// loopback port, one app with its keys and an admin token. The binary is
// $PARTNERCTL, else the repository's target/debug/partnerctl. Every server
// started here is stopped when the test process exits, however it exits.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const partnerctl = process.env.PARTNERCTL ?? join(repoRoot, "target/debug/partnerctl");

/** Servers still up, and their data directories. */
const running = new Map();
function stopAll() {
  for (const [child, dataDir] of running) {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
  running.clear();
}
process.on("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    stopAll();
    process.kill(process.pid, signal);
  });
}

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * @param {{env?: Record<string, string>, appName?: string}} [options]
 * @returns {Promise<{baseUrl: string, appId: string, apiKey: string, publishableKey: string,
 *   adminToken: string, output: () => string, stop: () => Promise<void>}>}
 */
export async function startServer({ env = {}, appName = "SDK tests" } = {}) {
  if (!existsSync(partnerctl)) {
    throw new Error(`${partnerctl} does not exist: build it (cargo build -p partnerctl) or set PARTNERCTL`);
  }
  // The server's configuration comes from this environment alone, as in the
  // repository's black-box checks: no stray PARTNER_* or TABLE_NAME from outside.
  const childEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("PARTNER_") && key !== "TABLE_NAME"),
  );
  Object.assign(childEnv, env);
  const dataDir = mkdtempSync(join(tmpdir(), "sdk-partnerctl-"));
  const cli = (...args) =>
    JSON.parse(execFileSync(partnerctl, ["--data", dataDir, "--json", ...args], { env: childEnv }).toString());
  const app = cli("apps", "create", "--name", appName);
  const { token: adminToken } = cli("token", "admin", "--app", app.appId);

  const port = await freePort();
  const child = spawn(partnerctl, ["--data", dataDir, "serve", "--addr", `127.0.0.1:${port}`], {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.set(child, dataDir);
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolveExit) => child.once("exit", resolveExit));

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`partnerctl serve exited:\n${output}`);
    try {
      await fetch(`${baseUrl}/v1/affiliate`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`partnerctl serve did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    baseUrl,
    appId: app.appId,
    apiKey: app.apiKey,
    publishableKey: app.publishableKey,
    adminToken,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
