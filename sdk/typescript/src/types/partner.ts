// Shapes of the routes an app and its partners call: applying, looking a partner
// up, clicks, referrals, revenue, sessions, and the session routes (dashboard,
// portal link, deals). Names match openapi.yaml's schemas where it names them.

import type {
  ApplicationStatusValue,
  CommissionKind,
  CommissionStatus,
  Commission,
  CustomerId,
  DateTime,
  Deal,
  PartnerStatus,
  Payout,
} from "./common.js";

/** `POST /v1/affiliate/apply`. Unknown fields are refused, so send only these. */
export interface ApplyRequest {
  email: string;
  name: string;
  company?: string | null;
  /** An http(s) URL; a bare domain gets `https://`. */
  website?: string | null;
  reason?: string | null;
  /** The signed-in user applying (secret key only). */
  customerId?: CustomerId | null;
  /**
   * The slug of the partner group to join (404 `group_not_found` for none); a
   * group with `autoApprove` approves the application at once.
   */
  group?: string | null;
}

/** The answer to an application: it is pending review. */
export interface Applied {
  id: string;
  status: ApplicationStatusValue;
  message: string;
  submittedAt: DateTime;
}

export interface NotApplied {
  applied: false;
}

export interface ApplicationStatus {
  applied: true;
  id: string;
  status: ApplicationStatusValue;
  submittedAt: DateTime;
  reviewedAt?: DateTime;
  rejectionReason?: string;
  /** Once approved, the customer the partner is attached to. */
  customerId?: string;
  /** Once approved, the partner. */
  affiliateId?: string;
}

/** `GET /v1/affiliate/apply/status`: branch on `applied`. */
export type ApplicationStatusResult = NotApplied | ApplicationStatus;

/** The query of `GET /v1/affiliate/apply/status`. */
export interface ApplicationStatusQuery {
  email: string;
}

export interface NotEnrolled {
  enrolled: false;
}

/** A partner with its figures (money in major units of `currency`). */
export interface PartnerInfo {
  enrolled: true;
  id: string;
  code: string;
  type: "affiliate";
  status: PartnerStatus;
  customerId: string;
  /** Percent; the partner's own rate, else the program's default. */
  commissionRate: number;
  totalEarned: number;
  /** Still in the holding period. */
  pendingBalance: number;
  /** Approved and not yet paid out. */
  availableBalance: number;
  paidTotal: number;
  currency: string;
  createdAt: DateTime;
}

/** By-customer and the session's own partner: branch on `enrolled`. */
export type PartnerLookup = NotEnrolled | PartnerInfo;

/** `POST /v1/affiliate/track`. */
export interface TrackRequest {
  code: string;
  url: string;
  visitorId?: string | null;
  referrer?: string | null;
}

/** The click `trackReferral` recorded. */
export interface TrackedClick {
  id: string;
  code: string;
  /** When the click's attribution ends (now + cookieDurationDays). */
  expiresAt: DateTime;
  /** False for a visitor's repeated click on the same code within an hour. */
  counted: boolean;
}

/** The options of `trackReferral` besides the code and the page URL. */
export interface TrackOptions {
  visitorId?: string | null;
  referrer?: string | null;
}

/** `POST /v1/affiliate/referrals`: through a click (`clickId`) or a `code`. */
export interface ReferralRequest {
  customerId: CustomerId;
  clickId?: string;
  code?: string;
  email?: string;
}

/** The attribution a referral made. */
export interface Referral {
  customerId: string;
  affiliateId: string;
  clickId?: string | null;
  attributedAt: DateTime;
}

/** One product of a payment; rules with `productIds` match lines by `productId`. */
export interface RevenueLine {
  /** 1–128 characters. */
  productId: string;
  /** Major units, more than 0. */
  amount: number;
}

/** `POST /v1/affiliate/revenue`; idempotent by `eventId`. */
export interface RevenueRequest {
  /** Your payment provider's event or invoice id. */
  eventId: string;
  customerId: CustomerId;
  /** Major units, at most two decimals. */
  amount: number;
  currency: string;
  type: "payment" | "refund";
  occurredAt?: DateTime;
  /** A payment's products (payments only): 1–20 lines that add up to `amount`. */
  lines?: RevenueLine[];
  /**
   * The `eventId` of the payment a refund refunds (refunds only); 404
   * `payment_not_found` when no payment of this customer has it.
   */
  paymentEventId?: string;
}

/** What a revenue event earned: its commissions (or reversal), or none with the reason. */
export interface RevenueResult {
  eventId: string;
  customerId: string;
  type: "payment" | "refund";
  amount: number;
  currency: string;
  occurredAt?: string | null;
  /** The first of `commissions`. */
  commission: Commission | null;
  /** Every commission (or the reversal) it made, one per earning line. */
  commissions?: Commission[];
  reason?: "not_referred" | "partner_suspended" | "nothing_to_earn" | "other_currency" | null;
}

/** `POST /v1/sessions`. */
export interface SessionRequest {
  customerId: CustomerId;
}

/** A session token for one customer, valid an hour. */
export interface Session {
  token: string;
  expiresAt: DateTime;
}

/** A link to the hosted partner portal, valid 24 hours. */
export interface PortalLink {
  url: string;
  expiresAt: DateTime;
}

/** `POST /v1/affiliate/deals`. */
export interface DealRequest {
  leadEmail: string;
  leadName: string;
  notes?: string | null;
}

/** `GET /v1/affiliate/deals`: the partner's own deals, newest first. */
export interface DealList {
  data: Deal[];
}

export interface DashboardAffiliate {
  id: string;
  code: string;
  status: PartnerStatus;
  commissionRate: number;
  totalEarned: number;
  pendingBalance: number;
  availableBalance: number;
  paidTotal: number;
  currency: string;
}

export interface DashboardStats {
  clicks: number;
  referrals: number;
  conversions: number;
}

/** A commission as its partner sees it: never the referred customer. */
export interface PartnerCommission {
  id: string;
  kind: CommissionKind;
  amount: number;
  currency: string;
  status: CommissionStatus;
  createdAt: DateTime;
  approvesAt: DateTime;
}

/** `GET /v1/affiliate/dashboard`. */
export interface Dashboard {
  affiliate: DashboardAffiliate;
  stats: DashboardStats;
  /** The branding's `websiteUrl` with `?ref=CODE`; null without one. */
  referralLink: string | null;
  /** The branding name, else the app's name. */
  programName?: string;
  /**
   * The partner's terms in plain words: its group's rules and tiers, or the
   * program's rate ("30% of payments for 12 months; 35% from 10 paying customers").
   */
  terms?: string;
  recentCommissions: PartnerCommission[];
  payouts: Payout[];
  deals: Deal[];
}
