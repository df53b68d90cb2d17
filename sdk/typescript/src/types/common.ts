// Shapes shared by every part of the API: problems (errors), listings, ids and
// the enumerations several resources use. Field names and optionality follow
// openapi.yaml exactly; a test checks that they do.

/** An RFC 3339 date-time, as the API sends it (`2026-11-30T22:34:22.246Z`). */
export type DateTime = string;

/** The app's own id of a customer: 1–128 letters, digits and `_ . : @ | -`. */
export type CustomerId = string;

/** An RFC 9457 problem: every error answer of the API. */
export interface Problem {
  /** `urn:partner-program:problem:<code>` */
  type: string;
  title: string;
  status: number;
  /** For people; may change. Branch on `code`. */
  detail: string;
  /** Stable, machine-readable. */
  code: string;
  /** The request field at fault, when there is one. */
  field?: string;
  /** When trying again makes sense (`application_exists` after a rejection). */
  retryAfter?: DateTime;
}

/** One page of an admin listing, newest first. */
export interface Page<T> {
  data: T[];
  /** Pass back as `cursor` for the next page; null at the end. */
  nextCursor: string | null;
}

/** Paging of an admin listing. */
export interface PageParams {
  /** 1–100, default 20. */
  limit?: number;
  /** The `nextCursor` of the previous page of the same listing. */
  cursor?: string;
}

export type ApplicationStatusValue = "pending" | "approved" | "rejected";

export type PartnerStatus = "active" | "suspended";

export type DealStatus = "pending" | "accepted" | "rejected" | "won" | "lost";

export type CommissionKind = "commission" | "reversal";

export type CommissionStatus = "pending" | "approved" | "paid";

/** A deal as partners register it and admins move it along. */
export interface Deal {
  id: string;
  affiliateId: string;
  leadEmail: string;
  leadName: string;
  notes?: string | null;
  status: DealStatus;
  createdAt: DateTime;
  updatedAt: DateTime;
}

/** A ledger entry: a commission, or the reversal of one after a refund. */
export interface Commission {
  id: string;
  affiliateId: string;
  customerId: string;
  kind: CommissionKind;
  /** Major units; negative for a reversal. */
  amount: number;
  currency: string;
  revenueAmount: number;
  /** Percent. */
  rate: number;
  revenueEventId: string;
  status: CommissionStatus;
  createdAt: DateTime;
  approvesAt: DateTime;
  payoutId?: string | null;
  /**
   * The reward rule that produced it (`default`: the program's rate; a reversal:
   * its payment's rule), as the rules were then.
   */
  ruleId?: string;
  /** The tier (1-based, in the group's order then) that raised its rate. */
  tier?: number;
  /** The product of the revenue line it was earned on. */
  productId?: string;
}

/** A payout to one partner, made by a payout run. */
export interface Payout {
  id: string;
  affiliateId: string;
  amount: number;
  currency: string;
  /** How many ledger entries it pays; each names this payout as `payoutId`. */
  commissionCount: number;
  status: "pending" | "paid";
  reference?: string | null;
  createdAt: DateTime;
  paidAt?: string | null;
}
