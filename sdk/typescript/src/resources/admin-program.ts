// `client.admin.applications`, `.settings`, `.groups`, `.partners` and `.deals`:
// reviewing applications and running the program (admin token; the app is the
// appId option).

import type { Transport } from "../http.js";
import { everyItem } from "../pagination.js";
import type {
  Affiliate,
  AffiliatePage,
  Application,
  ApplicationPage,
  BulkReviewRequest,
  BulkReviewResult,
  DealPage,
  DealStatusUpdate,
  Group,
  GroupChange,
  GroupInput,
  GroupList,
  ListApplicationsParams,
  PartnerUpdate,
  ReviewRequest,
  ReviewResult,
  Settings,
  SettingsUpdate,
} from "../types/admin.js";
import type { Deal, PageParams } from "../types/common.js";

export class Applications {
  constructor(private readonly http: Transport) {}

  /** One page of applications, newest first. */
  list(params: ListApplicationsParams = {}): Promise<ApplicationPage> {
    return this.http.call("listApplications", { query: params });
  }

  /** Every application (of one status, if given), fetching pages as the loop goes. */
  all(params: Omit<ListApplicationsParams, "cursor"> = {}): AsyncGenerator<Application, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }

  get(id: string): Promise<Application> {
    return this.http.call("getApplication", { params: { id } });
  }

  /**
   * Reviews up to 100 applications at once, each on its own: one outcome per id,
   * in order, with the status its single review would have answered. Not retried:
   * look at the outcomes and send the ids that failed again.
   */
  bulkReview(ids: string[], review: Omit<BulkReviewRequest, "ids">): Promise<BulkReviewResult> {
    const body: BulkReviewRequest = { ids, ...review };
    return this.http.call("bulkReviewApplications", { body });
  }

  /** Approves (creating the partner and its code) or rejects. A second review is a 409. */
  review(id: string, request: ReviewRequest): Promise<ReviewResult> {
    return this.http.call("reviewApplication", { params: { id }, body: request });
  }
}

export class ProgramSettings {
  constructor(private readonly http: Transport) {}

  get(): Promise<Settings> {
    return this.http.call("getSettings");
  }

  /** Changes the fields given; the others keep their value. */
  update(changes: SettingsUpdate): Promise<Settings> {
    return this.http.call("updateSettings", { body: changes });
  }
}

export class Groups {
  constructor(private readonly http: Transport) {}

  /** A partner group with its own reward rules and settings; 409 `group_slug_taken` for a slug in use. */
  create(request: GroupInput): Promise<Group> {
    return this.http.call("createGroup", { body: request });
  }

  /** Every group of the app (not the default group: the program settings). */
  list(): Promise<GroupList> {
    return this.http.call("listGroups");
  }

  get(groupId: string): Promise<Group> {
    return this.http.call("getGroup", { params: { groupId } });
  }

  /** Changes the fields given (null: back to the program's setting), for revenue from then on. */
  update(groupId: string, changes: GroupChange): Promise<Group> {
    return this.http.call("updateGroup", { params: { groupId }, body: changes });
  }

  /** Its partners are in the default group from then on. */
  delete(groupId: string): Promise<void> {
    return this.http.call("deleteGroup", { params: { groupId } });
  }
}

export class Partners {
  constructor(private readonly http: Transport) {}

  list(params: PageParams = {}): Promise<AffiliatePage> {
    return this.http.call("listPartners", { query: params });
  }

  all(params: Omit<PageParams, "cursor"> = {}): AsyncGenerator<Affiliate, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }

  get(affiliateId: string): Promise<Affiliate> {
    return this.http.call("getPartner", { params: { affiliateId } });
  }

  /**
   * Suspends or reactivates a partner, sets its own rate (null: the program's
   * default), or moves it to a group (null: the default group).
   */
  update(affiliateId: string, changes: PartnerUpdate): Promise<Affiliate> {
    return this.http.call("updatePartner", { params: { affiliateId }, body: changes });
  }
}

export class Deals {
  constructor(private readonly http: Transport) {}

  list(params: PageParams = {}): Promise<DealPage> {
    return this.http.call("listDeals", { query: params });
  }

  all(params: Omit<PageParams, "cursor"> = {}): AsyncGenerator<Deal, void, undefined> {
    return everyItem((cursor) => this.list({ ...params, cursor }));
  }

  /** pending → accepted / rejected, accepted → won / lost; anything else is a 409. */
  updateStatus(id: string, status: DealStatusUpdate["status"]): Promise<Deal> {
    const body: DealStatusUpdate = { status };
    return this.http.call("changeDealStatus", { params: { id }, body });
  }
}
