import type { DocumentOptions } from "firebase-functions/v2/firestore";
import { APNS_KEY, CALL_MIN_INSTANCES, REGION } from "../config";

/**
 * How both call triggers (ring and stop) are deployed: on `calls/{guid}`, retried on failure (their claims keep
 * the work to once), with the APNs key, and kept warm by `CALL_MIN_INSTANCES`.
 */
export const CALL_TRIGGER_OPTIONS: DocumentOptions<"calls/{guid}"> = {
  document: "calls/{guid}",
  region: REGION,
  secrets: [APNS_KEY],
  retry: true,
  memory: "512MiB",
  timeoutSeconds: 120,
  minInstances: CALL_MIN_INSTANCES,
};
