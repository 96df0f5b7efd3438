import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { logs } from "../logs";
import { seenCall } from "./delivery-records";
import { CALL_TRIGGER_OPTIONS, runtimePushDeps } from "./push-runtime";
import { ringCall } from "./ring-service";

/** A new call rings every recipient's devices. Retried on failure; the ring claim keeps it to once per call. */
export const onCallCreated = onDocumentCreated(CALL_TRIGGER_OPTIONS, async (event) => {
  const { guid } = event.params;
  try {
    await ringCall(guid, runtimePushDeps(), event.data && seenCall(event.data));
  } catch (error) {
    logs.triggerFailed({ guid, trigger: "onCallCreated" }, error);
    throw error;
  }
});
