import { REGION } from "../config";
import { firestore } from "../shared/firebase";

/** Past the ring window, how long the timeout waits before it ends a call still ringing (a status may be on its way). */
export const RING_TIMEOUT_GRACE_MS = 3_000;

/** The Cloud Tasks queue of `ringTimeout` (deployed with it; the emulator serves it too). */
const QUEUE = `locations/${REGION}/functions/ringTimeout`;

/**
 * Schedules the call's ring timeout: one task per call, named after its guid, so a retried trigger schedules nothing
 * twice. firebase-admin/functions loads on the first schedule, never on a cold start's path to the first push.
 */
export async function scheduleRingTimeout(guid: string, atMs: number): Promise<void> {
  firestore(); // the default app
  const { getFunctions } = require("firebase-admin/functions") as typeof import("firebase-admin/functions");
  try {
    await getFunctions().taskQueue(QUEUE).enqueue({ guid }, { id: `ring-timeout-${guid}`, scheduleTime: new Date(atMs) });
  } catch (error) {
    if ((error as { code?: string }).code !== "functions/task-already-exists") throw error;
  }
}
