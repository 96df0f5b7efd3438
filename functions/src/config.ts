import { defineInt, defineSecret, defineString } from "firebase-functions/params";

/**
 * Deployed region of every function. The webhook URL registered at ButterflyMX contains it, so changing it
 * means re-registering the integrations; kept a constant for that reason rather than a deploy-time param.
 */
export const REGION = "us-central1";

/**
 * Secret for building-wide integrations registered by an operator. Used as the last path segment of the
 * webhook URL; values shorter than 32 characters disable the operator path (see docs/contract.md, "Webhook endpoint").
 */
export const WEBHOOK_OPERATOR_SECRET = defineSecret("WEBHOOK_OPERATOR_SECRET");

/** Per user and per callable that reaches ButterflyMX (its quota is the partner's OAuth client's, shared by all). */
export const USER_REQUESTS_PER_MINUTE = defineInt("USER_REQUESTS_PER_MINUTE", {
  default: 30,
  description: "Calls a user may make per minute to each callable that reaches ButterflyMX (history, diagnose, door release, preferences, link, unlink); resource-exhausted past it.",
  input: { text: { validationRegex: "^[1-9][0-9]{0,4}$", validationErrorMessage: "1 to 99999" } },
});

/** How long call documents live before Firestore's TTL policy on `expireAt` deletes them. */
export const CALL_RETENTION_DAYS = defineInt("CALL_RETENTION_DAYS", {
  default: 30,
  description: "Days a call document (and its device records) is kept before TTL deletion.",
  input: { text: { validationRegex: "^[1-9][0-9]{0,3}$", validationErrorMessage: "1 to 9999 days" } },
});

/**
 * Warm instances of the webhook, which rings and stops in its own request: a cold start eats into the ~40 s a visitor
 * waits. The triggers are only the net behind it, and start cold. 0 by default.
 */
export const CALL_MIN_INSTANCES = defineInt("CALL_MIN_INSTANCES", {
  default: 0,
  description: "Minimum warm instances of butterflymxWebhook, which rings and stops in its request (1 removes the cold start from the ring and the stop).",
});

/**
 * How long a call rings: bounds push retries, the FCM ring `ttl` and the ring window of late triggers. Used as at
 * most 90 s (calls/push-deps.ts, MAX_RING_WINDOW_SECONDS), so that a ring always finishes within its trigger.
 */
export const RING_WINDOW_SECONDS = defineInt("RING_WINDOW_SECONDS", {
  default: 40,
  description: "Seconds a visitor waits at the panel (1 to 90); pushes are retried and delivered only within it.",
  input: { text: { validationRegex: "^([1-9]|[1-8][0-9]|90)$", validationErrorMessage: "1 to 90 seconds" } },
});

/** APNs token auth (a .p8 key from the Apple developer account). */
export const APNS_KEY = defineSecret("APNS_KEY");
export const APNS_KEY_ID = defineString("APNS_KEY_ID", {
  default: "",
  description: "Key ID of the APNs auth key (10 characters); empty disables APNs VoIP.",
});
export const APNS_TEAM_ID = defineString("APNS_TEAM_ID", {
  default: "",
  description: "Apple developer team ID (10 characters).",
});
export const APNS_BUNDLE_ID = defineString("APNS_BUNDLE_ID", {
  default: "",
  description: "Default iOS bundle ID for devices that register without one (VoIP topic: <bundleId>.voip).",
});
export const APNS_ENVIRONMENT = defineString("APNS_ENVIRONMENT", {
  default: "production",
  description: "APNs environment of devices that register without one: production or sandbox (development builds).",
  input: { select: { options: [{ value: "production" }, { value: "sandbox" }] } },
});

/** ButterflyMX OAuth client (from ButterflyMX's partner team). Empty client id: linking answers failed-precondition. */
export const BUTTERFLYMX_CLIENT_ID = defineString("BUTTERFLYMX_CLIENT_ID", {
  default: "",
  description: "OAuth client ID issued by ButterflyMX; empty disables account linking.",
});
export const BUTTERFLYMX_CLIENT_SECRET = defineSecret("BUTTERFLYMX_CLIENT_SECRET");
export const BUTTERFLYMX_ENVIRONMENT = defineString("BUTTERFLYMX_ENVIRONMENT", {
  default: "production",
  description: "ButterflyMX environment the OAuth client belongs to: production or sandbox.",
  input: { select: { options: [{ value: "production" }, { value: "sandbox" }] } },
});
export const BUTTERFLYMX_REDIRECT_URIS = defineString("BUTTERFLYMX_REDIRECT_URIS", {
  default: "",
  description: "Comma-separated redirect URIs the apps use on ButterflyMX's authorize page; empty accepts any.",
});

/**
 * Public URL of butterflymxWebhook that linking registers at ButterflyMX. Empty: the function's own
 * cloudfunctions.net URL (in the emulator, its local URL). Set it when a custom domain fronts the webhook.
 */
export const WEBHOOK_BASE_URL = defineString("WEBHOOK_BASE_URL", {
  default: "",
  description: "Public URL of butterflymxWebhook registered at ButterflyMX; empty derives https://<region>-<project>.cloudfunctions.net/butterflymxWebhook.",
});

/**
 * Where Cloud Tasks delivers the ring timeouts. Empty: firebase-admin's default, the function's cloudfunctions.net
 * URL. Set it to `ringTimeout`'s Cloud Run URL when the deployed tasks are answered 401/403 (docs/deploy.md, step 4).
 */
export const RING_TIMEOUT_URL = defineString("RING_TIMEOUT_URL", {
  default: "",
  description: "URL Cloud Tasks calls for ring timeouts; empty uses https://<region>-<project>.cloudfunctions.net/ringTimeout. Set it to ringTimeout's Cloud Run URL if tasks are refused 401/403.",
});

/** The delivery-health watch: a provider failing at least this share of its rings in a window has an incident. */
export const HEALTH_FAILURE_PERCENT = defineInt("HEALTH_FAILURE_PERCENT", {
  default: 50,
  description: "Percent of a provider's rings in the 15-minute window that must fail (with at least HEALTH_MIN_RINGS rings) for deliveryHealth to open an incident.",
});

/** Fewer rings than this in a window say nothing about a provider's failure rate (credential refusals still count). */
export const HEALTH_MIN_RINGS = defineInt("HEALTH_MIN_RINGS", {
  default: 10,
  description: "Rings a provider needs in the 15-minute window before deliveryHealth judges its failure rate.",
});

/** How long after a call ended its recipients may still open the door the visitor called from. */
export const DOOR_RELEASE_WINDOW_SECONDS = defineInt("DOOR_RELEASE_WINDOW_SECONDS", {
  default: 300,
  description: "Seconds after a call ended during which its recipients may open the door it came from (releaseDoor with callGuid).",
});
