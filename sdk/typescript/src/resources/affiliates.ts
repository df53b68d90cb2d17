// `client.affiliates`: applying, a partner's status and figures, clicks, and the
// session routes a signed-in partner's browser calls (dashboard, portal link,
// deals).

import type { Transport } from "../http.js";
import type { Deal } from "../types/common.js";
import type {
  Applied,
  ApplicationStatusResult,
  ApplyRequest,
  Dashboard,
  DealList,
  DealRequest,
  PartnerLookup,
  PortalLink,
  TrackedClick,
  TrackOptions,
  TrackRequest,
} from "../types/partner.js";

export class Affiliates {
  constructor(private readonly http: Transport) {}

  /**
   * Submits a partner application (secret key, or the publishable key from a web
   * page). A second application with the same email is a 409 `application_exists`.
   */
  apply(request: ApplyRequest): Promise<Applied> {
    return this.http.call("apply", { body: request });
  }

  /** Where an email's application stands (secret key). Branch on `applied`. */
  getApplicationStatus(email: string): Promise<ApplicationStatusResult> {
    return this.http.call("applicationStatus", { query: { email } });
  }

  /** The partner of one of your customers, by your own id (secret key). Branch on `enrolled`. */
  get(customerId: string): Promise<PartnerLookup> {
    return this.http.call("partnerByCustomer", { params: { id: customerId } });
  }

  /** The session customer's partner info (session token). Branch on `enrolled`. */
  getInfo(): Promise<PartnerLookup> {
    return this.http.call("currentPartner");
  }

  /** Balances, stats, referral link, recent commissions, payouts and deals (session token). */
  getDashboard(): Promise<Dashboard> {
    return this.http.call("dashboard");
  }

  /** A link to the hosted partner portal, valid 24 hours (session token). */
  getPortalLink(): Promise<PortalLink> {
    return this.http.call("portalLink");
  }

  /**
   * Records a click on a partner's link (publishable or secret key). A visitor's
   * repeated clicks within an hour count once, so a retried click is harmless.
   */
  trackReferral(code: string, url: string, options: TrackOptions = {}): Promise<TrackedClick> {
    const body: TrackRequest = { code, url, visitorId: options.visitorId, referrer: options.referrer };
    return this.http.call("trackClick", { body });
  }

  /** Registers a lead the partner brings (session token). */
  registerDeal(request: DealRequest): Promise<Deal> {
    return this.http.call("registerDeal", { body: request });
  }

  /** The partner's own deals, newest first (session token). */
  listDeals(): Promise<DealList> {
    return this.http.call("listOwnDeals");
  }
}
