/**
 * What one push attempt came to, by the push platform rules: `retry` only for transient failures, `prune` when
 * the token is dead, and never a retry or a prune for credential, quota or payload problems.
 */
export type Disposition = "sent" | "retry" | "prune" | "throttled" | "credentials" | "payload" | "failed";

export interface AttemptResult {
  disposition: Disposition;
  /** The provider's error code (firebase-admin's `messaging/...` code or the APNs reason). */
  errorCode?: string;
  /** FCM message name or `apns-id`. */
  providerId?: string;
  /** APNs 410: when the token stopped being valid (ms since epoch). */
  invalidSince?: number;
}

const FCM_DISPOSITIONS: Readonly<Record<string, Disposition>> = {
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
    return { disposition: /sender ?id mismatch/i.test(message) ? "prune" : "credentials", errorCode: code };
  }
  if (code === "messaging/invalid-argument") {
    return { disposition: /registration token/i.test(message) ? "prune" : "payload", errorCode: code };
  }
  return { disposition: FCM_DISPOSITIONS[code] ?? "failed", errorCode: code || "unknown" };
}

/** An APNs answer (status and `reason`), or a transport failure (status undefined). */
export function classifyApnsResponse(status: number | undefined, reason: string | undefined, apnsId?: string, timestamp?: number): AttemptResult {
  if (status === 200) return { disposition: "sent", providerId: apnsId };
  const errorCode = reason ?? (status === undefined ? "network-error" : `http-${status}`);
  if (status === undefined || status === 500 || status === 503) return { disposition: "retry", errorCode };
  if (status === 410 || reason === "BadDeviceToken" || reason === "DeviceTokenNotForTopic") {
    return { disposition: "prune", errorCode, ...(timestamp !== undefined ? { invalidSince: timestamp } : {}) };
  }
  if (status === 403) return { disposition: "credentials", errorCode };
  if (status === 429) return { disposition: reason === "TooManyProviderTokenUpdates" ? "credentials" : "throttled", errorCode };
  if (status === 413) return { disposition: "payload", errorCode };
  return { disposition: "failed", errorCode };
}

function errorCodeAndMessage(error: unknown): { code: string; message: string } {
  const candidate = error as { code?: unknown; message?: unknown; errorInfo?: { code?: unknown } } | undefined;
  const code = typeof candidate?.code === "string" ? candidate.code : typeof candidate?.errorInfo?.code === "string" ? candidate.errorInfo.code : "";
  return { code, message: typeof candidate?.message === "string" ? candidate.message : String(error) };
}
