// The transport: turns an operation of the table into a fetch, with the right
// credential, a timeout per attempt, and retries for the calls that are safe to
// send twice. Errors become PartnerProgramError.

import { PartnerProgramError } from "./errors.js";
import { operations, type Auth, type OperationId } from "./operations.js";
import type { Problem } from "./types/common.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** The API's base URL: the deployment's ApiUrl, or `http://127.0.0.1:3000` locally. */
  baseUrl: string;
  /** The secret key (`sk_live_…`): servers only. Opens every API-key route. */
  apiKey?: string;
  /** The publishable key (`pk_live_…`): safe in a web page. Opens apply and track. */
  publishableKey?: string;
  /** A customer session token from `sessions.create`: the partner's own routes. */
  sessionToken?: string;
  /** An admin JWT: the admin API of the app named by `appId`. */
  adminToken?: string;
  /** The app the admin routes act on (`app_…`). */
  appId?: string;
  /** A fetch to use instead of the global one. */
  fetch?: FetchLike;
  /** Time allowed for each attempt, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Retries of reads and idempotent writes after network errors, 429 and 5xx (default 2). */
  maxRetries?: number;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface CallOptions {
  /** Path parameters other than `appId`, which comes from the options. */
  params?: Record<string, string>;
  query?: object;
  body?: unknown;
  /** Ask for CSV instead of JSON (the exports). */
  csv?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RETRIES = 2;
/** Backoff: base × 2^attempt, capped, with jitter so clients do not retry in step. */
const BACKOFF_BASE_MS = 300;
const BACKOFF_CAP_MS = 5_000;
/** A Retry-After longer than this is not waited for: the error goes to the caller. */
const MAX_RETRY_AFTER_MS = 60_000;

export class Transport {
  private readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;

  constructor(private readonly options: TransportOptions) {
    if (!options.baseUrl) throw new TypeError("PartnerProgram: baseUrl is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    if (options.fetch) {
      this.fetchImpl = options.fetch;
    } else if (typeof globalThis.fetch === "function") {
      // Called through the global: a detached reference loses its `this` in some browsers.
      this.fetchImpl = (input, init) => globalThis.fetch(input, init);
    } else {
      throw new TypeError("PartnerProgram: no global fetch; pass the fetch option");
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = Math.max(0, options.maxRetries ?? DEFAULT_MAX_RETRIES);
  }

  /** Calls one operation and returns its parsed body (undefined for 204). */
  async call<T>(id: OperationId, call: CallOptions = {}): Promise<T> {
    const operation = operations[id];
    const url = this.url(operation.path, operation.auth, call);
    const headers: Record<string, string> = {
      accept: call.csv ? "text/csv" : "application/json",
      ...this.credential(operation.auth, id),
    };
    let body: string | undefined;
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.body);
    }
    // Reads, and writes the server deduplicates, may be sent again; any other
    // write is sent once, so a lost answer never silently doubles it.
    const retryable = operation.method === "GET" || ("idempotent" in operation && operation.idempotent);
    const attempts = retryable ? this.maxRetries + 1 : 1;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= attempts;
      let response: Response;
      let text: string;
      try {
        ({ response, text } = await this.send(url, { method: operation.method, headers, body }));
      } catch (error) {
        if (last) throw error;
        await sleep(backoff(attempt));
        continue;
      }
      if (response.ok) return parseSuccess<T>(response, text, call.csv === true);
      const error = problemError(response, text);
      const transient = response.status === 429 || response.status >= 500;
      if (last || !transient) throw error;
      const wait = error.retryAfterSeconds === undefined ? backoff(attempt) : error.retryAfterSeconds * 1000;
      if (wait > MAX_RETRY_AFTER_MS) throw error;
      await sleep(wait);
    }
  }

  /** One attempt; the timeout covers the answer's body too. */
  private async send(url: string, init: RequestInit): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      const response = await this.fetchImpl(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { response, text };
    } catch (cause) {
      throw timedOut
        ? new PartnerProgramError({
            status: 0, code: "timeout", detail: `No answer within ${this.timeoutMs} ms.`, cause,
          })
        : new PartnerProgramError({
            status: 0, code: "network_error", detail: "The request failed before an answer arrived.", cause,
          });
    } finally {
      clearTimeout(timer);
    }
  }

  private url(template: string, auth: Auth, call: CallOptions): string {
    const params: Record<string, string> = { ...call.params };
    if (auth === "admin") params.appId = this.need("appId", "admin routes name the app in the path");
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`PartnerProgram: missing path parameter ${name}`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries((call.query ?? {}) as Record<string, QueryValue>)) {
      if (value !== undefined && value !== null) search.set(key, String(value));
    }
    const query = search.toString();
    return this.baseUrl + path + (query ? `?${query}` : "");
  }

  private credential(auth: Auth, id: OperationId): Record<string, string> {
    switch (auth) {
      case "secret":
        return { "x-api-key": this.need("apiKey", `${id} needs the secret key`) };
      case "secretOrPublishable": {
        const key = this.options.apiKey ?? this.options.publishableKey;
        if (!key) throw missing(`${id} needs the secret key or the publishable key (apiKey or publishableKey)`);
        return { "x-api-key": key };
      }
      case "session":
        return { authorization: `Bearer ${this.need("sessionToken", `${id} needs a session token`)}` };
      case "admin":
        return { authorization: `Bearer ${this.need("adminToken", `${id} needs an admin token`)}` };
      case "none":
        return {};
    }
  }

  private need(name: "apiKey" | "sessionToken" | "adminToken" | "appId", why: string): string {
    const value = this.options[name];
    if (!value) throw missing(`${why} (the ${name} option)`);
    return value;
  }
}

function missing(detail: string): PartnerProgramError {
  return new PartnerProgramError({ status: 0, code: "missing_credential", detail });
}

function parseSuccess<T>(response: Response, text: string, csv: boolean): T {
  if (response.status === 204 || text === "") return undefined as T;
  if (csv) return text as T;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new PartnerProgramError({
      status: response.status, code: "invalid_response", detail: "The answer was not JSON.", cause,
    });
  }
}

function problemError(response: Response, text: string): PartnerProgramError {
  let problem: Partial<Problem> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") problem = parsed as Partial<Problem>;
  } catch {
    // Not a problem document (a proxy's error page, say): keep the status alone.
  }
  return new PartnerProgramError({
    status: response.status,
    code: typeof problem?.code === "string" ? problem.code : `http_${response.status}`,
    detail: typeof problem?.detail === "string" ? problem.detail : response.statusText || "Request failed",
    field: typeof problem?.field === "string" ? problem.field : undefined,
    retryAfter: typeof problem?.retryAfter === "string" ? problem.retryAfter : undefined,
    retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after")),
    problem: problem && typeof problem.code === "string" ? (problem as Problem) : undefined,
  });
}

/** `Retry-After` is either seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
