// `client.admin.commissions` and `.payouts`: the ledger, payout runs, and
// recording that a payout was paid (admin token).

import type { Transport } from "../http.js";
import { everyItem } from "../pagination.js";
import type {
  CommissionPage,
  ListCommissionsParams,
  ListCommissionsQuery,
  ListPayoutsQuery,
  MarkPaidRequest,
  PayoutPage,
  PayoutRun,
} from "../types/admin.js";
import type { Commission, PageParams, Payout } from "../types/common.js";

export class Commissions {
  constructor(private readonly http: Transport) {}

  /** One page of ledger entries; the filters apply within the page, so follow `nextCursor`. */
  list(params: ListCommissionsParams = {}): Promise<CommissionPage> {
    const query: ListCommissionsQuery = params;
    return this.http.call("listCommissions", { query });
  }

  all(params: Omit<ListCommissionsParams, "cursor"> = {}): AsyncGenerator<Commission, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }

  /** One page of the listing as CSV (`limit` rows; page with `cursor` from `list`). */
  exportCsv(params: ListCommissionsParams = {}): Promise<string> {
    const query: ListCommissionsQuery = { ...params, format: "csv" };
    return this.http.call("listCommissions", { query, csv: true });
  }
}

export class Payouts {
  constructor(private readonly http: Transport) {}

  /**
   * Starts a payout run over every partner and answers at once with it (202).
   * Follow it with `getRun` until its status is no longer `running`.
   */
  startRun(): Promise<PayoutRun> {
    return this.http.call("startPayoutRun");
  }

  getRun(runId: string): Promise<PayoutRun> {
    return this.http.call("getPayoutRun", { params: { runId } });
  }

  list(params: PageParams = {}): Promise<PayoutPage> {
    const query: ListPayoutsQuery = params;
    return this.http.call("listPayouts", { query });
  }

  all(params: Omit<PageParams, "cursor"> = {}): AsyncGenerator<Payout, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }

  /** One page of payouts as CSV. */
  exportCsv(params: PageParams = {}): Promise<string> {
    const query: ListPayoutsQuery = { ...params, format: "csv" };
    return this.http.call("listPayouts", { query, csv: true });
  }

  /** Records that you have paid a payout (a second time is a 409). */
  markPaid(id: string, request: MarkPaidRequest = {}): Promise<Payout> {
    return this.http.call("markPayoutPaid", { params: { id }, body: request });
  }
}
