import * as logger from "firebase-functions/logger";

/**
 * Every log line the backend writes, in one place. Lines about a call carry its guid; none carries a
 * secret, token or email address (callers pass only the fields named here).
 */
export const logs = {
  webhookRecorded(fields: { guid: string; event: string; bmxStatus: string; status: string; duplicate: boolean; recipients: number; via: string }) {
    logger.info("webhook delivery recorded", fields);
  },
  webhookRejected(fields: { httpStatus: number; code: string; guid?: string; fields?: string[] }) {
    logger.warn("webhook delivery rejected", fields);
  },
  webhookStoreFailed(fields: { guid?: string; stage: "authenticate" | "record" }, error: unknown) {
    logger.error("webhook delivery failed on Firestore", { ...fields, error: errorSummary(error) });
  },
  callUndeliverable(fields: { guid: string; reason: string }) {
    logger.warn("call has no recipient to ring", fields);
  },
};

/** Error name, code and message only: stack traces and request objects can carry tokens. */
export function errorSummary(error: unknown): { name?: string; code?: unknown; message: string } {
  if (error instanceof Error) {
    return { name: error.name, code: (error as { code?: unknown }).code, message: error.message };
  }
  return { message: String(error) };
}
