import { DocumentReference, Firestore, Timestamp, Transaction } from "firebase-admin/firestore";

/**
 * `bmxUsers/{bmxUserId}`: which app users a ButterflyMX user is linked to (`uids`), so that a call to that
 * ButterflyMX user rings them. Written by linking, unlinking and deletion; read by the webhook. Server only.
 */
export const BMX_USERS = "bmxUsers";

export function bmxUserRef(db: Firestore, bmxUserId: string): DocumentReference {
  return db.collection(BMX_USERS).doc(bmxUserId);
}

/** `bmxUsers/{id}.uids`, tolerating a missing document or a malformed field (no link, nobody to ring). */
export function linkedUids(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((uid): uid is string => typeof uid === "string" && uid.length > 0) : [];
}

/** The linked uids other than `uid`. */
export function otherUids(value: unknown, uid: string): string[] {
  return linkedUids(value).filter((u) => u !== uid);
}

export function setLinkedUids(tx: Transaction, ref: DocumentReference, uids: string[], now: Timestamp): void {
  tx.set(ref, { uids, updatedAt: now });
}

/** Removes a uid from `bmxUsers/{id}.uids`, deleting the document when nobody is left. */
export function removeUid(tx: Transaction, ref: DocumentReference, uids: unknown, uid: string): void {
  const rest = otherUids(uids, uid);
  if (rest.length === 0) tx.delete(ref);
  else tx.update(ref, { uids: rest });
}
