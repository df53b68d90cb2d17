// Every operation of the API, keyed by its openapi.yaml operationId: the method,
// the path, which credential it takes, and the SDK method that calls it.
//
// The transport builds each request from this table, so it is the one place where
// a path or a credential is written down. A test compares it with openapi.yaml:
// every operation must be here with the same method, path and security, and every
// named request, response and query type must have the spec's fields.

/** Which credential a request carries. */
export type Auth =
  /** `x-api-key` with the secret key. */
  | "secret"
  /** `x-api-key` with the secret key, else the publishable key (apply, track). */
  | "secretOrPublishable"
  /** `Authorization: Bearer` with a customer session token. */
  | "session"
  /** `Authorization: Bearer` with an admin token; the path names the app. */
  | "admin"
  /** No credential. */
  | "none";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

export interface Operation {
  readonly method: HttpMethod;
  /** The path template, as in openapi.yaml. */
  readonly path: string;
  readonly auth: Auth;
  /** The SDK method, as a dotted path from the client; null when the SDK has none. */
  readonly sdk: string | null;
  /** Why the SDK has no method for it (when `sdk` is null). */
  readonly why?: string;
  /** A write that is safe to send twice, so it is retried like a read. */
  readonly idempotent?: boolean;
  /** Exported type names of the JSON request body, success body and query parameters. */
  readonly request?: string;
  readonly response?: string;
  readonly query?: string;
}

const preflight = "browsers send CORS preflights themselves";

export const operations = {
  // Public and server-side routes (API keys).
  applyPreflight: { method: "OPTIONS", path: "/v1/affiliate/apply", auth: "none", sdk: null, why: preflight },
  apply: {
    method: "POST", path: "/v1/affiliate/apply", auth: "secretOrPublishable", sdk: "affiliates.apply",
    request: "ApplyRequest", response: "Applied",
  },
  applicationStatus: {
    method: "GET", path: "/v1/affiliate/apply/status", auth: "secret", sdk: "affiliates.getApplicationStatus",
    query: "ApplicationStatusQuery", response: "ApplicationStatusResult",
  },
  partnerByCustomer: {
    method: "GET", path: "/v1/affiliate/by-customer/{id}", auth: "secret", sdk: "affiliates.get",
    response: "PartnerLookup",
  },
  trackPreflight: { method: "OPTIONS", path: "/v1/affiliate/track", auth: "none", sdk: null, why: preflight },
  trackClick: {
    method: "POST", path: "/v1/affiliate/track", auth: "secretOrPublishable", sdk: "affiliates.trackReferral",
    idempotent: true, request: "TrackRequest", response: "TrackedClick",
  },
  referCustomer: {
    method: "POST", path: "/v1/affiliate/referrals", auth: "secret", sdk: "conversions.referral",
    request: "ReferralRequest", response: "Referral",
  },
  recordRevenue: {
    method: "POST", path: "/v1/affiliate/revenue", auth: "secret", sdk: "conversions.revenue",
    idempotent: true, request: "RevenueRequest", response: "RevenueResult",
  },
  createSession: {
    method: "POST", path: "/v1/sessions", auth: "secret", sdk: "sessions.create",
    request: "SessionRequest", response: "Session",
  },

  // Session routes (a partner in the browser).
  currentPartnerPreflight: { method: "OPTIONS", path: "/v1/affiliate", auth: "none", sdk: null, why: preflight },
  currentPartner: {
    method: "GET", path: "/v1/affiliate", auth: "session", sdk: "affiliates.getInfo", response: "PartnerLookup",
  },
  dashboardPreflight: { method: "OPTIONS", path: "/v1/affiliate/dashboard", auth: "none", sdk: null, why: preflight },
  dashboard: {
    method: "GET", path: "/v1/affiliate/dashboard", auth: "session", sdk: "affiliates.getDashboard",
    response: "Dashboard",
  },
  portalLinkPreflight: { method: "OPTIONS", path: "/v1/affiliate/portal-link", auth: "none", sdk: null, why: preflight },
  portalLink: {
    method: "GET", path: "/v1/affiliate/portal-link", auth: "session", sdk: "affiliates.getPortalLink",
    response: "PortalLink",
  },
  dealsPreflight: { method: "OPTIONS", path: "/v1/affiliate/deals", auth: "none", sdk: null, why: preflight },
  registerDeal: {
    method: "POST", path: "/v1/affiliate/deals", auth: "session", sdk: "affiliates.registerDeal",
    request: "DealRequest", response: "Deal",
  },
  listOwnDeals: {
    method: "GET", path: "/v1/affiliate/deals", auth: "session", sdk: "affiliates.listDeals", response: "DealList",
  },

  // The hosted portal: HTML pages a person opens, not an API.
  portal: {
    method: "GET", path: "/portal", auth: "none", sdk: null,
    why: "an HTML page: open the url of affiliates.getPortalLink() in a browser",
  },
  portalRegisterDeal: {
    method: "POST", path: "/portal/deals", auth: "none", sdk: null,
    why: "the portal page's own HTML form; affiliates.registerDeal does the same through the API",
  },

  // Admin routes (admin token, app from the appId option).
  listApplications: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/applications", auth: "admin", sdk: "admin.applications.list",
    query: "ListApplicationsParams", response: "ApplicationPage",
  },
  getApplication: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/applications/{id}", auth: "admin",
    sdk: "admin.applications.get", response: "Application",
  },
  reviewApplication: {
    method: "POST", path: "/v1/apps/{appId}/affiliates/applications/{id}/review", auth: "admin",
    sdk: "admin.applications.review", request: "ReviewRequest", response: "ReviewResult",
  },
  bulkReviewApplications: {
    method: "POST", path: "/v1/apps/{appId}/affiliates/applications/bulk-review", auth: "admin",
    sdk: "admin.applications.bulkReview", request: "BulkReviewRequest", response: "BulkReviewResult",
  },
  getSettings: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/settings", auth: "admin", sdk: "admin.settings.get",
    response: "Settings",
  },
  updateSettings: {
    method: "PUT", path: "/v1/apps/{appId}/affiliates/settings", auth: "admin", sdk: "admin.settings.update",
    request: "SettingsUpdate", response: "Settings",
  },
  listPartners: {
    method: "GET", path: "/v1/apps/{appId}/affiliates", auth: "admin", sdk: "admin.partners.list",
    query: "PageParams", response: "AffiliatePage",
  },
  getPartner: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/{affiliateId}", auth: "admin", sdk: "admin.partners.get",
    response: "Affiliate",
  },
  updatePartner: {
    method: "PATCH", path: "/v1/apps/{appId}/affiliates/{affiliateId}", auth: "admin", sdk: "admin.partners.update",
    request: "PartnerUpdate", response: "Affiliate",
  },
  createGroup: {
    method: "POST", path: "/v1/apps/{appId}/affiliates/groups", auth: "admin", sdk: "admin.groups.create",
    request: "GroupInput", response: "Group",
  },
  listGroups: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/groups", auth: "admin", sdk: "admin.groups.list",
    response: "GroupList",
  },
  getGroup: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/groups/{groupId}", auth: "admin", sdk: "admin.groups.get",
    response: "Group",
  },
  updateGroup: {
    method: "PATCH", path: "/v1/apps/{appId}/affiliates/groups/{groupId}", auth: "admin", sdk: "admin.groups.update",
    request: "GroupChange", response: "Group",
  },
  deleteGroup: {
    method: "DELETE", path: "/v1/apps/{appId}/affiliates/groups/{groupId}", auth: "admin", sdk: "admin.groups.delete",
  },
  listDeals: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/deals", auth: "admin", sdk: "admin.deals.list",
    query: "PageParams", response: "DealPage",
  },
  changeDealStatus: {
    method: "PATCH", path: "/v1/apps/{appId}/affiliates/deals/{id}", auth: "admin", sdk: "admin.deals.updateStatus",
    request: "DealStatusUpdate", response: "Deal",
  },
  listCommissions: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/commissions", auth: "admin", sdk: "admin.commissions.list",
    query: "ListCommissionsQuery", response: "CommissionPage",
  },
  startPayoutRun: {
    method: "POST", path: "/v1/apps/{appId}/affiliates/payouts", auth: "admin", sdk: "admin.payouts.startRun",
    response: "PayoutRun",
  },
  listPayouts: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/payouts", auth: "admin", sdk: "admin.payouts.list",
    query: "ListPayoutsQuery", response: "PayoutPage",
  },
  getPayoutRun: {
    method: "GET", path: "/v1/apps/{appId}/affiliates/payouts/runs/{runId}", auth: "admin",
    sdk: "admin.payouts.getRun", response: "PayoutRun",
  },
  markPayoutPaid: {
    method: "POST", path: "/v1/apps/{appId}/affiliates/payouts/{id}/mark-paid", auth: "admin",
    sdk: "admin.payouts.markPaid", request: "MarkPaidRequest", response: "Payout",
  },
  createWebhook: {
    method: "POST", path: "/v1/apps/{appId}/webhooks", auth: "admin", sdk: "admin.webhooks.create",
    request: "WebhookCreate", response: "WebhookEndpointWithSecret",
  },
  listWebhooks: {
    method: "GET", path: "/v1/apps/{appId}/webhooks", auth: "admin", sdk: "admin.webhooks.list",
    response: "WebhookEndpointList",
  },
  getWebhook: {
    method: "GET", path: "/v1/apps/{appId}/webhooks/{id}", auth: "admin", sdk: "admin.webhooks.get",
    response: "WebhookEndpoint",
  },
  updateWebhook: {
    method: "PATCH", path: "/v1/apps/{appId}/webhooks/{id}", auth: "admin", sdk: "admin.webhooks.update",
    request: "WebhookUpdate", response: "WebhookEndpoint",
  },
  deleteWebhook: {
    method: "DELETE", path: "/v1/apps/{appId}/webhooks/{id}", auth: "admin", sdk: "admin.webhooks.delete",
  },
  rotateWebhookSecret: {
    method: "POST", path: "/v1/apps/{appId}/webhooks/{id}/rotate-secret", auth: "admin",
    sdk: "admin.webhooks.rotateSecret", response: "WebhookEndpointWithSecret",
  },
  listDeliveries: {
    method: "GET", path: "/v1/apps/{appId}/webhooks/{id}/deliveries", auth: "admin",
    sdk: "admin.webhooks.deliveries", query: "PageParams", response: "DeliveryPage",
  },
  replayDelivery: {
    method: "POST", path: "/v1/apps/{appId}/webhooks/{id}/deliveries/{deliveryId}/replay", auth: "admin",
    sdk: "admin.webhooks.replay", response: "ReplayResult",
  },
  listApiKeys: {
    method: "GET", path: "/v1/apps/{appId}/api-keys", auth: "admin", sdk: "admin.apiKeys.list",
    response: "ApiKeyList",
  },
  createApiKey: {
    method: "POST", path: "/v1/apps/{appId}/api-keys", auth: "admin", sdk: "admin.apiKeys.create",
    request: "ApiKeyCreate", response: "CreatedApiKey",
  },
  revokeApiKey: {
    method: "DELETE", path: "/v1/apps/{appId}/api-keys/{keyId}", auth: "admin", sdk: "admin.apiKeys.revoke",
  },
  listAuditLog: {
    method: "GET", path: "/v1/apps/{appId}/audit-log", auth: "admin", sdk: "admin.auditLog.list",
    query: "AuditLogQuery", response: "AuditLogPage",
  },
  connectStripe: {
    method: "PUT", path: "/v1/apps/{appId}/integrations/stripe", auth: "admin", sdk: "admin.stripe.connect",
    idempotent: true, request: "StripeConnectRequest", response: "StripeConnection",
  },
  getStripeConnection: {
    method: "GET", path: "/v1/apps/{appId}/integrations/stripe", auth: "admin", sdk: "admin.stripe.get",
    response: "StripeConnection",
  },
  disconnectStripe: {
    method: "DELETE", path: "/v1/apps/{appId}/integrations/stripe", auth: "admin", sdk: "admin.stripe.disconnect",
  },
  listStripeEvents: {
    method: "GET", path: "/v1/apps/{appId}/integrations/stripe/events", auth: "admin", sdk: "admin.stripe.events",
    query: "PageParams", response: "StripeEventPage",
  },

  // Called by Stripe, not by the app.
  receiveStripeEvent: {
    method: "POST", path: "/v1/integrations/stripe/{appId}", auth: "none", sdk: null,
    why: "Stripe sends the app's events there, signed with the connected signing secret",
  },
} as const satisfies Record<string, Operation>;

export type OperationId = keyof typeof operations;
