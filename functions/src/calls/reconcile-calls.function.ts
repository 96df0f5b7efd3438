import { onSchedule } from "firebase-functions/v2/scheduler";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { BUTTERFLYMX_CLIENT_SECRET, CALL_RETENTION_DAYS, REGION, RING_WINDOW_SECONDS } from "../config";
import { firestore } from "../shared/firebase";
import { ringWindowMs } from "./push-deps";
import { reconcileCalls as reconcile } from "./reconcile-service";

/**
 * Every 10 minutes: compares linked residents' ButterflyMX call logs with our calls and repairs what lost webhooks
 * left (see reconcile-service.ts). Not retried: the next run goes on where this one stopped.
 */
export const reconcileCalls = onSchedule(
  {
    schedule: "every 10 minutes",
    region: REGION,
    secrets: [BUTTERFLYMX_CLIENT_SECRET],
    // Within Cloud Scheduler's default attempt deadline (180 s): the budget (120 s) and the residents still running.
    timeoutSeconds: 180,
    maxInstances: 1,
    retryCount: 0,
  },
  async () => {
    await reconcile({
      db: firestore(),
      bmx: runtimeButterflyMx().bmx,
      now: Date.now,
      ringWindowMs: ringWindowMs(RING_WINDOW_SECONDS.value()),
      retentionDays: CALL_RETENTION_DAYS.value(),
    });
  },
);
