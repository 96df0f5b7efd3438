import { InvalidInput } from "../shared/errors";
import { DEFAULT_LIMIT, HistoryQuery, inHistoryRange } from "./history-schemas";

/**
 * Where a history page ended: the last entry returned, by time and key. The next page starts strictly after it in
 * the order (time, then key, both descending), so entries that arrive meanwhile (newer) never shift a page, and
 * entries at the same instant are split by key, never repeated or dropped.
 */
export interface Boundary {
  at: number;
  key: string;
}

export function encodeCursor(boundary: Boundary): string {
  return Buffer.from(JSON.stringify([boundary.at, boundary.key]), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): Boundary {
  try {
    const [at, key] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof at === "number" && inHistoryRange(at) && typeof key === "string" && key.length > 0) return { at, key };
  } catch {
    // reported below
  }
  throw new InvalidInput("cursor", "must be a cursor this function returned (nextCursor)");
}

/** Newest first: later time first, then the greater key. */
export function newestFirst(a: Boundary, b: Boundary): number {
  return b.at - a.at || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);
}

/** Whether an entry comes after the boundary in that order (belongs to a later page). */
export function after(entry: Boundary, boundary: Boundary | undefined): boolean {
  return boundary === undefined || newestFirst(boundary, entry) < 0;
}

/** A page as both histories read it: its size, where it starts, the newest time it may hold, and its entries' test. */
export interface PageWindow {
  limit: number;
  boundary?: Boundary;
  /** The newest instant the page may hold (the `to` filter, or the boundary); Infinity for the first page. */
  newest: number;
  inRange: (entry: Boundary) => boolean;
}

export function pageWindow(query: HistoryQuery): PageWindow {
  const boundary = query.cursor ? decodeCursor(query.cursor) : undefined;
  const to = query.to ?? Infinity;
  const from = query.from ?? -Infinity;
  return {
    limit: query.limit ?? DEFAULT_LIMIT,
    boundary,
    newest: Math.min(to, boundary?.at ?? Infinity),
    inRange: (entry) => after(entry, boundary) && entry.at <= to && entry.at >= from,
  };
}

/** The newest `limit` candidates, and the cursor after the last of them when more may follow. */
export function pageOf<T extends Boundary>(candidates: T[], limit: number, more: boolean): { page: T[]; nextCursor?: string } {
  const sorted = [...candidates].sort(newestFirst);
  const page = sorted.slice(0, limit);
  const last = page[page.length - 1];
  return { page, ...((more || sorted.length > limit) && last ? { nextCursor: encodeCursor({ at: last.at, key: last.key }) } : {}) };
}
