import { FieldValue, Firestore, Timestamp, WriteBatch } from "firebase-admin/firestore";
import { CallDocument, DeliverySummary, Lease } from "./call-document";
import { callRef, commitAlongside, decideOnCall, SeenCall } from "./call-repository";
import { deviceRecordRef, inBatches, PushRecord } from "./device-records";
import { isLive, LEASE_MS, newLease, REQUEST_LEASE_MS, ringDied } from "./leases";

/*
 * The stop's claim on the call (`delivery.stop`, its lease: see leases.ts) and its record: counters on the call and
 * a `stop` on each device's record.
 */

type StopSummary = NonNullable<DeliverySummary["stop"]>;

/** A new stop claim's fields, with its lease (REQUEST_LEASE_MS when the webhook's request holds it). */
export function stopClaimFields(now: number, options: { allDevices?: boolean; leaseMs?: number } = {}): { stop: StopSummary; lease: Lease } {
  const lease = newLease(now, options.leaseMs);
  return {
    lease,
    stop: { state: "stopping", claimedAt: Timestamp.fromMillis(now), lease, allDevices: options.allDevices ?? false, devices: 0, sent: 0, failed: 0, unreachable: 0 },
  };
}

/**
 * What may be done about the stop of the call as it is: `claim` it (with the update that claims it), wait for the
 * live claim that `held`s it, or `skip` (still ringing, or stopped already). `allDevices` says that the ring died
 * (or is presumed dead: its lease expired) before recording, so every current device of the recipients is stopped.
 */
export type StopDecision =
  | { kind: "claim"; lease: Lease; allDevices: boolean; update: Record<string, unknown> }
  | { kind: "held"; until: Timestamp }
  | { kind: "skip"; reason: string };

export function decideStop(call: CallDocument, now: number, options: { leaseMs?: number } = {}): StopDecision {
  const { delivery } = call;
  if (call.status === "ringing") return { kind: "skip", reason: "call_ringing" };
  const earlier = delivery.stop;
  if (earlier?.state === "stopped") return { kind: "skip", reason: "stop_claimed" };
  if (earlier && isLive(earlier.lease, now)) return { kind: "held", until: earlier.lease.until };
  const allDevices = delivery.interrupted === true || ringDied(delivery, now) || earlier?.allDevices === true;
  if (earlier) {
    const lease = newLease(now, options.leaseMs);
    return { kind: "claim", lease, allDevices, update: { "delivery.stop.lease": lease, "delivery.stop.allDevices": allDevices } };
  }
  const { stop, lease } = stopClaimFields(now, { allDevices, leaseMs: options.leaseMs });
  return { kind: "claim", lease, allDevices, update: { "delivery.stop": stop } };
}

/** The stop claimed by the webhook in the commit that ended the call: its request holds it for REQUEST_LEASE_MS. */
export function stopClaimedAtEnd(ended: CallDocument, now: number): Extract<StopDecision, { kind: "claim" }> | undefined {
  const decision = decideStop(ended, now, { leaseMs: REQUEST_LEASE_MS });
  return decision.kind === "claim" ? decision : undefined;
}

/** The stop as claimed, with what `prepare` read beside the claim's write. */
export interface ClaimedStop<T> {
  call: CallDocument;
  lease: Lease;
  allDevices: boolean;
  prepared: Promise<T>;
}

export type StopClaim<T> = ({ kind: "stop" } & ClaimedStop<T>) | { kind: "held"; until: Timestamp } | { kind: "skip"; reason: string };

/**
 * Claims the stop of an ended call; a stop whose lease expired is taken over. `prepare` (reading the ring's records
 * and the devices) starts alongside the claim's write, so that the pushes wait for one round trip: reads that start
 * after the version decided on see every ring record written before it, and a record written after it changed the
 * call, so the claim fails and is decided again. When the claim holds and `prepare` fails, the caller gives the
 * claim back for the retried trigger.
 */
export function claimStop<T>(db: Firestore, guid: string, options: { now: number; seen?: SeenCall; prepare: (call: CallDocument, allDevices: boolean) => Promise<T> }): Promise<StopClaim<T>> {
  return decideOnCall<StopClaim<T>>(db, guid, { seen: options.seen, missing: { kind: "skip", reason: "call_missing" } }, ({ call }) => {
    const decision = decideStop(call, options.now);
    if (decision.kind !== "claim") return { result: decision };
    const prepared = options.prepare(call, decision.allDevices);
    prepared.catch(() => undefined); // awaited by the caller when the claim holds; a version decided again drops it
    return { result: { kind: "stop", call, lease: decision.lease, prepared, allDevices: decision.allDevices }, update: decision.update };
  });
}

/** Asked before each retry round of the stop: whether the claim is still ours, renewing its lease when it is. */
export function renewStopLease(db: Firestore, guid: string, lease: Lease, now: number): Promise<boolean> {
  return decideOnCall<boolean>(db, guid, { missing: false }, ({ call }) => {
    if (call.delivery.stop?.lease?.holder !== lease.holder) return { result: false };
    return { result: true, update: { "delivery.stop.lease.until": Timestamp.fromMillis(now + LEASE_MS) } };
  });
}

/** Stop outcomes that mean no push could be sent (not a provider failure). */
const UNREACHABLE = new Set<PushRecord["outcome"]>(["no_channel", "unregistered"]);

/** A stop outcome for one device, with what its record needs when the ring left none (a device reached as current). */
export interface StopRecord {
  uid: string;
  deviceId: string;
  platform?: "android" | "ios";
  stop: PushRecord;
}

export interface StopRecording {
  expireAt: Timestamp;
  /**
   * The claimed stop's lease, while still ours: its outcomes `closed` the stop, or (the webhook's claim, with devices
   * left unanswered) the lease `lapsed`, so that a trigger stops the rest. A stop that lost its lease records its
   * devices only. Absent (devices the ring recorded after the stop's claim): the counters only grow.
   */
  claim?: { lease: Lease; closed: Timestamp } | { lease: Lease; lapsed: Timestamp };
}

/** Adds stop outcomes to the devices' records (merged, in batches Firestore accepts) and the call's stop counters. */
export async function recordStops(db: Firestore, guid: string, stops: StopRecord[], recording: StopRecording): Promise<void> {
  const { claim } = recording;
  if (stops.length === 0 && !claim) return;
  const ref = callRef(db, guid);
  const { earlier, last } = inBatches(stops);
  const records = (batch: StopRecord[]) => (writes: WriteBatch) => {
    for (const { uid, deviceId, platform, stop } of batch) {
      writes.set(deviceRecordRef(ref, deviceId), { uid, deviceId, ...(platform ? { platform } : {}), stop, expireAt: recording.expireAt }, { merge: true });
    }
  };
  for (const batch of earlier) await commitAlongside(db, records(batch));
  const counters = {
    "delivery.stop.devices": FieldValue.increment(stops.length),
    "delivery.stop.sent": FieldValue.increment(stops.filter((s) => s.stop.outcome === "sent").length),
    "delivery.stop.failed": FieldValue.increment(stops.filter((s) => s.stop.outcome !== "sent" && !UNREACHABLE.has(s.stop.outcome)).length),
    "delivery.stop.unreachable": FieldValue.increment(stops.filter((s) => UNREACHABLE.has(s.stop.outcome)).length),
  };
  if (!claim) {
    const batch = db.batch();
    records(last)(batch);
    batch.update(ref, counters);
    await batch.commit();
    return;
  }
  const ending =
    "closed" in claim
      ? { "delivery.stop.state": "stopped", "delivery.stop.finishedAt": claim.closed, "delivery.stop.lease": FieldValue.delete() }
      : { "delivery.stop.lease.until": claim.lapsed };
  await decideOnCall<void>(db, guid, { missing: undefined }, ({ call }) =>
    call.delivery.stop?.lease?.holder === claim.lease.holder
      ? { result: undefined, alongside: records(last), update: { ...counters, ...ending } }
      : { result: undefined, alongside: records(last) },
  );
}
