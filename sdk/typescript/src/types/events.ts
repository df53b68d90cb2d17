// The events the server publishes and delivers to webhooks: one envelope, with
// a `data` shape per event type. `verifyWebhook` returns a `WebhookEvent`, so a
// `switch (event.event)` narrows `data` to the right shape.

import type { Commission, DateTime, Deal, DealStatus, Payout } from "./common.js";

export type EventType =
  | "partner_application_submitted"
  | "partner_application_approved"
  | "partner_application_rejected"
  | "commission_created"
  | "commission_approved"
  | "commission_reversed"
  | "payout_created"
  | "payout_paid"
  | "deal_registered"
  | "deal_status_changed"
  | "endpoint_disabled"
  | "partner_group_changed";

/** The envelope every event has; `id` is the `webhook-id`: deduplicate on it. */
export interface EventEnvelope<E extends EventType, D> {
  id: string;
  event: E;
  createdAt: DateTime;
  appId: string;
  data: D;
}

export interface ApplicationSubmittedData {
  application: {
    id: string;
    email: string;
    name: string;
    company: string | null;
    website: string | null;
    reason: string | null;
  };
}

export interface ApplicationApprovedData {
  application: { id: string; email: string; name: string };
  affiliate: { id: string; code: string; customer_id: string };
}

export interface ApplicationRejectedData {
  /** `reason` is null when the rejection gave none. */
  application: { id: string; email: string; name: string; reason: string | null };
}

export interface CommissionData {
  commission: Commission;
}

export interface CommissionApprovedData {
  commission: { id: string; amount: number; status: "approved" };
}

export interface PayoutData {
  payout: Payout;
}

export interface DealRegisteredData {
  deal: Deal;
}

export interface DealStatusChangedData {
  deal: Deal;
  previousStatus: DealStatus;
}

/** The dispatcher disabled one of the app's webhook endpoints. */
export interface EndpointDisabledData {
  endpoint: {
    id: string;
    url: string;
    /** When its run of failures began (five days of them disable it). */
    failingSince: DateTime;
    /** Why, in words: five days of failures, or a `410 Gone`. */
    reason: string;
  };
}

/** An admin moved a partner to another group, whose terms apply to its revenue from then on. */
export interface PartnerGroupChangedData {
  affiliate: { id: string; code: string; customer_id: string };
  /** Null: the default group (the program settings). */
  previousGroupId: string | null;
  /** Null: the default group (the program settings). */
  groupId: string | null;
}

/** Every event the server sends, discriminated by `event`. */
export type WebhookEvent =
  | EventEnvelope<"partner_application_submitted", ApplicationSubmittedData>
  | EventEnvelope<"partner_application_approved", ApplicationApprovedData>
  | EventEnvelope<"partner_application_rejected", ApplicationRejectedData>
  | EventEnvelope<"commission_created", CommissionData>
  | EventEnvelope<"commission_approved", CommissionApprovedData>
  | EventEnvelope<"commission_reversed", CommissionData>
  | EventEnvelope<"payout_created", PayoutData>
  | EventEnvelope<"payout_paid", PayoutData>
  | EventEnvelope<"deal_registered", DealRegisteredData>
  | EventEnvelope<"deal_status_changed", DealStatusChangedData>
  | EventEnvelope<"endpoint_disabled", EndpointDisabledData>
  | EventEnvelope<"partner_group_changed", PartnerGroupChangedData>;
