import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { logs } from "../logs";
import { seenCall } from "./call-claims";
import { CALL_TRIGGER_OPTIONS } from "./call-trigger-options";
import { runtimePushDeps } from "./push-deps";
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
