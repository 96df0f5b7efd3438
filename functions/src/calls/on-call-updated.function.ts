import { onDocumentUpdated } from "firebase-functions/v2/firestore";
import { logs } from "../logs";
import { seenCall } from "./call-claims";
import { CALL_TRIGGER_OPTIONS } from "./call-trigger-options";
import { runtimePushDeps } from "./push-deps";
import { stopCall } from "./stop-service";

/** A call that leaves `ringing` stops ringing on every device. Retried on failure; the stop claim keeps it to once. */
export const onCallUpdated = onDocumentUpdated(CALL_TRIGGER_OPTIONS, async (event) => {
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
});
