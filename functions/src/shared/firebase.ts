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
 * Updates the document only if it is still the version seen at `seenAt`: one round trip, no lock. False when it
 * changed (or went) since; the caller then decides again on what is current.
 */
export async function updateIfUnchanged(ref: DocumentReference, fields: UpdateData<DocumentData>, seenAt: Timestamp): Promise<boolean> {
  try {
    await ref.update(fields, { lastUpdateTime: seenAt });
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === FAILED_PRECONDITION || code === NOT_FOUND) return false;
    throw error;
  }
}

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
