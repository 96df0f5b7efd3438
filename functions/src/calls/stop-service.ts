import { Firestore, Timestamp } from "firebase-admin/firestore";
import { DeviceRecord, deviceRef, devicesOf, toDeviceRecord } from "../devices/device-registry";
import { logs } from "../logs";
import { claimStop, claimWaiting, lapseLease, recordStops, renewStopLease, SeenCall, StopRecord, StopTargets } from "./call-claims";
import { CallDocument, Lease } from "./call-document";
import { Channel } from "./delivery-records";
import { PushDeps, STOP_WINDOW_MS } from "./push-deps";
import { PushPlan, stopPlan } from "./push-plan";
import { pushRecord, sendPushes } from "./send-pushes";

/**
 * A device to stop: as registered now, or undefined when it was signed out or unregistered since the ring; with the
 * channel that rang it, when the ring recorded one.
 */
export interface StopTarget {
  uid: string;
  deviceId: string;
  device?: DeviceRecord;
  ringChannel?: Channel | "none";
}

/**
 * Ends the ringing everywhere once a call leaves `ringing`: claims the stop, then tells each device the ring
 * recorded (never with a VoIP push); when a ring died before recording, every current device of the recipients.
 * Devices the ring records later are stopped by the ring itself. The devices are read before the claim, so that
 * nothing that can fail stands between the claim and the pushes. A stop that died holding its claim is taken over
 * once its lease expires.
 */
export async function stopCall(guid: string, deps: PushDeps, seen?: SeenCall): Promise<{ stopped: number } | { skipped: string }> {
  const { db } = deps;
  const claim = await claimWaiting("stop", guid, deps, "wait", (current) => claimStop(db, guid, deps.now(), (call, targets) => stopTargets(db, call, targets), current), seen);
  if (claim.kind !== "stop") {
    const reason = claim.kind === "skip" ? claim.reason : "stop_in_progress";
    logs.stopSkipped({ guid, reason });
    return { skipped: reason };
  }
  try {
    await stopDevices(claim.call, claim.prepared, deps, { lease: claim.lease });
  } catch (error) {
    await lapseLease(db, guid, "stop", claim.lease, deps.now()).catch((lapseError: unknown) => logs.triggerFailed({ guid, trigger: "stop lease" }, lapseError));
    throw error;
  }
  return { stopped: claim.prepared.length };
}

/** The ring's records as devices are registered now; with `allDevices`, every other current device of the recipients too. */
async function stopTargets(db: Firestore, call: CallDocument, { records, allDevices }: StopTargets): Promise<StopTarget[]> {
  const snapshots = records.length > 0 ? await db.getAll(...records.map((r) => deviceRef(db, r.uid, r.deviceId))) : [];
  const targets: StopTarget[] = records.map((record, i) => ({
    uid: record.uid,
    deviceId: record.deviceId,
    device: toDeviceRecord(record.uid, snapshots[i]),
    ringChannel: record.ring?.channel,
  }));
  if (!allDevices) return targets;
  const known = new Set(targets.map((t) => t.deviceId));
  return [...targets, ...(await currentDevices(db, call.recipients)).filter((t) => !known.has(t.deviceId))];
}

/** Every device the recipients have registered now. */
export async function currentDevices(db: Firestore, uids: readonly string[]): Promise<StopTarget[]> {
  const devices = await Promise.all(uids.map((uid) => devicesOf(db, uid)));
  return devices.flat().map((device) => ({ uid: device.uid, deviceId: device.deviceId, device }));
}

/**
 * Sends the stop to these devices and records each outcome; reads nothing before the pushes. With `lease` (the
 * claimed stop), renews it between retry rounds and closes the stop in the same write as its outcomes.
 */
export async function stopDevices(call: CallDocument, targets: StopTarget[], deps: PushDeps, claimed: { lease?: Lease }): Promise<void> {
  const { db } = deps;
  const now = deps.now();
  const at = Timestamp.fromMillis(now);
  const records: StopRecord[] = [];
  const plans: PushPlan[] = [];
  targets.forEach(({ uid, deviceId, device, ringChannel }) => {
    if (!device) {
      // Signed out or unregistered since the ring: nothing more reaches it.
      records.push({ uid, deviceId, stop: { channel: "none", outcome: "unregistered", attempts: 0, at } });
      return;
    }
    const plan = stopPlan(device, call, STOP_WINDOW_MS, ringChannel);
    if (plan.send) plans.push(plan);
    else records.push({ uid, deviceId, platform: device.platform, stop: { channel: "none", outcome: "no_channel", attempts: 0, at } });
  });

  const { lease } = claimed;
  const { results, pruned } = await sendPushes(call.guid, "stop", plans, deps, {
    deadlineAt: now + STOP_WINDOW_MS,
    stillWanted: lease ? () => renewStopLease(db, call.guid, lease, deps.now()) : async () => true,
  });
  const finishedAt = Timestamp.fromMillis(deps.now());
  plans.forEach((plan, i) =>
    records.push({
      uid: plan.device.uid,
      deviceId: plan.device.deviceId,
      platform: plan.device.platform,
      stop: pushRecord(plan, results[i], finishedAt, pruned.has(plan.device.deviceId)),
    }),
  );
  await recordStops(db, call.guid, records, call.expireAt, lease && { lease, finishedAt });
  const sent = records.filter((r) => r.stop.outcome === "sent").length;
  logs.stopFinished({ guid: call.guid, devices: records.length, sent, notSent: records.length - sent, afterRing: !lease });
}
