// The client: one object holding the options (base URL, credentials, fetch,
// timeout, retries) and the resources that call the API with them.

import { Transport, type FetchLike } from "./http.js";
import { Admin } from "./resources/admin.js";
import { Affiliates } from "./resources/affiliates.js";
import { Conversions, Sessions } from "./resources/server.js";

export interface PartnerProgramOptions {
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

export class PartnerProgram {
  /** Applying, a partner's figures, clicks, and the partner's own session routes. */
  readonly affiliates: Affiliates;
  /** Minting session tokens (secret key). */
  readonly sessions: Sessions;
  /** Referrals and revenue (secret key). */
  readonly conversions: Conversions;
  /** The admin API (admin token and appId). */
  readonly admin: Admin;

  constructor(options: PartnerProgramOptions) {
    const http = new Transport(options);
    this.affiliates = new Affiliates(http);
    this.sessions = new Sessions(http);
    this.conversions = new Conversions(http);
    this.admin = new Admin(http);
  }
}
