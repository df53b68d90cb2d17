// `client.admin`: the admin API grouped by what it manages. Every call carries
// the admin token and names the app of the appId option in its path.

import type { Transport } from "../http.js";
import { AuditLog } from "./admin-audit.js";
import { ApiKeys, Stripe, Webhooks } from "./admin-integrations.js";
import { Commissions, Payouts } from "./admin-money.js";
import { Applications, Deals, Groups, Partners, ProgramSettings } from "./admin-program.js";

export class Admin {
  readonly applications: Applications;
  readonly settings: ProgramSettings;
  readonly groups: Groups;
  readonly partners: Partners;
  readonly deals: Deals;
  readonly commissions: Commissions;
  readonly payouts: Payouts;
  readonly webhooks: Webhooks;
  readonly apiKeys: ApiKeys;
  readonly auditLog: AuditLog;
  readonly stripe: Stripe;

  constructor(http: Transport) {
    this.applications = new Applications(http);
    this.settings = new ProgramSettings(http);
    this.groups = new Groups(http);
    this.partners = new Partners(http);
    this.deals = new Deals(http);
    this.commissions = new Commissions(http);
    this.payouts = new Payouts(http);
    this.webhooks = new Webhooks(http);
    this.apiKeys = new ApiKeys(http);
    this.auditLog = new AuditLog(http);
    this.stripe = new Stripe(http);
  }
}
