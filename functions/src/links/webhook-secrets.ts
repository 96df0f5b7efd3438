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
  return url?.startsWith(prefix) ? secretShaped(pathOf(url.slice(prefix.length))) : undefined;
}

/** The secret a webhook URL carries as its last path segment, whatever base it was registered with. */
export function secretAtEnd(url: string | undefined): string | undefined {
  return url === undefined ? undefined : secretShaped(pathOf(url).split("/").at(-1) ?? "");
}

function pathOf(url: string): string {
  return url.split(/[?#]/)[0];
}

function secretShaped(segment: string): string | undefined {
  return isWebhookSecret(segment) ? segment : undefined;
}
