import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { APNS_KEY, CALL_MIN_INSTANCES, REGION } from "../config";
import { logs } from "../logs";
import { seenCall } from "./delivery-records";
import { runtimePushDeps } from "./push-runtime";
import { ringCall } from "./ring-service";

/** A new call rings every recipient's devices. Retried on failure; the ring claim keeps it to once per call. */
export const onCallCreated = onDocumentCreated(
  {
    document: "calls/{guid}",
    region: REGION,
    secrets: [APNS_KEY],
    retry: true,
    memory: "512MiB",
    timeoutSeconds: 120,
    minInstances: CALL_MIN_INSTANCES,
  },
  async (event) => {
    const { guid } = event.params;
    try {
      await ringCall(guid, runtimePushDeps(), event.data && seenCall(event.data));
    } catch (error) {
      logs.triggerFailed({ guid, trigger: "onCallCreated" }, error);
      throw error;
    }
  },
);
