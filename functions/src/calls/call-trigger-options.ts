import type { DocumentOptions } from "firebase-functions/v2/firestore";
import { APNS_KEY, REGION } from "../config";
import { logs } from "../logs";
import { LeaseHeld } from "./leases";

/** How long either call trigger may run; the ring window is bounded by it (config.ts, `ringWindowMs`). */
export const CALL_TRIGGER_TIMEOUT_SECONDS = 120;

/**
 * How both call triggers (the net behind the webhook's ring and stop) are deployed: on `calls/{guid}`, retried on
 * failure (their claims keep the work to once), with the APNs key. Never kept warm: in normal operation they read
 * the call once and find everything recorded.
 */
export const CALL_TRIGGER_OPTIONS: DocumentOptions<"calls/{guid}"> = {
  document: "calls/{guid}",
  region: REGION,
  secrets: [APNS_KEY],
  retry: true,
  memory: "512MiB",
  timeoutSeconds: CALL_TRIGGER_TIMEOUT_SECONDS,
};

/** Logs why a call trigger failed (a held claim is expected, and retried) and returns the error to rethrow. */
export function reportTriggerFailure(guid: string, trigger: string, error: unknown): unknown {
  if (error instanceof LeaseHeld) logs.leaseHeld({ guid, trigger, kind: error.kind, until: error.until.toDate().toISOString() });
  else logs.triggerFailed({ guid, trigger }, error);
  return error;
}
