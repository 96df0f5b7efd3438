import { getApps, initializeApp } from "firebase-admin/app";
import { DocumentData, DocumentReference, Firestore, getFirestore, Timestamp, UpdateData } from "firebase-admin/firestore";

let db: Firestore | undefined;

/** The default app's Firestore, initialised on first use so that loading a module costs no I/O. */
export function firestore(): Firestore {
  if (!db) {
    // firebase-functions keeps a named app of its own for event snapshots; only the default one is ours.
    if (!getApps().some((app) => app.name === "[DEFAULT]")) initializeApp();
    db = getFirestore();
  }
  return db;
}

/**
 * Optimistic writes. A transaction's read lock on a call deadlocks with any other transaction that read it and
 * wants to write, and the loser waits a second or more before its retry: too long for a ring or a stop. So the
 * call is written with a precondition on the version read (`lastUpdateTime`, or `create` for a new one), and
 * whoever finds it changed reads it again and decides anew. Nothing holds a lock.
 */

/** Runs a write whose precondition names the version read; false when the document changed (or went, or came) since. */
export async function ifUnchanged(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (CHANGED.has((error as { code?: unknown }).code)) return false;
    throw error;
  }
}

/** Updates the document only if it is still the version seen at `seenAt`: one round trip, no lock. */
export function updateIfUnchanged(ref: DocumentReference, fields: UpdateData<DocumentData>, seenAt: Timestamp): Promise<boolean> {
  return ifUnchanged(ref.update(fields, { lastUpdateTime: seenAt }));
}

/** Read-decide-write rounds before giving up; each lost round means someone else's write landed in between. */
export const OPTIMISTIC_ATTEMPTS = 20;

/** The error when every round lost; callers answer 5xx or let the trigger retry. */
export function stillContended(what: string): Error {
  return new Error(`${what}: the document kept changing (${OPTIMISTIC_ATTEMPTS} attempts)`);
}

/** gRPC codes of a failed precondition: NOT_FOUND (update of a deleted document), ALREADY_EXISTS, FAILED_PRECONDITION. */
const CHANGED = new Set<unknown>([5, 6, 9]);
