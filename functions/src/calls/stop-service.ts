import { Timestamp } from "firebase-admin/firestore";
import { deviceRef, toDeviceRecord } from "../accounts/device-registry";
import { logs } from "../logs";
import { CallDocument } from "./call-document";
import { claimStop, DeliveryDocument, PushRecord, recordStops, SeenCall } from "./delivery-records";
import { PushDeps, STOP_WINDOW_MS } from "./push-deps";
import { PushPlan, stopInfo, stopPlan } from "./push-plan";
import { pushRecord, sendPlans } from "./push-results";

/**
 * Ends the ringing everywhere once a call leaves `ringing`: claims the stop once, then tells each device the
 * ring recorded (never with a VoIP push). Devices the ring records later are stopped by the ring itself.
 */
export async function stopCall(guid: string, deps: PushDeps, seen?: SeenCall): Promise<{ stopped: number } | { skipped: string }> {
  const claim = await claimStop(deps.db, guid, Timestamp.fromMillis(deps.now()), seen);
  if (!claim.claimed) {
    logs.stopSkipped({ guid, reason: claim.reason });
    return { skipped: claim.reason };
  }
  await stopDevices(claim.call, claim.targets, deps, { afterRing: false });
  return { stopped: claim.targets.length };
}

/** Sends the stop to these devices (as currently registered) and records each outcome. */
export async function stopDevices(call: CallDocument, targets: DeliveryDocument[], deps: PushDeps, context: { afterRing: boolean }): Promise<void> {
  const { db } = deps;
  const info = stopInfo(call);
  const snapshots = targets.length > 0 ? await db.getAll(...targets.map((t) => deviceRef(db, t.uid, t.deviceId))) : [];
  const now = deps.now();
  const at = Timestamp.fromMillis(now);
  const records: Array<{ deviceId: string; stop: PushRecord }> = [];
  const plans: PushPlan[] = [];
  targets.forEach((target, i) => {
    const device = toDeviceRecord(target.uid, snapshots[i]);
    if (!device) {
      // Signed out or unregistered since the ring: nothing more reaches it.
      records.push({ deviceId: target.deviceId, stop: { channel: "none", outcome: "unregistered", attempts: 0, at } });
      return;
    }
    const plan = stopPlan(device, info, STOP_WINDOW_MS);
    if (plan.send) plans.push(plan);
    else records.push({ deviceId: target.deviceId, stop: { channel: "none", outcome: "no_channel", attempts: 0, at } });
  });

  const { results, pruned } = await sendPlans(call.guid, "stop", plans, deps, {
    deadlineAt: now + STOP_WINDOW_MS,
    stillWanted: async () => true,
  });
  const finishedAt = Timestamp.fromMillis(deps.now());
  plans.forEach((plan, i) => records.push({ deviceId: plan.device.deviceId, stop: pushRecord(plan, results[i], finishedAt, pruned.has(plan.device.deviceId)) }));
  // The claimed pass closes the stop in the same write as its outcomes.
  await recordStops(db, call.guid, records, context.afterRing ? undefined : finishedAt);
  const sent = records.filter((r) => r.stop.outcome === "sent").length;
  logs.stopFinished({ guid: call.guid, devices: records.length, sent, notSent: records.length - sent, afterRing: context.afterRing });
}
