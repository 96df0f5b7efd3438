import { App, getApp, getApps, initializeApp } from "firebase-admin/app";
import { REGION, RING_TIMEOUT_URL } from "../config";
import { logs } from "../logs";
import { firestore } from "../shared/firebase";

/** Past the ring window, how long the timeout waits before it ends a call still ringing (a status may be on its way). */
export const RING_TIMEOUT_GRACE_MS = 3_000;

/** The exported name of the function that serves the queue (its deployed name). */
export const RING_TIMEOUT_FUNCTION = "ringTimeout";

/** The Cloud Tasks queue of `ringTimeout`: deployed with it, in its region (the emulator serves it too). */
export const RING_TIMEOUT_QUEUE = `locations/${REGION}/functions/${RING_TIMEOUT_FUNCTION}`;

/**
 * The task for one call: named after its guid (a retried trigger schedules nothing twice), due at `atMs`, and sent to
 * `url` when one is configured (else firebase-admin sends it to the function's cloudfunctions.net URL).
 */
export function ringTimeoutTask(guid: string, atMs: number, url: string): { id: string; scheduleTime: Date; uri?: string } {
  return { id: `ring-timeout-${guid}`, scheduleTime: new Date(atMs), ...(url ? { uri: url } : {}) };
}

/**
 * Schedules the call's ring timeout: one task per call, named after its guid, so a retried trigger schedules nothing
 * twice. firebase-admin/functions loads on the first schedule, never on a cold start's path to the first push.
 *
 * The emulator's Cloud Tasks queue dispatches a task as soon as it is enqueued, whatever its schedule, and the
 * timeout then sleeps through the window in a worker of its own (one per call, each a cold start, and the emulator
 * waits for all of them when it stops). In the emulator the task is therefore enqueued at its time, from a timer in
 * this instance: it runs when it would deployed, and a timer not yet due ends with the emulator. Deployed, Cloud Tasks
 * holds the task until then.
 */
export async function scheduleRingTimeout(guid: string, atMs: number): Promise<void> {
  if (process.env.FUNCTIONS_EMULATOR !== "true") return enqueue(guid, atMs);
  setTimeout(() => enqueue(guid, atMs).catch((error: unknown) => logs.ringTimeoutNotScheduled({ guid }, error)), Math.max(0, atMs - Date.now())).unref();
}

async function enqueue(guid: string, atMs: number): Promise<void> {
  const { getFunctions } = require("firebase-admin/functions") as typeof import("firebase-admin/functions");
  try {
    await getFunctions(queueApp()).taskQueue(RING_TIMEOUT_QUEUE).enqueue({ guid }, ringTimeoutTask(guid, atMs, RING_TIMEOUT_URL.value()));
  } catch (error) {
    if ((error as { code?: string }).code !== "functions/task-already-exists") throw error;
  }
}

/** The emulated task queue signs its tasks as firebase-admin's own emulated account. */
const EMULATOR_APP = "ring-timeout-queue";
const EMULATED_SERVICE_ACCOUNT = "emulated-service-acct@email.com";

/**
 * The app that enqueues: the default one deployed (its service account signs the tasks). In the emulator, an app
 * that names the emulated account, so that firebase-admin does not ask the metadata server (169.254.169.254) for one.
 */
function queueApp(): App {
  firestore(); // the default app
  if (process.env.FUNCTIONS_EMULATOR !== "true") return getApp();
  return getApps().find((app) => app.name === EMULATOR_APP) ?? initializeApp({ ...getApp().options, serviceAccountId: EMULATED_SERVICE_ACCOUNT }, EMULATOR_APP);
}
