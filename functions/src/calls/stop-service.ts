import { Firestore, Timestamp } from "firebase-admin/firestore";
import { Device, devicesOf } from "../devices/device-registry";
import { logs } from "../logs";
import { CallDocument, Lease } from "./call-document";
import { callRef, SeenCall } from "./call-repository";
import { Channel, deviceRecordsOf, DeviceRecord } from "./device-records";
import { claimWaiting, lapseLease } from "./leases";
import { PushDeps, REQUEST_PUSH_MS, STOP_WINDOW_MS } from "./push-deps";
import { PushPlan, stopPlan } from "./push-plan";
import { pushRecord, sendPushes } from "./send-pushes";
import { claimStop, ClaimedStop, recordStops, renewStopLease, StopClaim, StopRecord } from "./stop-claim";

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

export interface StopOptions {
  /** The version of the call a trigger's event carried. */
  seen?: SeenCall;
  /**
   * The webhook's own stop: claimed in the commit that ended the call, its targets read beside it. One attempt per
   * device, answered within REQUEST_PUSH_MS; what is left lapses to a trigger.
   */
  claimed?: ClaimedStop<StopTarget[]>;
}

/**
 * Ends the ringing everywhere once a call leaves `ringing`: claims the stop (or holds the webhook's claim), then tells
 * each device the ring recorded (never with a VoIP push); when a ring died before recording, every current device of
 * the recipients. Devices the ring records later are stopped by the ring itself. The records and the devices are read
 * alongside the claim's write (see `claimStop`); if those reads fail, the claim's lease lapses, so that a trigger (or
 * its retry) stops the call. A stop that died holding its claim is taken over once its lease expires.
 */
export async function stopCall(guid: string, deps: PushDeps, options: StopOptions = {}): Promise<{ stopped: number } | { skipped: string }> {
  const { db } = deps;
  const claiming = (current?: SeenCall) => claimStop(db, guid, { now: deps.now(), seen: current, prepare: (call, allDevices) => stopTargets(db, call, allDevices) });
  const claim: StopClaim<StopTarget[]> = options.claimed
    ? { kind: "stop", ...options.claimed }
    : await claimWaiting({ kind: "stop", guid, clock: deps, whenHeld: "wait", seen: options.seen }, claiming);
  if (claim.kind !== "stop") {
    const reason = claim.kind === "skip" ? claim.reason : "stop_in_progress";
    logs.stopSkipped({ guid, reason });
    return { skipped: reason };
  }
  const { call, lease, prepared } = claim;
  let targets: StopTarget[] = [];
  try {
    targets = await prepared;
    await stopDevices(call, targets, deps, { lease, inRequest: options.claimed !== undefined });
  } catch (error) {
    await lapseLease(db, guid, "stop", lease, deps.now()).catch((lapseError: unknown) => logs.claimNotReleased({ guid, kind: "stop" }, lapseError));
    throw error;
  }
  return { stopped: targets.length };
}

/**
 * The devices the ring recorded and has not stopped (a pruned token is not stopped), as registered now; with
 * `allDevices`, every other current device of the recipients too. The records and the recipients' devices are read
 * side by side.
 */
export async function stopTargets(db: Firestore, call: CallDocument, allDevices: boolean): Promise<StopTarget[]> {
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
 * claimed stop), renews it between retry rounds and closes the stop in the same write as its outcomes. `inRequest`
 * (the webhook's stop): one attempt per device within REQUEST_PUSH_MS; a device left unanswered is not recorded, and
 * the lease lapses instead of closing, so that a trigger stops it.
 */
export async function stopDevices(call: CallDocument, targets: StopTarget[], deps: PushDeps, options: { lease?: Lease; inRequest?: boolean }): Promise<void> {
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

  const { lease, inRequest = false } = options;
  const { results, pruned } = await sendPushes(call.guid, "stop", plans, deps, {
    deadlineAt: now + (inRequest ? REQUEST_PUSH_MS : STOP_WINDOW_MS),
    stillWanted: lease ? () => renewStopLease(db, call.guid, lease, deps.now()) : async () => true,
    oneAttempt: inRequest,
  });
  const finishedAt = Timestamp.fromMillis(deps.now());
  let left = 0;
  plans.forEach((plan, i) => {
    if (inRequest && results[i].retryable) {
      left++;
      return;
    }
    records.push({
      uid: plan.device.uid,
      deviceId: plan.device.deviceId,
      platform: plan.device.platform,
      stop: pushRecord(plan, results[i], finishedAt, pruned.has(plan.device.deviceId)),
    });
  });
  const claim = lease && (left > 0 ? { lease, lapsed: finishedAt } : { lease, closed: finishedAt });
  await recordStops(db, call.guid, records, { expireAt: call.expireAt, claim });
  if (left > 0) {
    logs.leftToTrigger({ guid: call.guid, kind: "stop", devices: left, recorded: records.length });
    return;
  }
  const sent = records.filter((r) => r.stop.outcome === "sent").length;
  logs.stopFinished({ guid: call.guid, devices: records.length, sent, notSent: records.length - sent, afterRing: !lease, inRequest });
}
