import { createHash, randomBytes } from "node:crypto";

/** The last path segment of a webhook URL: base64url, long enough to be unguessable. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{32,256}$/;

/** Whether a URL segment has the shape of a webhook secret (the webhook refuses any other without a lookup). */
export function isWebhookSecret(segment: string): boolean {
  return SECRET_SHAPE.test(segment);
}

/** A per-registration secret: 256 random bits, URL-safe. Only its SHA-256 is ever stored. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
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
  return isWebhookSecret(secret) ? secret : undefined;
}
