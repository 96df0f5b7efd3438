import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, RING_WINDOW_SECONDS } from "../config";
import { firestore } from "../shared/firebase";
import { reportTriggerFailure } from "./call-trigger-options";
import { ringWindowMs } from "./push-deps";
import { ringTimedOut } from "./ring-timeout-service";

/** At the end of a call's ring window (Cloud Tasks): a call still ringing ends, as ButterflyMX says or as missed. */
export const ringTimeout = onTaskDispatched<{ guid?: unknown }>(
  {
    region: REGION,
    secrets: [BUTTERFLYMX_CLIENT_SECRET],
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 2, maxBackoffSeconds: 30 },
    // Timeouts are a fallback: a burst of them waits its turn rather than a burst of status requests at ButterflyMX.
    rateLimits: { maxConcurrentDispatches: 20 },
    // Long enough to wait out a window that a task dispatched early did not (see the service).
    timeoutSeconds: 120,
  },
  async (request) => {
    const guid = request.data?.guid;
    if (typeof guid !== "string" || !/^[0-9a-f-]{36}$/.test(guid)) return; // not one of ours: nothing to retry
    try {
      await ringTimedOut({ db: firestore(), bmx: runtimeButterflyMx().bmx, now: Date.now, ringWindowMs: ringWindowMs(RING_WINDOW_SECONDS.value()) }, guid);
    } catch (error) {
      throw reportTriggerFailure(guid, "ringTimeout", error);
    }
  },
);
