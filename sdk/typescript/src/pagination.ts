// Walking an admin listing page by page: `nextCursor` goes back as `cursor`
// until it is null. Filtered listings may return short pages before the end, so
// only a null cursor means the end.

import type { Page } from "./types/common.js";

/** Yields every item of a listing, fetching the next page only when needed. */
export async function* everyItem<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.data;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
