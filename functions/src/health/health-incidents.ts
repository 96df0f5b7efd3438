import { DocumentReference, Firestore, Timestamp } from "firebase-admin/firestore";

/**
 * `healthIncidents/{provider}-{kind}`: a delivery problem the health watch found, server only. One document per
 * provider and kind: `open` while windows keep showing it, `closed` once a later window is healthy, opened again
 * (with `opened` counting) if it comes back.
 */
export const HEALTH_INCIDENTS = "healthIncidents";

export type Provider = "fcm" | "apns";

/** `credentials`: the provider refused our credentials; `failure_rate`: too many rings were not accepted. */
export type IncidentKind = "credentials" | "failure_rate";

export interface HealthIncident {
  provider: Provider;
  kind: IncidentKind;
  state: "open" | "closed";
  openedAt: Timestamp;
  lastSeenAt: Timestamp;
  closedAt?: Timestamp;
  /** How many times it has opened. */
  opened: number;
  /** The window that showed it last: rings in it, those not accepted, and why. */
  evidence: { windowStart: Timestamp; total: number; failed: number; byReason: Record<string, number> };
}

export function healthIncidentRef(db: Firestore, provider: Provider, kind: IncidentKind): DocumentReference {
  return db.collection(HEALTH_INCIDENTS).doc(`${provider}-${kind}`);
}
