/**
 * Cursor pagination: a page asks for one row more than it shows, and the
 * last shown row's sort key, made opaque, becomes `next`. Cursors stay valid
 * while rows are added, unlike page numbers.
 */
import { ApiError } from './errors.ts';

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const key = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (key === '' || encodeCursor(key) !== cursor) throw new ApiError(400, 'invalid_cursor', 'cursor must be the `next` value of a previous page', 'cursor');
  return key;
}

/** `rows` were fetched with limit + 1. */
export function page<Row, Item>(rows: readonly Row[], limit: number, keyOf: (row: Row) => string, toItem: (row: Row) => Item): { items: Item[]; next?: string } {
  const shown = rows.slice(0, limit);
  const items = shown.map(toItem);
  return rows.length > limit ? { items, next: encodeCursor(keyOf(shown[shown.length - 1])) } : { items };
}
