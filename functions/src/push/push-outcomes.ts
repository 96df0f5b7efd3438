/**
 * A push's outcome (docs/glossary.md): what one attempt came to, by the push platform rules (`retry` only for
 * transient failures, `prune` when the token is dead, never a retry or a prune for credential, quota or payload
 * problems), and, for a push that was never accepted, `expired` (its time ran out) or `canceled` (no longer wanted).
 */
export type PushOutcome = AttemptOutcome | "expired" | "canceled";

/** What one attempt, one request to a provider, came to. */
export type AttemptOutcome = "sent" | "retry" | "prune" | "throttled" | "credentials" | "payload" | "failed";

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** The provider's error code (firebase-admin's `messaging/...` code or the APNs reason). */
  errorCode?: string;
  /** FCM message name or `apns-id`. */
  providerId?: string;
  /** APNs 410: when the token stopped being valid (ms since epoch). */
  invalidSince?: number;
}

const FCM_OUTCOMES: Readonly<Record<string, AttemptOutcome>> = {
  "messaging/registration-token-not-registered": "prune",
  "messaging/invalid-registration-token": "prune",
  "messaging/server-unavailable": "retry",
  "messaging/internal-error": "retry",
  "app/network-error": "retry",
  "app/network-timeout": "retry",
  "messaging/message-rate-exceeded": "throttled",
  "messaging/device-message-rate-exceeded": "throttled",
  "messaging/third-party-auth-error": "credentials",
  "messaging/authentication-error": "credentials",
  "app/invalid-credential": "credentials",
  "messaging/payload-size-limit-exceeded": "payload",
  "messaging/invalid-data-payload-key": "payload",
  "messaging/invalid-options": "payload",
  "messaging/invalid-package-name": "payload",
};

/**
 * firebase-admin folds two FCM errors into `mismatched-credential`: SENDER_ID_MISMATCH (the token belongs to
 * another project: prune) and PERMISSION_DENIED (our credentials: keep every token). Likewise INVALID_ARGUMENT
 * is about the token only when FCM says so.
 */
export function classifyFcmError(error: unknown): AttemptResult {
  const { code, message } = errorCodeAndMessage(error);
  if (code === "messaging/mismatched-credential") {
    return { outcome: /sender ?id mismatch/i.test(message) ? "prune" : "credentials", errorCode: code };
  }
  if (code === "messaging/invalid-argument") {
    return { outcome: /registration token/i.test(message) ? "prune" : "payload", errorCode: code };
  }
  return { outcome: FCM_OUTCOMES[code] ?? "failed", errorCode: code || "unknown" };
}

/** An APNs answer (status and `reason`), or a transport failure (status undefined). */
export function classifyApnsResponse(status: number | undefined, reason: string | undefined, apnsId?: string, timestamp?: number): AttemptResult {
  if (status === 200) return { outcome: "sent", providerId: apnsId };
  const errorCode = reason ?? (status === undefined ? "network-error" : `http-${status}`);
  if (status === undefined || status === 500 || status === 503) return { outcome: "retry", errorCode };
  if (status === 410 || reason === "BadDeviceToken" || reason === "DeviceTokenNotForTopic") {
    return { outcome: "prune", errorCode, ...(timestamp !== undefined ? { invalidSince: timestamp } : {}) };
  }
  if (status === 403) return { outcome: "credentials", errorCode };
  if (status === 429) return { outcome: reason === "TooManyProviderTokenUpdates" ? "credentials" : "throttled", errorCode };
  if (status === 413) return { outcome: "payload", errorCode };
  return { outcome: "failed", errorCode };
}

function errorCodeAndMessage(error: unknown): { code: string; message: string } {
  const candidate = error as { code?: unknown; message?: unknown; errorInfo?: { code?: unknown } } | undefined;
  const code = typeof candidate?.code === "string" ? candidate.code : typeof candidate?.errorInfo?.code === "string" ? candidate.errorInfo.code : "";
  return { code, message: typeof candidate?.message === "string" ? candidate.message : String(error) };
}
