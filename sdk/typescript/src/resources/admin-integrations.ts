// `client.admin.webhooks`, `.apiKeys` and `.stripe`: webhook endpoints and their
// delivery log, the app's API keys, and the Stripe integration (admin token).

import type { Transport } from "../http.js";
import { everyItem } from "../pagination.js";
import type {
  ApiKeyCreate,
  ApiKeyList,
  CreatedApiKey,
  Delivery,
  DeliveryPage,
  ReplayResult,
  StripeConnectRequest,
  StripeConnection,
  StripeEvent,
  StripeEventPage,
  WebhookCreate,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
  WebhookUpdate,
} from "../types/admin.js";
import type { PageParams } from "../types/common.js";

export class Webhooks {
  constructor(private readonly http: Transport) {}

  /** Registers an endpoint; keep the answer's `secret`, it is shown only here. */
  create(request: WebhookCreate): Promise<WebhookEndpointWithSecret> {
    return this.http.call("createWebhook", { body: request });
  }

  /** Every endpoint of the app (never their secrets). */
  list(): Promise<WebhookEndpointList> {
    return this.http.call("listWebhooks");
  }

  get(id: string): Promise<WebhookEndpoint> {
    return this.http.call("getWebhook", { params: { id } });
  }

  update(id: string, changes: WebhookUpdate): Promise<WebhookEndpoint> {
    return this.http.call("updateWebhook", { params: { id }, body: changes });
  }

  delete(id: string): Promise<void> {
    return this.http.call("deleteWebhook", { params: { id } });
  }

  /** A new secret (shown once); the old one keeps signing beside it for 24 hours. */
  rotateSecret(id: string): Promise<WebhookEndpointWithSecret> {
    return this.http.call("rotateWebhookSecret", { params: { id } });
  }

  /** One page of the endpoint's delivery log, newest first. */
  deliveries(id: string, params: PageParams = {}): Promise<DeliveryPage> {
    return this.http.call("listDeliveries", { params: { id }, query: params });
  }

  allDeliveries(id: string, params: Omit<PageParams, "cursor"> = {}): AsyncGenerator<Delivery, void, undefined> {
    return everyItem((cursor) => this.deliveries(id, { ...params, cursor }));
  }

  /** Sends a delivery's event again, with the same `webhook-id` (202). */
  replay(id: string, deliveryId: string): Promise<ReplayResult> {
    return this.http.call("replayDelivery", { params: { id, deliveryId } });
  }
}

export class ApiKeys {
  constructor(private readonly http: Transport) {}

  /** Every key, revoked ones included (never the key itself). */
  list(): Promise<ApiKeyList> {
    return this.http.call("listApiKeys");
  }

  /** A new secret or publishable key; `key` is shown only in this answer. */
  create(request: ApiKeyCreate): Promise<CreatedApiKey> {
    return this.http.call("createApiKey", { body: request });
  }

  revoke(keyId: string): Promise<void> {
    return this.http.call("revokeApiKey", { params: { keyId } });
  }
}

export class Stripe {
  constructor(private readonly http: Transport) {}

  /** Connects Stripe with its endpoint's signing secret (or replaces the secret and mode). */
  connect(request: StripeConnectRequest): Promise<StripeConnection> {
    return this.http.call("connectStripe", { body: request });
  }

  /** The connection, with its endpoint URL and when the last event arrived. */
  get(): Promise<StripeConnection> {
    return this.http.call("getStripeConnection");
  }

  disconnect(): Promise<void> {
    return this.http.call("disconnectStripe");
  }

  /** One page of the events Stripe sent, newest first, with what each did. */
  events(params: PageParams = {}): Promise<StripeEventPage> {
    return this.http.call("listStripeEvents", { query: params });
  }

  allEvents(params: Omit<PageParams, "cursor"> = {}): AsyncGenerator<StripeEvent, void, undefined> {
    return everyItem((cursor) => this.events({ ...params, cursor }));
  }
}
