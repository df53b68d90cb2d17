// `client.admin.auditLog`: who changed what in the app, newest first (admin token).

import type { Transport } from "../http.js";
import { everyItem } from "../pagination.js";
import type { AuditEntry, AuditLogPage, AuditLogQuery } from "../types/admin.js";

export class AuditLog {
  constructor(private readonly http: Transport) {}

  /** One page of entries, newest first; `actor` and `since` narrow it. */
  list(params: AuditLogQuery = {}): Promise<AuditLogPage> {
    return this.http.call("listAuditLog", { query: params });
  }

  /** Every entry (of one actor, since a time, if given), fetching pages as the loop goes. */
  all(params: Omit<AuditLogQuery, "cursor"> = {}): AsyncGenerator<AuditEntry, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }
}
