import { APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID, RING_WINDOW_SECONDS } from "../config";
import { pushEnvironment } from "../push/push-environment";
import { firestore } from "../shared/firebase";
import { PushDeps } from "./push-deps";

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
