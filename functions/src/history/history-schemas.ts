import { z } from "zod";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 50;

/**
 * The instants a history filter or cursor may name: what Firestore can store (years 1 to 9999), less a day at each end
 * for the matching window the access history adds. Beyond them a query could not be built.
 */
export const EARLIEST_MS = -62_135_596_800_000 + 86_400_000;
export const LATEST_MS = 253_402_300_799_999 - 86_400_000;
const RANGE = `must be between ${new Date(EARLIEST_MS).toISOString()} and ${new Date(LATEST_MS).toISOString()}`;

/** Whether an instant (ms since the epoch) is one a history filter or cursor may name. */
export function inHistoryRange(at: number): boolean {
  return at >= EARLIEST_MS && at <= LATEST_MS;
}

const date = (name: string) =>
  z.iso
    .datetime({ offset: true, error: `must be an ISO 8601 date-time with a time zone, e.g. 2026-11-28T12:00:00Z (${name})` })
    .transform((text) => Date.parse(text))
    .refine(inHistoryRange, RANGE);

/**
 * `getCallHistory` / `getAccessHistory` input. Dates are checked here: ButterflyMX answers a malformed date filter
 * with everything, unfiltered.
 */
export const historyQuerySchema = z
  .object(
    {
      limit: z.int("must be a whole number").min(1, "must be at least 1").max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).optional(),
      cursor: z.string().max(512, "must be a cursor this function returned").optional(),
      from: date("the oldest moment to include").optional(),
      to: date("the newest moment to include").optional(),
    },
    "must be an object",
  )
  .strict()
  .refine((query) => query.from === undefined || query.to === undefined || query.from <= query.to, { message: "from must not be after to", path: ["from"] });
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
