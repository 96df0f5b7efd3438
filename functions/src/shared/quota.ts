import { Firestore, Timestamp } from "firebase-admin/firestore";
import { LimitReached } from "./errors";

/**
 * `quotas/{uid}:{callable}`: how often one user called one callable in the current window. Server only; expires (TTL
 * on `expireAt`) with its window. ButterflyMX's quota belongs to the partner's OAuth client, so each callable that
 * spends it spends a user's share only.
 */
export const QUOTAS = "quotas";

/** A quota's window: uses are counted per minute. */
export const QUOTA_WINDOW_MS = 60_000;

export interface QuotaUse {
  uid: string;
  callable: string;
  /** Uses allowed per window. */
  perWindow: number;
  now: number;
}

/**
 * Counts one use, in a transaction on the user's quota document, so that the limit holds across instances. Past the
 * limit, nothing is counted and LimitReached says how many seconds are left in the window.
 */
export async function spendQuota(db: Firestore, use: QuotaUse): Promise<void> {
  const ref = db.collection(QUOTAS).doc(`${use.uid}:${use.callable}`);
  await db.runTransaction(async (tx) => {
    const current = await tx.get(ref);
    const windowStart = (current.get("windowStart") as Timestamp | undefined)?.toMillis();
    const used = (current.get("used") as number | undefined) ?? 0;
    if (windowStart === undefined || use.now >= windowStart + QUOTA_WINDOW_MS) {
      tx.set(ref, { windowStart: Timestamp.fromMillis(use.now), used: 1, expireAt: Timestamp.fromMillis(use.now + QUOTA_WINDOW_MS) });
      return;
    }
    if (used >= use.perWindow) {
      const seconds = Math.max(1, Math.ceil((windowStart + QUOTA_WINDOW_MS - use.now) / 1000));
      throw new LimitReached(`Too many ${use.callable} requests: at most ${use.perWindow} a minute. Try again in ${seconds} s.`, { retryAfterSeconds: seconds });
    }
    tx.update(ref, { used: used + 1 });
  });
}
