import type { DocumentOptions } from "firebase-functions/v2/firestore";
import { APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID, CALL_MIN_INSTANCES, REGION, RING_WINDOW_SECONDS } from "../config";
import { pushEnvironment } from "../push/push-environment";
import { firestore } from "../shared/firebase";
import { PushDeps } from "./push-deps";

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

/** Ring/stop edges from the deployed configuration (params are read at run time, never at load). */
export function runtimePushDeps(): PushDeps {
  const db = firestore();
  const environment = pushEnvironment(
    () => ({ key: APNS_KEY.value(), keyId: APNS_KEY_ID.value(), teamId: APNS_TEAM_ID.value() }),
    db,
    Date.now,
  );
  return {
    db,
    gateway: environment.gateway,
    apnsConfigured: environment.apnsConfigured,
    now: Date.now,
    ringWindowMs: RING_WINDOW_SECONDS.value() * 1000,
  };
}
