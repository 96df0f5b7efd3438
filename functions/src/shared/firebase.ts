import { getApps, initializeApp } from "firebase-admin/app";
import { Firestore, getFirestore } from "firebase-admin/firestore";

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
