import { Firestore, Timestamp } from "firebase-admin/firestore";
import { DeviceRecord, deviceRef, toDeviceRecord } from "../devices/device-registry";
import { logs } from "../logs";
import { claimStop, recordStops, SeenCall } from "./call-claims";
import { CallDocument } from "./call-document";
import { DeliveryDocument, PushRecord } from "./delivery-records";
import { PushDeps, STOP_WINDOW_MS } from "./push-deps";
import { PushPlan, stopInfo, stopPlan } from "./push-plan";
import { pushRecord, sendPushes } from "./send-pushes";

/** A device to stop: as registered now, or undefined when it was signed out or unregistered since the ring. */
export interface StopTarget {
  deviceId: string;
  device?: DeviceRecord;
}

/**
 * Ends the ringing everywhere once a call leaves `ringing`: claims the stop once, then tells each device the
 * ring recorded (never with a VoIP push). Devices the ring records later are stopped by the ring itself. The
 * devices are read before the claim, so that nothing that can fail stands between the claim and the pushes.
 */
export async function stopCall(guid: string, deps: PushDeps, seen?: SeenCall): Promise<{ stopped: number } | { skipped: string }> {
  const claim = await claimStop(deps.db, guid, Timestamp.fromMillis(deps.now()), (targets) => currentDevices(deps.db, targets), seen);
  if (!claim.claimed) {
    logs.stopSkipped({ guid, reason: claim.reason });
    return { skipped: claim.reason };
  }
  await stopDevices(claim.call, claim.prepared, deps, { afterRing: false });
  return { stopped: claim.prepared.length };
}

async function currentDevices(db: Firestore, targets: DeliveryDocument[]): Promise<StopTarget[]> {
  const snapshots = targets.length > 0 ? await db.getAll(...targets.map((t) => deviceRef(db, t.uid, t.deviceId))) : [];
  return targets.map((target, i) => ({ deviceId: target.deviceId, device: toDeviceRecord(target.uid, snapshots[i]) }));
}

/** Sends the stop to these devices and records each outcome; reads nothing before the pushes. */
export async function stopDevices(call: CallDocument, targets: StopTarget[], deps: PushDeps, context: { afterRing: boolean }): Promise<void> {
  const { db } = deps;
  const info = stopInfo(call);
  const now = deps.now();
  const at = Timestamp.fromMillis(now);
  const records: Array<{ deviceId: string; stop: PushRecord }> = [];
  const plans: PushPlan[] = [];
  targets.forEach(({ deviceId, device }) => {
    if (!device) {
      // Signed out or unregistered since the ring: nothing more reaches it.
      records.push({ deviceId, stop: { channel: "none", outcome: "unregistered", attempts: 0, at } });
      return;
    }
    const plan = stopPlan(device, info, STOP_WINDOW_MS);
    if (plan.send) plans.push(plan);
    else records.push({ deviceId, stop: { channel: "none", outcome: "no_channel", attempts: 0, at } });
  });

  const { results, pruned } = await sendPushes(call.guid, "stop", plans, deps, {
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
