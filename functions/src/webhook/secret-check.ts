import { timingSafeEqual } from "node:crypto";
import { DocumentReference, DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { hashSecret, isWebhookSecret } from "../links/webhook-secrets";
import { readRegistration, registrationRef } from "../links/registrations";

/** Who an event came through: a resident's own integration, or the operator's building-wide one. */
export type WebhookSource = { kind: "registration"; uid: string; tenantId: string; bmxUserId?: string } | { kind: "operator" };

/**
 * How a URL secret is authenticated: `ref`, when present, is the registration to read (the caller reads it in
 * the same request as its own first read; Firestore errors propagate, and the caller answers 5xx), and `source`
 * decides from that snapshot, or alone (a malformed secret, or the operator's). Digests of equal length are
 * compared in constant time; the registration is keyed by the digest, so the lookup's timing says nothing about
 * the secret.
 */
export interface SecretLookup {
  ref?: DocumentReference;
  source: (registration?: DocumentSnapshot) => WebhookSource | undefined;
}

export function lookupSecret(db: Firestore, secret: string, operatorSecret: string): SecretLookup {
  if (!isWebhookSecret(secret)) return { source: () => undefined };
  const digest = hashSecret(secret);
  if (operatorSecret.length >= 32 && timingSafeEqual(Buffer.from(digest, "hex"), Buffer.from(hashSecret(operatorSecret), "hex"))) {
    return { source: () => ({ kind: "operator" }) };
  }
  return { ref: registrationRef(db, digest), source: registrationSource };
}

function registrationSource(snapshot?: DocumentSnapshot): WebhookSource | undefined {
  const registration = readRegistration(snapshot);
  return registration && { kind: "registration", uid: registration.uid, tenantId: registration.tenantId, bmxUserId: registration.bmxUserId };
}

export function describeSource(source: WebhookSource): string {
  return source.kind === "operator" ? "operator" : `tenant:${source.tenantId}`;
}
