import { DocumentReference, Firestore, Timestamp } from "firebase-admin/firestore";
import type { BmxAccessPoint, BmxTenant } from "../butterflymx/butterflymx-client";
import type { BmxEnvironment, BmxRegion } from "../butterflymx/butterflymx-hosts";

/**
 * `users/{uid}`: the resident's own document, parent of their devices. Holds their ButterflyMX link (written by
 * linking, removed by unlinking) and their ring preferences (read by the ring). Readable by the user only.
 */
export const USERS = "users";

export const CONTACT_PREFERENCES = ["mobile_app", "phone_call"] as const;
export type ContactPreference = (typeof CONTACT_PREFERENCES)[number];

/** What the resident wants rung: Do Not Disturb, or `phone_call` (ButterflyMX calls their phone instead), mean no push. */
export interface Preferences {
  doNotDisturb?: boolean;
  contactPreference?: ContactPreference;
}

/**
 * One tenancy of the linked ButterflyMX user, as linking found it: its unit, its building, the door-release flag and
 * the doors ButterflyMX lists for it (its panels; every access point of its building, absent when unknown).
 */
export type LinkedTenant = BmxTenant & { accessPoints?: Array<Omit<BmxAccessPoint, "buildingId">> };

/** The ButterflyMX account a resident linked, as `users/{uid}.butterflymx`. */
export interface ButterflyMxLinkInfo {
  userId: string;
  email?: string;
  environment: BmxEnvironment;
  region: BmxRegion;
  tenants: LinkedTenant[];
  linkedAt: Timestamp;
  updatedAt: Timestamp;
}

export function userRef(db: Firestore, uid: string): DocumentReference {
  return db.collection(USERS).doc(uid);
}

/**
 * `deletedUsers/{uid}`: a deleted account's tombstone, server only, written before its data goes. A deleted user's ID
 * token stays valid for up to an hour: the writers of `users/{uid}` read the tombstone in the same transaction as
 * their write and refuse, so that nothing brings the account back. It expires (TTL) after DELETED_USER_DAYS.
 */
export const DELETED_USERS = "deletedUsers";

/** Far longer than an ID token lives (one hour). */
export const DELETED_USER_DAYS = 7;

export function deletedUserRef(db: Firestore, uid: string): DocumentReference {
  return db.collection(DELETED_USERS).doc(uid);
}

export function isContactPreference(value: unknown): value is ContactPreference {
  return (CONTACT_PREFERENCES as readonly unknown[]).includes(value);
}
