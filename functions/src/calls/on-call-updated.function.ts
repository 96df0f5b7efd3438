import { onDocumentUpdated } from "firebase-functions/v2/firestore";
import { seenCall } from "./call-repository";
import { CALL_TRIGGER_OPTIONS, reportTriggerFailure } from "./call-trigger-options";
import { runtimePushDeps } from "./push-deps";
import { ringCall } from "./ring-service";
import { stopCall } from "./stop-service";

/**
 * A call that leaves `ringing` stops ringing on every device; a ringing call that gains recipients rings them.
 * Retried on failure; the leases keep each to once.
 */
export const onCallUpdated = onDocumentUpdated(CALL_TRIGGER_OPTIONS, async (event) => {
  const { guid } = event.params;
  const before = event.data?.before;
  const after = event.data?.after;
  const status = after?.get("status");
  if (!before || !after || status === undefined) return;
  const ended = before.get("status") === "ringing" && status !== "ringing";
  const joined = status === "ringing" && gained(before.get("recipients"), after.get("recipients"));
  if (!ended && !joined) return;
  try {
    // A live ring rings recipients added while it sends; this trigger then has nothing to wait for.
    if (ended) await stopCall(guid, runtimePushDeps(), { seen: seenCall(after) });
    else await ringCall(guid, runtimePushDeps(), { seen: seenCall(after), whenHeld: "skip" });
  } catch (error) {
    throw reportTriggerFailure(guid, "onCallUpdated", error);
  }
});

function gained(before: unknown, after: unknown): boolean {
  const had = new Set(Array.isArray(before) ? before : []);
  return Array.isArray(after) && after.some((uid) => !had.has(uid));
}
