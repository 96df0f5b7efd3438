import { DocumentReference, DocumentSnapshot, Firestore, Query, Timestamp, Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import { BMX_REGIONS, BmxEnvironment, BmxRegion } from "../butterflymx/butterflymx-hosts";

/**
 * `webhookRegistrations/{sha256}`: one per-resident webhook URL registered at ButterflyMX, keyed by the SHA-256 of
 * the URL's secret. Written by linking (and the emulator seed), read by the webhook to route what arrives at it.
 */
export const REGISTRATIONS = "webhookRegistrations";

/** A registration as linking writes it. */
export interface Registration {
  /** The app user who registered it. */
  uid: string;
  tenantId: string;
  bmxIntegrationId: string;
  bmxUserId: string;
  region: BmxRegion;
  environment: BmxEnvironment;
  createdAt?: Timestamp;
  updatedAt: Timestamp;
}

/** Reading one back: routing needs the owner and tenant; the rest is optional (documents written before it existed). */
const storedRegistrationSchema = z.looseObject({
  uid: z.string().min(1),
  tenantId: z.string().min(1),
  bmxIntegrationId: z.string().min(1).optional(),
  bmxUserId: z.string().min(1).optional(),
  region: z.enum(BMX_REGIONS as [BmxRegion, ...BmxRegion[]]).optional(),
});
export type StoredRegistration = z.infer<typeof storedRegistrationSchema>;

export function registrationRef(db: Firestore, hash: string): DocumentReference {
  return db.collection(REGISTRATIONS).doc(hash);
}

/** Every registration of one app user. */
export function registrationsOf(db: Firestore, uid: string): Query {
  return db.collection(REGISTRATIONS).where("uid", "==", uid);
}

/** A stored registration, or undefined when the document is missing or malformed (it then routes nothing). */
export function readRegistration(snapshot: DocumentSnapshot | undefined): StoredRegistration | undefined {
  const parsed = storedRegistrationSchema.safeParse(snapshot?.data());
  return parsed.success ? parsed.data : undefined;
}

/** Writes a registration (merging into an existing one, whose `createdAt` stays unless `created`). */
export function setRegistration(tx: Transaction, ref: DocumentReference, registration: Omit<Registration, "createdAt" | "updatedAt">, now: Timestamp, created: boolean): void {
  const document: Registration = { ...registration, updatedAt: now, ...(created ? { createdAt: now } : {}) };
  tx.set(ref, document, { merge: true });
}
