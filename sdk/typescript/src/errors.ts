// The errors the client throws. Every failed call is a PartnerProgramError: the
// server's RFC 9457 problem when it answered, or a client-side code (status 0)
// when no answer came or the client could not send the request at all.

import type { Problem } from "./types/common.js";

/** Codes for failures that have no HTTP answer (status 0). */
export type ClientErrorCode =
  /** The request could not reach the server (DNS, refused connection, CORS). */
  | "network_error"
  /** No answer within `timeoutMs`. */
  | "timeout"
  /** The call needs a credential or an `appId` the client was not given. */
  | "missing_credential"
  /** A 2xx answer whose body was not the JSON the API sends. */
  | "invalid_response";

export interface PartnerProgramErrorInit {
  status: number;
  code: string;
  detail: string;
  field?: string;
  retryAfter?: string;
  retryAfterSeconds?: number;
  problem?: Problem;
  cause?: unknown;
}

export class PartnerProgramError extends Error {
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** The problem's stable `code` (branch on this), or a `ClientErrorCode`. */
  readonly code: string;
  /** The request field at fault, when the server named one. */
  readonly field: string | undefined;
  /** For people; may change. */
  readonly detail: string;
  /**
   * The problem's `retryAfter` (RFC 3339): after a rejection, when the same email
   * may apply again.
   */
  readonly retryAfter: string | undefined;
  /** The `Retry-After` header in seconds (429 and 503 answers). */
  readonly retryAfterSeconds: number | undefined;
  /** The whole problem body, when the server sent one. */
  readonly problem: Problem | undefined;

  constructor(init: PartnerProgramErrorInit) {
    super(
      init.status ? `${init.status} ${init.code}: ${init.detail}` : `${init.code}: ${init.detail}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "PartnerProgramError";
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.detail = init.detail;
    this.retryAfter = init.retryAfter;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.problem = init.problem;
  }
}

/** Why a webhook was refused. */
export type WebhookVerificationReason =
  | "missing_header"
  | "invalid_timestamp"
  | "timestamp_too_old"
  | "timestamp_too_new"
  | "invalid_secret"
  | "invalid_signature"
  | "invalid_payload";

export class WebhookVerificationError extends Error {
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}
