import { onDocumentUpdated } from "firebase-functions/v2/firestore";
import { APNS_KEY, CALL_MIN_INSTANCES, REGION } from "../config";
import { logs } from "../logs";
import { seenCall } from "./delivery-records";
import { runtimePushDeps } from "./push-runtime";
import { stopCall } from "./stop-service";

/** A call that leaves `ringing` stops ringing on every device. Retried on failure; the stop claim keeps it to once. */
export const onCallUpdated = onDocumentUpdated(
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
    const before = event.data?.before.get("status");
    const after = event.data?.after;
    const status = after?.get("status");
    if (before !== "ringing" || status === "ringing" || status === undefined) return;
    try {
      await stopCall(guid, runtimePushDeps(), seenCall(after!));
    } catch (error) {
      logs.triggerFailed({ guid, trigger: "onCallUpdated" }, error);
      throw error;
    }
  },
);
