import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { seenCall } from "./call-repository";
import { CALL_TRIGGER_OPTIONS, reportTriggerFailure } from "./call-trigger-options";
import { runtimePushDeps } from "./push-deps";
import { ringCall } from "./ring-service";

/** A new call rings every recipient's devices. Retried on failure; the ring's lease keeps it to once per call. */
export const onCallCreated = onDocumentCreated(CALL_TRIGGER_OPTIONS, async (event) => {
  const { guid } = event.params;
  try {
    await ringCall(guid, runtimePushDeps(), { seen: event.data && seenCall(event.data) });
  } catch (error) {
    throw reportTriggerFailure(guid, "onCallCreated", error);
  }
});
