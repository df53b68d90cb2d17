// `client.sessions` and `client.conversions`: what only your server does with the
// secret key — minting a partner's session token, attributing a signup to a
// partner, and reporting revenue.

import type { Transport } from "../http.js";
import type {
  Referral,
  ReferralRequest,
  RevenueRequest,
  RevenueResult,
  Session,
} from "../types/partner.js";

export class Sessions {
  constructor(private readonly http: Transport) {}

  /** A session token for one of your customers, valid an hour: hand it to its browser. */
  create(customerId: string): Promise<Session> {
    return this.http.call("createSession", { body: { customerId } });
  }
}

export class Conversions {
  constructor(private readonly http: Transport) {}

  /** Attributes a customer to a partner, through a click id or a code. First attribution wins. */
  referral(request: ReferralRequest): Promise<Referral> {
    return this.http.call("referCustomer", { body: request });
  }

  /**
   * Reports a payment or a refund. Idempotent by `eventId` (use your payment
   * provider's id), so it is retried on network errors and 5xx like a read.
   */
  revenue(request: RevenueRequest): Promise<RevenueResult> {
    return this.http.call("recordRevenue", { body: request });
  }
}
