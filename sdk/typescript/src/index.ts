// The package's public surface: the client, webhook verification, the errors and
// every type of the API.

export { PartnerProgram, type PartnerProgramOptions } from "./client.js";
export { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from "./webhooks.js";
export {
  PartnerProgramError,
  WebhookVerificationError,
  type ClientErrorCode,
  type PartnerProgramErrorInit,
  type WebhookVerificationReason,
} from "./errors.js";
export type { FetchLike } from "./http.js";
export { operations, type Auth, type HttpMethod, type Operation, type OperationId } from "./operations.js";
export type * from "./types/common.js";
export type * from "./types/partner.js";
export type * from "./types/admin.js";
export type * from "./types/events.js";
