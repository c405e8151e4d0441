/**
 * Pagination of the REST API's long lists (flowlets, routes, hosts, agents, meters): `?limit=N` (1 to
 * {@link MAX_PAGE_LIMIT}, default {@link DEFAULT_PAGE_LIMIT}) and `?cursor=C` (opaque: the sort key of the
 * last item of the previous page, base64url). Items are ordered by a stable string key, so a page is the
 * items whose key is greater than the cursor's: inserts and removals between pages never repeat an item
 * that stays, nor skip one. The response carries `nextCursor` (null on the last page).
 *
 * Only the page is serialized: the response of a table of 100,000 flowlets is `limit` items, not 61 MB.
 */
import { Type } from '@sinclair/typebox';
import { ApiError } from './errors.js';

export const DEFAULT_PAGE_LIMIT = 1000;
export const MAX_PAGE_LIMIT = 10_000;

/** The query keys of a paginated list (merged into a route's querystring schema). */
export const PageQueryProps = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, description: `items per page (default ${DEFAULT_PAGE_LIMIT})` })),
  cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
};
export const PageQuery = Type.Object(PageQueryProps, { additionalProperties: false });

export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'cursor of the next page; null: this is the last' });

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (key.length === 0 || Buffer.from(key, 'utf8').toString('base64url') !== cursor) {
    throw new ApiError('BAD_REQUEST', `cursor "${cursor.slice(0, 64)}" is not one this API returned`);
  }
  return key;
}

/**
 * One page of `items` by `keyOf` (unique per item). Sorting is O(n log n) on the keys only; the caller
 * maps just the returned page to JSON. @throws ApiError BAD_REQUEST for a cursor not made here
 */
export function page<T>(items: readonly T[], keyOf: (item: T) => string, req: PageRequest): { items: T[]; nextCursor: string | null } {
  const limit = req.limit ?? DEFAULT_PAGE_LIMIT;
  const after = req.cursor !== undefined ? decodeCursor(req.cursor) : undefined;
  const keyed: { k: string; item: T }[] = [];
  for (const item of items) {
    const k = keyOf(item);
    if (after === undefined || k > after) keyed.push({ k, item });
  }
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const slice = keyed.slice(0, limit);
  const more = keyed.length > limit;
  return { items: slice.map((x) => x.item), nextCursor: more ? Buffer.from(slice.at(-1)!.k, 'utf8').toString('base64url') : null };
}
