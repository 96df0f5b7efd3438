import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DocumentReference, DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { z } from "zod";

/** The last path segment of a webhook URL: base64url, long enough to be unguessable. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{32,256}$/;

export const REGISTRATIONS = "webhookRegistrations";

/** A per-registration secret: 256 random bits, URL-safe. Only its SHA-256 is ever stored. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** `webhookRegistrations/{sha256}`: written when an app links a tenant; read here to route its deliveries. */
export const registrationSchema = z.looseObject({
  uid: z.string().min(1),
  tenantId: z.string().min(1),
});

/** Who a delivery came through: a resident's own integration, or the operator's building-wide one. */
export type WebhookSource = { kind: "registration"; uid: string; tenantId: string } | { kind: "operator" };

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
  if (!SECRET_SHAPE.test(secret)) return { source: () => undefined };
  const digest = hashSecret(secret);
  if (operatorSecret.length >= 32 && timingSafeEqual(Buffer.from(digest, "hex"), Buffer.from(hashSecret(operatorSecret), "hex"))) {
    return { source: () => ({ kind: "operator" }) };
  }
  return { ref: db.collection(REGISTRATIONS).doc(digest), source: registrationSource };
}

function registrationSource(snapshot?: DocumentSnapshot): WebhookSource | undefined {
  const registration = registrationSchema.safeParse(snapshot?.data());
  return registration.success ? { kind: "registration", uid: registration.data.uid, tenantId: registration.data.tenantId } : undefined;
}

export function describeSource(source: WebhookSource): string {
  return source.kind === "operator" ? "operator" : `tenant:${source.tenantId}`;
}

/** The URL registered at ButterflyMX for one secret: the webhook function's URL plus the secret as last segment. */
export function webhookUrl(baseUrl: string, secret: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${secret}`;
}

/** The secret of a registered URL when that URL points at this webhook (same base), else undefined. */
export function secretInUrl(baseUrl: string, url: string | undefined): string | undefined {
  const prefix = `${baseUrl.replace(/\/+$/, "")}/`;
  if (!url?.startsWith(prefix)) return undefined;
  const secret = url.slice(prefix.length).split(/[?#]/)[0];
  return SECRET_SHAPE.test(secret) ? secret : undefined;
}
