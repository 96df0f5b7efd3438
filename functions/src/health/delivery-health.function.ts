import { onSchedule } from "firebase-functions/v2/scheduler";
import { HEALTH_FAILURE_PERCENT, HEALTH_MIN_RINGS, REGION } from "../config";
import { firestore } from "../shared/firebase";
import { checkDeliveryHealth } from "./delivery-health";

/**
 * Every 5 minutes: counts the last 15 minutes' rings per provider and opens (or closes) delivery incidents
 * (healthIncidents), logging each opening once at error level. Not retried: the next run looks again.
 */
export const deliveryHealth = onSchedule(
  { schedule: "every 5 minutes", region: REGION, timeoutSeconds: 60, maxInstances: 1, retryCount: 0 },
  async () => {
    await checkDeliveryHealth({
      db: firestore(),
      now: Date.now,
      thresholds: { failureRate: HEALTH_FAILURE_PERCENT.value() / 100, minRings: HEALTH_MIN_RINGS.value() },
    });
  },
);
