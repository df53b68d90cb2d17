// The client: one object holding the options (base URL, credentials, fetch,
// timeout, retries) and the resources that call the API with them.

import { Transport, type TransportOptions } from "./http.js";
import { Admin } from "./resources/admin.js";
import { Affiliates } from "./resources/affiliates.js";
import { Conversions, Sessions } from "./resources/server.js";

/** How to reach the API and with which credentials; see `TransportOptions`. */
export type PartnerProgramOptions = TransportOptions;

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
