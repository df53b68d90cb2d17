// Type-checked by scripts/test-sdk.sh in the empty project: the ES module
// declarations resolve through the package's exports and type the API.

import { PartnerProgram, type Dashboard, type WebhookEvent } from "@partner-program/sdk";

const partners = new PartnerProgram({ baseUrl: "https://partners-api.example.com", sessionToken: "t" });
const dashboard: Dashboard = await partners.affiliates.getDashboard();
const earned: number = dashboard.affiliate.totalEarned;

export function code(event: WebhookEvent): string | undefined {
  return event.event === "partner_application_approved" ? event.data.affiliate.code : undefined;
}
export { earned };
