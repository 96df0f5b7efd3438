import { Firestore, Timestamp } from "firebase-admin/firestore";
import type { ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { GrantSession } from "../links/grant-store";
import { logs } from "../logs";
import { flagUnacknowledged } from "./acknowledgements";
import { CallDocument } from "./call-document";
import { callRef, endRingingCall } from "./call-repository";
import { CallStatus } from "./call-status";
import { RING_TIMEOUT_GRACE_MS } from "./ring-timeout-queue";

/** Recipients whose ButterflyMX sign-in the timeout tries, at most, to ask for the call's real status. */
const ASK_AT_MOST = 3;

export interface RingTimeoutDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  now: () => number;
  ringWindowMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The missed-call timeout, at the end of a call's ring window: a call still `ringing` (its final ButterflyMX status
 * was lost) ends. ButterflyMX is asked first, with a recipient's sign-in, what the call's status really is; its
 * terminal status is taken when it has one, otherwise the call ends as `missed` (`endReason: "ring_timeout"`).
 * Either way the call leaves `ringing`, so the stop runs (onCallUpdated). A call already over is left alone. Rings
 * accepted by a provider that a device which acknowledges its pushes never acknowledged are flagged here too.
 */
export async function ringTimedOut(deps: RingTimeoutDeps, guid: string): Promise<{ ended: CallStatus; askedButterflyMx: boolean } | { skipped: string }> {
  let call = (await callRef(deps.db, guid).get()).data() as CallDocument | undefined;
  const early = call ? call.createdAt.toMillis() + deps.ringWindowMs + RING_TIMEOUT_GRACE_MS - deps.now() : 0;
  if (call?.status === "ringing" && early > 0) {
    // Tasks are scheduled for the end of the window; one dispatched before it still honours the window.
    await (deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(early);
    call = (await callRef(deps.db, guid).get()).data() as CallDocument | undefined;
  }
  // Whatever became of the call, its rings that devices never acknowledged are flagged now (the window is over).
  const flagged = call ? await flagUnacknowledged(deps.db, guid, deps.now()).catch((error: unknown) => logs.unacknowledgedNotFlagged({ guid }, error)) : 0;
  if (flagged) logs.ringsUnacknowledged({ guid, devices: flagged });
  if (!call || call.status !== "ringing") {
    const skipped = call ? `call_${call.status}` : "call_missing";
    logs.ringTimeoutSkipped({ guid, reason: skipped });
    return { skipped };
  }
  const bmxStatus = await askButterflyMx(deps, call);
  const ended = await endRingingCall(deps.db, guid, bmxStatus, Timestamp.fromMillis(deps.now()));
  if (!ended) {
    logs.ringTimeoutSkipped({ guid, reason: "ended_meanwhile" });
    return { skipped: "ended_meanwhile" };
  }
  logs.ringTimedOut({ guid, status: ended, bmxStatus: bmxStatus ?? null });
  return { ended, askedButterflyMx: bmxStatus !== undefined };
}

/** The call's status at ButterflyMX, through the first recipients with a sign-in; undefined when none could say. */
async function askButterflyMx(deps: RingTimeoutDeps, call: CallDocument): Promise<string | undefined> {
  for (const uid of call.recipients.slice(0, ASK_AT_MOST)) {
    const session = await GrantSession.open(deps.db, deps.bmx, uid, { now: deps.now });
    if (!session) continue;
    try {
      return await deps.bmx.callStatus(session, call.guid);
    } catch (error) {
      if (!(error instanceof BmxError)) throw error;
      logs.ringTimeoutAskFailed({ guid: call.guid }, error);
    }
  }
  return undefined;
}
