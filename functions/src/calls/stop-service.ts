import { Firestore, Timestamp } from "firebase-admin/firestore";
import { Device, devicesOf } from "../devices/device-registry";
import { logs } from "../logs";
import { claimStop, claimWaiting, lapseLease, recordStops, renewStopLease, StopRecord } from "./call-claims";
import { CallDocument, Lease } from "./call-document";
import { callRef, SeenCall } from "./call-repository";
import { Channel, deviceRecordsOf, DeviceRecord } from "./device-records";
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
  device?: Device;
  ringChannel?: Channel | "none";
}

/**
 * Ends the ringing everywhere once a call leaves `ringing`: claims the stop, then tells each device the ring
 * recorded (never with a VoIP push); when a ring died before recording, every current device of the recipients.
 * Devices the ring records later are stopped by the ring itself. The records and the devices are read alongside
 * the claim's write (see `claimStop`); if those reads fail, the claim is given back before the trigger fails, so
 * its retry stops the call. A stop that died holding its claim is taken over once its lease expires.
 */
export async function stopCall(guid: string, deps: PushDeps, seen?: SeenCall): Promise<{ stopped: number } | { skipped: string }> {
  const { db } = deps;
  const claim = await claimWaiting("stop", guid, deps, "wait", (current) => claimStop(db, guid, deps.now(), (call, allDevices) => stopTargets(db, call, allDevices), current), seen);
  if (claim.kind !== "stop") {
    const reason = claim.kind === "skip" ? claim.reason : "stop_in_progress";
    logs.stopSkipped({ guid, reason });
    return { skipped: reason };
  }
  let targets: StopTarget[] = [];
  try {
    targets = await claim.prepared;
    await stopDevices(claim.call, targets, deps, { lease: claim.lease });
  } catch (error) {
    await lapseLease(db, guid, "stop", claim.lease, deps.now()).catch((lapseError: unknown) => logs.claimNotReleased({ guid, kind: "stop" }, lapseError));
    throw error;
  }
  return { stopped: targets.length };
}

/**
 * The devices the ring recorded and has not stopped (a pruned token is not stopped), as registered now; with
 * `allDevices`, every other current device of the recipients too. The records and the recipients' devices are read
 * side by side.
 */
async function stopTargets(db: Firestore, call: CallDocument, allDevices: boolean): Promise<StopTarget[]> {
  const [snapshot, current] = await Promise.all([deviceRecordsOf(callRef(db, call.guid)).get(), currentDevices(db, call.recipients)]);
  const registered = new Map(current.map((target) => [`${target.uid}/${target.deviceId}`, target.device]));
  const records = snapshot.docs.map((doc) => doc.data() as DeviceRecord);
  const targets = unstoppedTargets(records, (uid, deviceId) => registered.get(`${uid}/${deviceId}`));
  if (!allDevices) return targets;
  const known = new Set(targets.map((t) => t.deviceId));
  return [...targets, ...current.filter((t) => !known.has(t.deviceId))];
}

/**
 * The devices of these ring records that a stop must reach: all but those whose token the ring pruned and those
 * stopped already, each as `deviceOf` finds it (undefined: unregistered since).
 */
export function unstoppedTargets(records: DeviceRecord[], deviceOf: (uid: string, deviceId: string) => Device | undefined): StopTarget[] {
  return records
    .filter((record) => record.ring?.outcome !== "prune" && !record.stop)
    .map((record) => ({ uid: record.uid, deviceId: record.deviceId, device: deviceOf(record.uid, record.deviceId), ringChannel: record.ring?.channel }));
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
export async function stopDevices(call: CallDocument, targets: StopTarget[], deps: PushDeps, options: { lease?: Lease }): Promise<void> {
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

  const { lease } = options;
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
