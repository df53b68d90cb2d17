// Shapes of the admin API (admin token): applications and their review, program
// settings, partner groups and their reward rules, partners, deals, commissions,
// payouts, webhook endpoints, API keys and the audit log.

import type {
  ApplicationStatusValue,
  Commission,
  CommissionStatus,
  DateTime,
  Deal,
  Page,
  PageParams,
  PartnerStatus,
  Payout,
} from "./common.js";
import type { EventType } from "./events.js";

/** A partner application as the admin sees it. */
export interface Application {
  id: string;
  appId: string;
  email: string;
  name: string;
  company?: string;
  website?: string;
  reason?: string;
  status: ApplicationStatusValue;
  submittedAt: DateTime;
  reviewedAt?: DateTime;
  /** Who approved or rejected it, as the audit log names actors (`admin:<sub>`). */
  reviewedBy?: string;
  rejectionReason?: string;
  affiliateId?: string;
  customerId?: string;
}

export type ApplicationPage = Page<Application>;

export interface ListApplicationsParams extends PageParams {
  status?: ApplicationStatusValue;
}

/** Up to 100 applications reviewed at once; approvals get generated codes. */
export interface BulkReviewRequest {
  ids: string[];
  action: "approve" | "reject";
  /** Reject only. */
  rejectionReason?: string | null;
}

/** One application's outcome: `status` is what its single review would have answered. */
export interface BulkReviewOutcome {
  id: string;
  /** 200 reviewed; 404 not found; 409 already reviewed or another conflict; 5xx try again. */
  status: number;
  application?: Application;
  affiliate?: ApprovedPartner;
  problem?: { code: string; detail: string };
}

/** One outcome per application, in the order of the request's `ids`. */
export interface BulkReviewResult {
  results: BulkReviewOutcome[];
}

/** Approve (with an optional code) or reject (with an optional reason). */
export interface ReviewRequest {
  action: "approve" | "reject";
  /** Approve only: 3–32 letters, digits, `-`, `_`; generated when omitted. */
  code?: string;
  /** Reject only. */
  rejectionReason?: string | null;
}

/** The partner an approval created. */
export interface ApprovedPartner {
  id: string;
  code: string;
  customer_id: string;
}

export interface ReviewResult {
  application: Application;
  /** On approval. */
  affiliate?: ApprovedPartner;
}

export interface Branding {
  name?: string;
  /** `#rrggbb` */
  color?: string;
  logoUrl?: string;
  /** Referral links are this with `?ref=CODE`. */
  websiteUrl?: string;
}

export interface Settings {
  enabled: boolean;
  /** Percent. */
  defaultCommissionRate: number;
  holdingPeriodDays: number;
  /** Major units. */
  minPayoutAmount: number;
  cookieDurationDays: number;
  currency: string;
  branding: Branding;
  /** Web origins whose pages may call the browser routes. */
  allowedOrigins: string[];
  /** Null: never. */
  reapplyAfterDays: number | null;
  /** Deals a partner may have pending or accepted at once. */
  maxOpenDeals: number;
  rateLimits: RateLimits;
}

/** Requests per minute; over a limit a request is refused with 429. */
export interface RateLimits {
  /** Applications per client IP with the publishable key (default 10). */
  applyPerIp: number;
  /** Clicks per client IP with the publishable key (default 120). */
  trackPerIp: number;
  /** Requests per API key, of either kind (default 60000). */
  perKey: number;
}

/** Fields left out keep their value. */
export interface SettingsUpdate {
  enabled?: boolean;
  defaultCommissionRate?: number;
  holdingPeriodDays?: number;
  minPayoutAmount?: number;
  cookieDurationDays?: number;
  currency?: string;
  branding?: Branding;
  /** Replaces the list; at most 20 exact origins. */
  allowedOrigins?: string[];
  reapplyAfterDays?: number | null;
  /** 0: partners cannot register deals. */
  maxOpenDeals?: number;
  rateLimits?: RateLimitsUpdate;
}

/** Requests per minute (1 to 1,000,000); fields left out keep their value. */
export interface RateLimitsUpdate {
  applyPerIp?: number;
  trackPerIp?: number;
  perKey?: number;
}

/** Which of a referred customer's payments a reward rule pays on. */
export type RuleAppliesTo = "every_payment" | "first_payment" | "first_months" | "first_payments";

/**
 * A group's reward rule: `{kind: "percentage", rate}` (percent of the line) or
 * `{kind: "flat", amount}` (major units, once per payment). `appliesTo` limits the
 * customer's payments it pays on, `productIds` the lines (by product), `minAmount`
 * the lines of at least that much.
 */
export interface Rule {
  id: string;
  kind: "percentage" | "flat";
  /** Percent (kind percentage). */
  rate?: number;
  /** Major units (kind flat). */
  amount?: number;
  appliesTo: RuleAppliesTo;
  /** With `first_months`. */
  months?: number;
  /** With `first_payments`. */
  payments?: number;
  productIds?: string[];
  minAmount?: number;
}

/** A reward rule as sent: `id` is kept when given (entries keep naming the rule), else made. */
export interface RuleInput {
  /** 1–40 letters, digits, `_`, `-`. */
  id?: string;
  kind: "percentage" | "flat";
  /** Percent, 0–100 (kind percentage). */
  rate?: number;
  /** Major units of the program's currency, more than 0 (kind flat). */
  amount?: number;
  /** Default `every_payment`. */
  appliesTo?: RuleAppliesTo;
  /** 1–120, with `first_months`. */
  months?: number;
  /** 1–1000, with `first_payments`. */
  payments?: number;
  /** At most 20. */
  productIds?: string[];
  minAmount?: number;
}

/** Raises a group's percentage rules from a number of paying customers on. */
export interface Tier {
  /** Referred customers who had paid before the payment. */
  minCustomers: number;
  /** Percent. */
  rate: number;
}

/** A new partner group; settings left out (or null) are the program's. */
export interface GroupInput {
  name: string;
  /** Public (`^[a-z0-9-]{2,40}$`): an application names the group by it. */
  slug: string;
  /** 1–10, tried in order for each line of a payment; the first that matches earns it. */
  rules: RuleInput[];
  /** At most 10. */
  tiers?: Tier[];
  holdingPeriodDays?: number | null;
  /** Major units. */
  minPayoutAmount?: number | null;
  cookieDurationDays?: number | null;
  /** Approve its applications at once. */
  autoApprove?: boolean;
}

/** Any field of a group; fields left out keep their value, null returns a setting to the program's. */
export interface GroupChange {
  name?: string;
  slug?: string;
  /** Replaces the rules. */
  rules?: RuleInput[];
  /** Replaces the tiers. */
  tiers?: Tier[];
  holdingPeriodDays?: number | null;
  minPayoutAmount?: number | null;
  cookieDurationDays?: number | null;
  autoApprove?: boolean;
}

/** A partner group: its own reward rules and settings (null: the program's). */
export interface Group {
  /** `grp_…` */
  id: string;
  name: string;
  slug: string;
  rules: Rule[];
  tiers: Tier[];
  holdingPeriodDays: number | null;
  /** Major units. */
  minPayoutAmount: number | null;
  cookieDurationDays: number | null;
  autoApprove: boolean;
  /** The rules and tiers in plain words ("30% of payments for 12 months"). */
  terms: string;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** Every group of the app (the default group, the program settings, is not listed). */
export interface GroupList {
  data: Group[];
  nextCursor: null;
}

/** A partner as the admin API shows it. */
export interface Affiliate {
  id: string;
  code: string;
  status: PartnerStatus;
  customerId: string;
  applicationId: string;
  /** Its own rate in percent; null when the program default applies. */
  commissionRate: number | null;
  /** Its group; null for the default group (the program settings). */
  groupId: string | null;
  createdAt: DateTime;
}

export type AffiliatePage = Page<Affiliate>;

/**
 * Suspend or reactivate a partner, set its own rate (null: the default), or move
 * it to a group (null: the default group) for revenue from then on.
 */
export interface PartnerUpdate {
  status?: PartnerStatus;
  commissionRate?: number | null;
  /** Sends `partner_group_changed`; 404 `group_not_found` for a group the app does not have. */
  groupId?: string | null;
}

export type DealPage = Page<Deal>;

/** pending → accepted / rejected, accepted → won / lost. */
export interface DealStatusUpdate {
  status: "accepted" | "rejected" | "won" | "lost";
}

export type CommissionPage = Page<Commission>;

/** Filters of the commission listing; they apply within each page. */
export interface ListCommissionsParams extends PageParams {
  status?: CommissionStatus;
  affiliateId?: string;
}

/** The query the commission listing sends (JSON, or CSV with `format`). */
export interface ListCommissionsQuery extends ListCommissionsParams {
  format?: "json" | "csv";
}

export type PayoutPage = Page<Payout>;

/** The query the payout listing sends (JSON, or CSV with `format`). */
export interface ListPayoutsQuery extends PageParams {
  format?: "json" | "csv";
}

/** A pass over every partner of the app that pays what is due. */
export interface PayoutRun {
  id: string;
  status: "running" | "completed" | "failed";
  /** Partners visited so far (paid or not). */
  partnersDone: number;
  /** Null until the runner has counted them. */
  partnersTotal: number | null;
  /** Payouts this run made. */
  payouts: number;
  /** Their sum, in major units of `currency`. */
  amount: number;
  currency: string;
  /** Why a failed run stopped. */
  error?: string;
  createdAt: DateTime;
  updatedAt: DateTime;
}

export interface MarkPaidRequest {
  /** Your payment's reference. */
  reference?: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: EventType[];
  description?: string;
  enabled: boolean;
  /** Why the dispatcher disabled it (five days of failures, or a 410 Gone). */
  disabledReason?: string;
  /** Attempts in a row that failed; absent while the endpoint is healthy. */
  consecutiveFailures?: number;
  /** When its current run of failures began. */
  failingSince?: DateTime;
  /** While its circuit is open: until when deliveries wait instead of trying. */
  circuitOpenUntil?: DateTime;
  createdAt: DateTime;
}

/** An endpoint with its signing secret: shown only when created or rotated. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  /** `whsec_<base64>`: pass it to `verifyWebhook`. */
  secret: string;
}

export interface WebhookEndpointList {
  data: WebhookEndpoint[];
  nextCursor: null;
}

export interface WebhookCreate {
  url: string;
  events: EventType[];
  description?: string | null;
}

export interface WebhookUpdate {
  url?: string;
  events?: EventType[];
  enabled?: boolean;
  description?: string;
}

export interface DeliveryAttempt {
  at: DateTime;
  statusCode?: number;
  error?: string;
  latencyMs: number;
  responseExcerpt?: string;
}

/** One event's delivery to one endpoint, with its latest attempts. */
export interface Delivery {
  id: string;
  /** Every attempt made; `attempts` keeps the 25 most recent. */
  attemptCount: number;
  endpointId: string;
  /** Also the `webhook-id` of every attempt. */
  eventId: string;
  eventType: EventType;
  status: "pending" | "succeeded" | "failed";
  nextAttemptAt?: DateTime;
  attempts: DeliveryAttempt[];
}

export type DeliveryPage = Page<Delivery>;

export interface ReplayResult {
  deliveryId: string;
  status: "queued";
}

export type ApiKeyKind = "secret" | "publishable";

/** An API key as listed: never the key itself. */
export interface ApiKey {
  id: string;
  kind: ApiKeyKind;
  /** The key's first characters, to tell keys apart. */
  prefix: string;
  label?: string;
  createdAt: DateTime;
  revokedAt: DateTime | null;
}

export interface ApiKeyList {
  data: ApiKey[];
  nextCursor: null;
}

export interface ApiKeyCreate {
  kind: ApiKeyKind;
  label?: string | null;
}

/** A new key; `key` is shown only in this answer. */
export interface CreatedApiKey {
  id: string;
  kind: ApiKeyKind;
  key: string;
  prefix: string;
  label?: string;
  createdAt: DateTime;
}

/** What a change did, as `<subject>.<verb>`. */
export type AuditAction =
  | "application.submitted"
  | "application.approved"
  | "application.rejected"
  | "referral.recorded"
  | "revenue.recorded"
  | "refund.recorded"
  | "commission.approved"
  | "settings.updated"
  | "api_key.created"
  | "api_key.revoked"
  | "webhook_endpoint.created"
  | "webhook_endpoint.updated"
  | "webhook_endpoint.secret_rotated"
  | "webhook_endpoint.deleted"
  | "affiliate.suspended"
  | "affiliate.reactivated"
  | "affiliate.rate_changed"
  | "affiliate.updated"
  | "deal.registered"
  | "deal.status_changed"
  | "payout_run.started"
  | "payout_run.completed"
  | "payout_run.failed"
  | "payout.created"
  | "payout.paid"
  | "integration.connected"
  | "integration.disconnected"
  | "group.created"
  | "group.updated"
  | "group.deleted"
  | "affiliate.group_changed";

export type AuditSubjectKind =
  | "application"
  | "affiliate"
  | "referral"
  | "revenue"
  | "commission"
  | "settings"
  | "api_key"
  | "webhook_endpoint"
  | "deal"
  | "payout"
  | "payout_run"
  | "integration"
  | "group";

/** What a change was made to. */
export interface AuditSubject {
  kind: AuditSubjectKind;
  /** For `revenue` the app's `eventId`, for `referral` the customer's id, for `settings` the app's id. */
  id: string;
}

/** One change to the app, by whom. */
export interface AuditEntry {
  id: string;
  at: DateTime;
  /** `apiKey:<keyId>`, `admin:<sub>`, `partner:<customerId>`, `stripe` or `system`. */
  actor: string;
  action: AuditAction;
  subject: AuditSubject;
  /** For people: ids and figures, never a secret or an email. */
  summary?: string;
}

export type AuditLogPage = Page<AuditEntry>;

/** Filters of the audit log: one actor's entries, those made at or after `since`. */
export interface AuditLogQuery extends PageParams {
  /** `apiKey:<keyId>`, `admin:<sub>`, `partner:<customerId>`, `stripe` or `system`. */
  actor?: string;
  since?: DateTime;
}

/** `PUT /v1/apps/{appId}/integrations/stripe`. */
export interface StripeConnectRequest {
  /** The signing secret of the app's webhook endpoint in Stripe (`whsec_…`). */
  webhookSecret: string;
  /** Live-mode events count (default), or test-mode ones. */
  livemode?: boolean;
}

/** The app's Stripe connection (never its secret). */
export interface StripeConnection {
  connected: boolean;
  /** The URL to give Stripe's webhook endpoint; null without `PUBLIC_BASE_URL`. */
  endpointUrl: string | null;
  livemode: boolean;
  connectedAt: DateTime;
  lastEventAt: DateTime | null;
}

/** What became of a received Stripe event. */
export type StripeOutcome =
  | "attributed"
  | "commission_created"
  | "revenue_recorded"
  | "refund_recorded"
  | "promotion_code_linked"
  | "ignored"
  | "failed";

/** One event Stripe sent, and what it did. */
export interface StripeEvent {
  /** Stripe's event id (`evt_…`). */
  id: string;
  /** Stripe's event type (`invoice.paid`). */
  type: string;
  livemode: boolean;
  receivedAt: DateTime;
  outcome: StripeOutcome;
  /** Why it was ignored or failed, or why a payment earned nothing. */
  reason: string | null;
  /** The ids of what it created. */
  created: {
    customerId?: string;
    revenueEventId?: string;
    commissionId?: string;
    promotionCode?: string;
  };
}

export type StripeEventPage = Page<StripeEvent>;
