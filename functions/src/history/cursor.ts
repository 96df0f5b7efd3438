import { InvalidInput } from "../shared/errors";

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
    if (typeof at === "number" && Number.isFinite(at) && typeof key === "string" && key.length > 0) return { at, key };
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
