import { randomUUID } from "node:crypto";
import { DocumentReference, FieldValue, Firestore, Timestamp, WriteBatch } from "firebase-admin/firestore";
import { CallDocument, DeliverySummary, Lease } from "./call-document";
import { callRef, commitAlongside, Decision, decideOnCall, SeenCall } from "./call-repository";
import { deviceRecordsOf, DeviceRecord, deviceRecordRef, PushRecord } from "./device-records";

/*
 * The ring and the stop each run once per call: each claims its turn on `calls/{guid}` (`delivery.ringLease`,
 * `delivery.stop`) before sending, and records its outcomes there and in the per-device delivery records. Every
 * claim is a lease (as firestore-send-email's `leaseExpireTime`): its holder renews it before each retry round,
 * and an instance that dies holding it loses it LEASE_MS later, when a retried trigger takes over.
 */

/** How long a claim lasts without renewal: longer than one round of pushes (ATTEMPT_TIMEOUT_MS) plus recording. */
export const LEASE_MS = 15_000;

/** Device records per batch: Firestore takes at most 500 writes in one. */
export const RECORDS_PER_BATCH = 450;

export function newLease(now: number): Lease {
  return { holder: randomUUID(), until: Timestamp.fromMillis(now + LEASE_MS) };
}

export function isLive(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && lease.until.toMillis() > now;
}

/** Recipients the ring has not reached yet: everyone on a first ring, those added since on a later one. */
export function unrungRecipients(recipients: readonly string[], rung: Record<string, string> | undefined): string[] {
  return recipients.filter((uid) => !Object.hasOwn(rung ?? {}, uid));
}

/** A ring that died holding its claim: its pushes may have gone out unrecorded. */
function ringDied(delivery: DeliverySummary, now: number): boolean {
  return delivery.state === "ringing" && !isLive(delivery.ringLease, now);
}

const FINISHED: ReadonlySet<DeliverySummary["state"]> = new Set(["rung", "failed", "undeliverable"]);

/**
 * What a ring trigger may do with the call:
 * - `ring`: the claim is ours (`lease`); ring the recipients not rung yet, skipping devices already recorded
 *   (`takeover`: a ring that died left some). `version` is the call as the claim wrote it: the ring's record decides
 *   on it first, so that it needs no read when nobody else wrote the call meanwhile;
 * - `held`: a live ring holds the claim (it rings recipients added meanwhile before it lets go);
 * - `interrupted`: a ring died, and it is too late to ring again (the call ended, or its window passed): the
 *   claim is ours to close, and whoever ends the call's ringing reaches every device of the recipients;
 * - `skip`: nothing to do.
 */
export type RingClaim =
  | { kind: "ring"; call: CallDocument; lease: Lease; takeover: boolean; version: SeenCall }
  | { kind: "held"; until: Timestamp }
  | { kind: "interrupted"; call: CallDocument; lease: Lease }
  | { kind: "skip"; reason: string };

/**
 * Claims the ring of a call: a `ringing` call whose ring window is open and whose delivery is `pending` (the first
 * ring), finished with recipients added since (a later ring for them), or held by a lease that expired (a takeover).
 * A passed window closes a pending delivery as `not_rung`. With the version the trigger saw, the claim is a
 * single write: one round trip before the first push.
 */
export function claimRing(db: Firestore, guid: string, now: number, ringWindowMs: number, seen?: SeenCall): Promise<RingClaim> {
  return decideOnCall<RingClaim>(db, guid, seen, { kind: "skip", reason: "call_missing" }, ({ call }) => {
    const { delivery } = call;
    const windowOpen = now <= call.createdAt.toMillis() + ringWindowMs;
    const claimedAt = Timestamp.fromMillis(now);
    const claim = (lease: Lease, takeover: boolean): Decision<RingClaim> => ({
      update: { "delivery.state": "ringing", "delivery.ringClaimedAt": claimedAt, "delivery.ringLease": lease },
      written: (updateTime) => {
        const written = { ...call, delivery: { ...delivery, state: "ringing" as const, ringClaimedAt: claimedAt, ringLease: lease } };
        return { kind: "ring", call, lease, takeover, version: { call: written, updateTime } };
      },
    });
    if (delivery.state === "ringing") {
      if (isLive(delivery.ringLease, now)) return { result: { kind: "held", until: delivery.ringLease.until } };
      const lease = newLease(now);
      if (call.status !== "ringing" || !windowOpen) {
        return { result: { kind: "interrupted", call, lease }, update: { "delivery.ringLease": lease } };
      }
      return claim(lease, true);
    }
    if (call.status !== "ringing") return { result: { kind: "skip", reason: `call_${call.status}` } };
    if (!windowOpen) {
      if (delivery.state !== "pending") return { result: { kind: "skip", reason: "ring_window_passed" } };
      return { result: { kind: "skip", reason: "ring_window_passed" }, update: { "delivery.state": "not_rung", "delivery.reason": "ring_window_passed" } };
    }
    const later = FINISHED.has(delivery.state) && unrungRecipients(call.recipients, delivery.recipients).length > 0;
    if (delivery.state !== "pending" && !later) return { result: { kind: "skip", reason: `delivery_${delivery.state}` } };
    return claim(newLease(now), false);
  });
}

/**
 * Gives back a ring claim whose pushes were never sent (the recipients could not be read), so that the retried
 * trigger claims the ring again at once and rings within the window. Only this claim is given back: a first ring
 * goes back to `pending`; a later one lets its lease lapse.
 */
export function releaseRing(db: Firestore, guid: string, lease: Lease, now: number): Promise<void> {
  return decideOnCall<void>(db, guid, undefined, undefined, ({ call }) => {
    const { delivery } = call;
    if (delivery.state !== "ringing" || delivery.ringLease?.holder !== lease.holder) return { result: undefined };
    const first = delivery.recipients === undefined;
    return {
      result: undefined,
      update: first
        ? { "delivery.state": "pending", "delivery.ringClaimedAt": FieldValue.delete(), "delivery.ringLease": FieldValue.delete() }
        : { "delivery.ringLease.until": Timestamp.fromMillis(now) },
    };
  });
}

/** Ends this lease now (best effort after a failure): a retried trigger takes over without waiting for it. */
export function lapseLease(db: Firestore, guid: string, kind: "ring" | "stop", lease: Lease, now: number): Promise<void> {
  return decideOnCall<void>(db, guid, undefined, undefined, ({ call }) => {
    const current = kind === "ring" ? call.delivery.ringLease : call.delivery.stop?.lease;
    if (current?.holder !== lease.holder) return { result: undefined };
    return { result: undefined, update: { [kind === "ring" ? "delivery.ringLease.until" : "delivery.stop.lease.until"]: Timestamp.fromMillis(now) } };
  });
}

/** A live claim held by another instance outlasted our wait: the trigger fails, and its retry tries again. */
export class LeaseHeld extends Error {
  constructor(
    readonly kind: "ring" | "stop",
    guid: string,
    readonly until: Timestamp,
  ) {
    super(`the ${kind} of call ${guid} is held by another instance until ${until.toDate().toISOString()}`);
    this.name = "LeaseHeld";
  }
}

/** How long a trigger waits for another instance's live claim to finish or lapse. */
export const LEASE_WAIT_MS = 60_000;

/**
 * Claims, waiting while another instance holds a live claim: it finishes (the claim then has nothing left to do),
 * or it died and its lease lapses (the claim is then ours). `skip` returns the held claim at once.
 */
export async function claimWaiting<C extends { kind: string; until?: Timestamp }>(
  kind: "ring" | "stop",
  guid: string,
  clock: { now: () => number; sleep?: (ms: number) => Promise<void> },
  whenHeld: "wait" | "skip",
  claim: (seen?: SeenCall) => Promise<C>,
  seen?: SeenCall,
): Promise<C> {
  const sleep = clock.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = clock.now() + LEASE_WAIT_MS;
  let result = await claim(seen);
  // A live holder usually finishes within a few hundred milliseconds: look again soon, then less often.
  for (let wait = 100; result.kind === "held" && result.until && whenHeld === "wait"; wait = Math.min(wait * 2, 1000)) {
    if (clock.now() >= giveUpAt) throw new LeaseHeld(kind, guid, result.until);
    await sleep(Math.max(1, Math.min(wait, result.until.toMillis() - clock.now() + 1)));
    result = await claim();
  }
  return result;
}

/**
 * Asked before each retry round of the ring: whether it is still wanted (the call still `ringing`, the claim still
 * ours), renewing the lease when it is.
 */
export function renewRingLease(db: Firestore, guid: string, lease: Lease, now: number): Promise<boolean> {
  return decideOnCall<boolean>(db, guid, undefined, false, ({ call }) => {
    if (call.status !== "ringing" || call.delivery.ringLease?.holder !== lease.holder) return { result: false };
    return { result: true, update: { "delivery.ringLease.until": Timestamp.fromMillis(now + LEASE_MS) } };
  });
}

/**
 * Closes a ring that died too late to ring again: marks the call so that the stop reaches every current device of
 * the recipients (`interrupted`). Returns the call as closed, and whether a stop already ran without reaching
 * every device (the caller then stops them itself).
 */
export function closeInterruptedRing(db: Firestore, guid: string, lease: Lease, now: number): Promise<{ call: CallDocument; stopMissedDevices: boolean } | undefined> {
  return decideOnCall(db, guid, undefined, undefined, ({ call }) => {
    if (call.delivery.ringLease?.holder !== lease.holder) return { result: undefined };
    return {
      result: { call, stopMissedDevices: call.delivery.stop !== undefined && call.delivery.stop.allDevices !== true },
      update: {
        "delivery.state": "failed",
        "delivery.reason": "ring_interrupted",
        "delivery.interrupted": true,
        "delivery.ringLease": FieldValue.delete(),
        "delivery.ringFinishedAt": Timestamp.fromMillis(now),
      },
    };
  });
}

/** What one ring (a first ring, a later one for new recipients, or a takeover) reached. */
export interface RingTally {
  /** Per recipient uid this ring covered: `rung`, `failed`, `no_devices`, `do_not_disturb` or `phone_call`. */
  recipients: Record<string, string>;
  /** Per recipient uid: their devices this ring pushed to, and how many a provider accepted. */
  recipientDevices: Record<string, { devices: number; sent: number }>;
  devices: number;
  sent: number;
  failed: number;
  pruned: number;
  /** From the call's creation to the first push a provider accepted. */
  firstRingMs?: number;
}

/** The call's ring summary once recorded: this ring's tally merged into what earlier rings of the call reached. */
export interface RingSummary extends RingTally {
  state: "rung" | "failed" | "undeliverable";
  reason?: string;
}

/**
 * After the ring's record: the call as recorded on, its summary, whether the stop was claimed first (and reached
 * every device), and whether the claim was still ours (a ring that lost its lease records its devices only).
 */
export interface RingRecorded {
  call: CallDocument;
  summary?: RingSummary;
  stopClaimed: boolean;
  stopReachedAll: boolean;
  /** The call had ended unstopped, and this ring claimed its stop in the same write: the caller stops its devices. */
  stopLease?: Lease;
}

/**
 * Records the ring's device records and merges its tally into the call's summary, on the version of the call
 * its claim wrote (`version`) when nobody wrote the call since, otherwise on the version read just before; releases
 * the claim. It is ordered with `claimStop` through that version: when the stop was claimed first, it could not
 * see these devices, so the caller must stop them itself (`stopClaimed`). When the call ended while we sent and
 * nobody has claimed its stop yet, and these are all the call's rung devices (`soleRing`), the stop is claimed here
 * too (`stopLease`): the caller has the devices in hand and stops them at once, without waiting for the stop
 * trigger to read them. Device records merge (never overwrite a stop) and go first, in batches Firestore accepts;
 * the last goes with the summary.
 */
export async function recordRing(
  db: Firestore,
  guid: string,
  lease: Lease,
  records: DeviceRecord[],
  tally: RingTally,
  now: Timestamp,
  version: SeenCall,
  soleRing = false,
): Promise<RingRecorded | undefined> {
  const ref = callRef(db, guid);
  const chunks = chunked(records, RECORDS_PER_BATCH);
  const last = chunks.pop() ?? [];
  for (const chunk of chunks) await commitAlongside(db, setRecords(ref, chunk));
  return decideOnCall<RingRecorded | undefined>(db, guid, version, undefined, ({ call }) => {
    const stop = call.delivery.stop;
    const recorded = { call, stopClaimed: stop !== undefined, stopReachedAll: stop?.allDevices === true };
    if (call.delivery.ringLease?.holder !== lease.holder) return { result: recorded, alongside: setRecords(ref, last) };
    const summary = mergeSummary(call.delivery, tally);
    // A stop that ran without these devices leaves them to us: the claim stays ours (and `ringing`) until they are
    // stopped (`finishRing`), so that if we die first, the retried trigger finds an interrupted ring and stops them.
    const stopsOwed = recorded.stopClaimed && !recorded.stopReachedAll;
    const stopLease = soleRing && call.status !== "ringing" && !stop ? newLease(now.toMillis()) : undefined;
    return {
      result: { ...recorded, summary, ...(stopLease ? { stopLease } : {}) },
      alongside: setRecords(ref, last),
      update: {
        ...(stopLease ? { "delivery.stop": { state: "stopping", claimedAt: now, lease: stopLease, allDevices: false, devices: 0, sent: 0, failed: 0, unreachable: 0 } } : {}),
        ...(stopsOwed
          ? { "delivery.ringLease.until": Timestamp.fromMillis(now.toMillis() + LEASE_MS) }
          : { "delivery.state": summary.state, "delivery.ringLease": FieldValue.delete() }),
        "delivery.reason": summary.reason ?? FieldValue.delete(),
        "delivery.recipients": summary.recipients,
        "delivery.recipientDevices": summary.recipientDevices,
        "delivery.devices": summary.devices,
        "delivery.sent": summary.sent,
        "delivery.failed": summary.failed,
        "delivery.pruned": summary.pruned,
        "delivery.firstRingMs": summary.firstRingMs ?? FieldValue.delete(),
        "delivery.ringFinishedAt": now,
      },
    };
  });
}

/** Releases a ring's claim once it has stopped the devices a stop could not see: the recorded state takes effect. */
export function finishRing(db: Firestore, guid: string, lease: Lease, state: RingSummary["state"]): Promise<void> {
  return decideOnCall<void>(db, guid, undefined, undefined, ({ call }) =>
    call.delivery.ringLease?.holder === lease.holder
      ? { result: undefined, update: { "delivery.state": state, "delivery.ringLease": FieldValue.delete() } }
      : { result: undefined },
  );
}

function setRecords(call: DocumentReference, records: DeviceRecord[]): (batch: WriteBatch) => void {
  return (batch) => {
    for (const record of records) batch.set(deviceRecordRef(call, record.deviceId), record, { merge: true });
  };
}

/** This ring's tally added to what the call's earlier rings reached; the state follows from the totals. */
export function mergeSummary(earlier: DeliverySummary, tally: RingTally): RingSummary {
  const recipients = { ...(earlier.recipients ?? {}), ...tally.recipients };
  const recipientDevices = { ...(earlier.recipientDevices ?? {}) };
  for (const [uid, count] of Object.entries(tally.recipientDevices)) {
    const before = recipientDevices[uid] ?? { devices: 0, sent: 0 };
    recipientDevices[uid] = { devices: before.devices + count.devices, sent: before.sent + count.sent };
  }
  const devices = (earlier.devices ?? 0) + tally.devices;
  const sent = (earlier.sent ?? 0) + tally.sent;
  const totals = { recipients, recipientDevices, devices, sent, failed: (earlier.failed ?? 0) + tally.failed, pruned: (earlier.pruned ?? 0) + tally.pruned };
  const firstRingMs = earlier.firstRingMs ?? tally.firstRingMs;
  if (sent > 0) return { ...totals, state: "rung", ...(firstRingMs !== undefined ? { firstRingMs } : {}) };
  if (devices > 0) return { ...totals, state: "failed", reason: "no_push_accepted" };
  const reasons = new Set(Object.values(recipients));
  return { ...totals, state: "undeliverable", reason: reasons.size === 1 ? [...reasons][0] : "nothing_to_ring" };
}

/** The devices that already have a ring record, with its outcome (a takeover or a later ring does not ring them again). */
export async function devicesWithRingRecords(db: Firestore, guid: string): Promise<Map<string, PushRecord["outcome"]>> {
  const records = await deviceRecordsOf(callRef(db, guid)).get();
  return new Map(records.docs.filter((doc) => doc.get("ring") !== undefined).map((doc) => [doc.id, doc.get("ring.outcome") as PushRecord["outcome"]]));
}

export type StopClaim<T> =
  | { kind: "stop"; call: CallDocument; lease: Lease; prepared: Promise<T>; allDevices: boolean }
  | { kind: "held"; until: Timestamp }
  | { kind: "skip"; reason: string };

/**
 * Claims the stop of an ended call. A stop whose lease expired is taken over; `allDevices` says that the ring died
 * (or is presumed dead: its lease expired) before recording, so every current device of the recipients is stopped.
 * `prepare` (reading the ring's records and the devices) starts alongside the claim's write, so that the pushes
 * wait for one round trip: reads that start after the version decided on see every ring record written before
 * it, and a record written after it changed the call, so the claim fails and is decided again. When the claim
 * holds and `prepare` fails, the caller gives the claim back for the retried trigger.
 */
export function claimStop<T>(db: Firestore, guid: string, now: number, prepare: (call: CallDocument, allDevices: boolean) => Promise<T>, seen?: SeenCall): Promise<StopClaim<T>> {
  return decideOnCall<StopClaim<T>>(db, guid, seen, { kind: "skip", reason: "call_missing" }, ({ call }) => {
    const { delivery } = call;
    if (call.status === "ringing") return { result: { kind: "skip", reason: "call_ringing" } };
    const earlier = delivery.stop;
    if (earlier?.state === "stopped") return { result: { kind: "skip", reason: "stop_claimed" } };
    if (earlier && isLive(earlier.lease, now)) return { result: { kind: "held", until: earlier.lease.until } };
    const allDevices = delivery.interrupted === true || ringDied(delivery, now) || earlier?.allDevices === true;
    const lease = newLease(now);
    const claimedAt = Timestamp.fromMillis(now);
    const prepared = prepare(call, allDevices);
    prepared.catch(() => undefined); // awaited by the caller when the claim holds; a version decided again drops it
    return {
      result: { kind: "stop", call, lease, prepared, allDevices },
      update: earlier
        ? { "delivery.stop.lease": lease, "delivery.stop.allDevices": allDevices }
        : { "delivery.stop": { state: "stopping", claimedAt, lease, allDevices, devices: 0, sent: 0, failed: 0, unreachable: 0 } },
    };
  });
}

/** Asked before each retry round of the stop: whether the claim is still ours, renewing its lease when it is. */
export function renewStopLease(db: Firestore, guid: string, lease: Lease, now: number): Promise<boolean> {
  return decideOnCall<boolean>(db, guid, undefined, false, ({ call }) => {
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

/**
 * Adds stop outcomes to the devices' records (merged, in batches Firestore accepts) and the call's stop counters.
 * With `close` (the stop's claimed pass: its lease and when it finished), the counters and the close are written only
 * while the claim is still ours: a stop that lost its lease records its devices only. Without it (devices the ring
 * recorded after the claim), the counters only grow.
 */
export async function recordStops(db: Firestore, guid: string, stops: StopRecord[], expireAt: Timestamp, close?: { lease: Lease; finishedAt: Timestamp }): Promise<void> {
  if (stops.length === 0 && !close) return;
  const ref = callRef(db, guid);
  const chunks = chunked(stops, RECORDS_PER_BATCH);
  const last = chunks.pop() ?? [];
  const records = (chunk: StopRecord[]) => (batch: WriteBatch) => {
    for (const { uid, deviceId, platform, stop } of chunk) {
      batch.set(deviceRecordRef(ref, deviceId), { uid, deviceId, ...(platform ? { platform } : {}), stop, expireAt }, { merge: true });
    }
  };
  for (const chunk of chunks) await commitAlongside(db, records(chunk));
  const counters = {
    "delivery.stop.devices": FieldValue.increment(stops.length),
    "delivery.stop.sent": FieldValue.increment(stops.filter((s) => s.stop.outcome === "sent").length),
    "delivery.stop.failed": FieldValue.increment(stops.filter((s) => s.stop.outcome !== "sent" && !UNREACHABLE.has(s.stop.outcome)).length),
    "delivery.stop.unreachable": FieldValue.increment(stops.filter((s) => UNREACHABLE.has(s.stop.outcome)).length),
  };
  if (!close) {
    const batch = db.batch();
    records(last)(batch);
    batch.update(ref, counters);
    await batch.commit();
    return;
  }
  await decideOnCall<void>(db, guid, undefined, undefined, ({ call }) =>
    call.delivery.stop?.lease?.holder === close.lease.holder
      ? {
          result: undefined,
          alongside: records(last),
          update: { ...counters, "delivery.stop.state": "stopped", "delivery.stop.finishedAt": close.finishedAt, "delivery.stop.lease": FieldValue.delete() },
        }
      : { result: undefined, alongside: records(last) },
  );
}

function chunked<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
