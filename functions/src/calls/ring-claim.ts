import { DocumentReference, FieldValue, Firestore, Timestamp, WriteBatch } from "firebase-admin/firestore";
import { CallDocument, DeliverySummary, Lease } from "./call-document";
import { callRef, commitAlongside, Decision, decideOnCall, SeenCall } from "./call-repository";
import { DeviceRecord, deviceRecordRef, deviceRecordsOf, inBatches, PushRecord } from "./device-records";
import { isLive, LEASE_MS, newLease, REQUEST_LEASE_MS } from "./leases";
import { stopClaimFields } from "./stop-claim";

/*
 * The ring's claim on the call (`delivery.ringLease`, see leases.ts) and its record: the summary on the call and one
 * record per device under `deliveries`.
 */

/** Recipients the ring has not reached yet: everyone on a first ring, those added since on a later one. */
export function unrungRecipients(recipients: readonly string[], rung: Record<string, string> | undefined): string[] {
  return recipients.filter((uid) => !Object.hasOwn(rung ?? {}, uid));
}

const FINISHED: ReadonlySet<DeliverySummary["state"]> = new Set(["rung", "failed", "undeliverable"]);

/** The ring as claimed: the call, the lease, and the call as the claim wrote it (its record decides on it first). */
export interface ClaimedRing {
  call: CallDocument;
  lease: Lease;
  version: SeenCall;
  /** Devices may already carry ring records (a takeover, or a later ring for new recipients): they are not rung again. */
  again: boolean;
}

/**
 * The ring claim the webhook writes into the call it creates, when the call is to ring (`ringing`, delivery
 * `pending`): one commit creates the call and makes its request the ring's holder, for REQUEST_LEASE_MS.
 */
export function ringClaimedAtCreate(call: CallDocument, now: number): { delivery: DeliverySummary; lease: Lease } | undefined {
  if (call.status !== "ringing" || call.delivery.state !== "pending") return undefined;
  const lease = newLease(now, REQUEST_LEASE_MS);
  return { lease, delivery: { state: "ringing", ringClaimedAt: Timestamp.fromMillis(now), ringLease: lease } };
}

/**
 * What a ring trigger may do with the call:
 * - `ring`: the claim is ours; ring the recipients not rung yet, skipping devices already recorded;
 * - `held`: a live ring holds the claim (it rings recipients added meanwhile before it lets go);
 * - `interrupted`: a ring died, and it is too late to ring again (the call ended, or its window passed): the
 *   claim is ours to close, and whoever ends the call's ringing reaches every device of the recipients;
 * - `skip`: nothing to do.
 */
export type RingClaim =
  | ({ kind: "ring" } & ClaimedRing)
  | { kind: "held"; until: Timestamp }
  | { kind: "interrupted"; call: CallDocument; lease: Lease }
  | { kind: "skip"; reason: string };

/**
 * Claims the ring of a call: a `ringing` call whose ring window is open and whose delivery is `pending` (the first
 * ring), finished with recipients added since (a later ring for them), or held by a lease that expired (a takeover).
 * A passed window closes a pending delivery as `not_rung`. On the version the trigger saw, the claim is a single
 * write.
 */
export function claimRing(db: Firestore, guid: string, options: { now: number; ringWindowMs: number; seen?: SeenCall }): Promise<RingClaim> {
  const { now } = options;
  return decideOnCall<RingClaim>(db, guid, { seen: options.seen, missing: { kind: "skip", reason: "call_missing" } }, ({ call }) => {
    const { delivery } = call;
    const windowOpen = now <= call.createdAt.toMillis() + options.ringWindowMs;
    const claimedAt = Timestamp.fromMillis(now);
    const claim = (lease: Lease, again: boolean): Decision<RingClaim> => ({
      update: { "delivery.state": "ringing", "delivery.ringClaimedAt": claimedAt, "delivery.ringLease": lease },
      written: (updateTime) => {
        const written = { ...call, delivery: { ...delivery, state: "ringing" as const, ringClaimedAt: claimedAt, ringLease: lease } };
        return { kind: "ring", call, lease, again, version: { call: written, updateTime } };
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
    return claim(newLease(now), later);
  });
}

/**
 * Gives back a ring claim whose pushes were never sent (the recipients could not be read), so that a trigger claims
 * the ring again at once and rings within the window. Only this claim is given back: a first ring goes back to
 * `pending`; a later one lets its lease lapse.
 */
export function releaseRing(db: Firestore, guid: string, lease: Lease, now: number): Promise<void> {
  return decideOnCall<void>(db, guid, { missing: undefined }, ({ call }) => {
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

/**
 * Asked before each retry round of the ring: whether it is still wanted (the call still `ringing`, the claim still
 * ours), renewing the lease when it is.
 */
export function renewRingLease(db: Firestore, guid: string, lease: Lease, now: number): Promise<boolean> {
  return decideOnCall<boolean>(db, guid, { missing: false }, ({ call }) => {
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
  return decideOnCall(db, guid, { missing: undefined }, ({ call }) => {
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

/** One ring's outcome to record, under its claim. */
export interface RingOutcome {
  lease: Lease;
  records: DeviceRecord[];
  tally: RingTally;
  finishedAt: Timestamp;
  /** The call as the claim wrote it: decided on first, so that the record needs no read when nobody wrote the call since. */
  version: SeenCall;
  /**
   * These are all the call's rung devices (a first ring): when the call ended while they rang and nobody has claimed
   * its stop yet, the stop is claimed in the same write (`stopLease`), and the caller stops them at once.
   */
  soleRing: boolean;
  /**
   * Devices were left without an answer (the webhook's deadline): the records and counters are written, the
   * recipients are not marked rung, and the lease lapses, so that a trigger takes over and rings what is left.
   */
  unfinished: boolean;
}

/**
 * After the ring's record: the call as recorded on, its summary (absent when the claim was lost, or the ring left work
 * to a takeover), whether the stop was claimed first (and reached every device), and the stop's lease when this
 * record claimed it.
 */
export interface RingRecorded {
  call: CallDocument;
  summary?: RingSummary;
  stopClaimed: boolean;
  stopReachedAll: boolean;
  stopLease?: Lease;
}

/**
 * Records the ring's device records and merges its tally into the call's summary; releases the claim. It is ordered
 * with the stop's claim through the call's version: when the stop was claimed first, it could not see these devices,
 * so the caller must stop them itself (`stopClaimed`); the claim then stays ours (and `ringing`) until they are
 * stopped (`finishRing`), so that if we die first, a trigger finds an interrupted ring and stops them. A ring that lost
 * its lease records its devices only. Device records merge (never overwrite a stop) and go first, in batches Firestore
 * accepts; the last goes with the summary.
 */
export async function recordRing(db: Firestore, guid: string, outcome: RingOutcome): Promise<RingRecorded | undefined> {
  const { lease, tally, finishedAt } = outcome;
  const ref = callRef(db, guid);
  const { earlier, last } = inBatches(outcome.records);
  for (const batch of earlier) await commitAlongside(db, setRecords(ref, batch));
  return decideOnCall<RingRecorded | undefined>(db, guid, { seen: outcome.version, missing: undefined }, ({ call }) => {
    const stop = call.delivery.stop;
    const recorded = { call, stopClaimed: stop !== undefined, stopReachedAll: stop?.allDevices === true };
    if (call.delivery.ringLease?.holder !== lease.holder) return { result: recorded, alongside: setRecords(ref, last) };
    const summary = mergeSummary(call.delivery, tally);
    const counters = {
      "delivery.recipientDevices": summary.recipientDevices,
      "delivery.devices": summary.devices,
      "delivery.sent": summary.sent,
      "delivery.failed": summary.failed,
      "delivery.pruned": summary.pruned,
      "delivery.firstRingMs": summary.firstRingMs ?? FieldValue.delete(),
    };
    if (outcome.unfinished) {
      return { result: recorded, alongside: setRecords(ref, last), update: { ...counters, "delivery.ringLease.until": finishedAt } };
    }
    const stopsOwed = recorded.stopClaimed && !recorded.stopReachedAll;
    const stopClaim = outcome.soleRing && call.status !== "ringing" && !stop ? stopClaimFields(finishedAt.toMillis()) : undefined;
    return {
      result: { ...recorded, summary, ...(stopClaim ? { stopLease: stopClaim.lease } : {}) },
      alongside: setRecords(ref, last),
      update: {
        ...counters,
        ...(stopClaim ? { "delivery.stop": stopClaim.stop } : {}),
        ...(stopsOwed
          ? { "delivery.ringLease.until": Timestamp.fromMillis(finishedAt.toMillis() + LEASE_MS) }
          : { "delivery.state": summary.state, "delivery.ringLease": FieldValue.delete() }),
        "delivery.reason": summary.reason ?? FieldValue.delete(),
        "delivery.recipients": summary.recipients,
        "delivery.ringFinishedAt": finishedAt,
      },
    };
  });
}

/** Releases a ring's claim once it has stopped the devices a stop could not see: the recorded state takes effect. */
export function finishRing(db: Firestore, guid: string, lease: Lease, state: RingSummary["state"]): Promise<void> {
  return decideOnCall<void>(db, guid, { missing: undefined }, ({ call }) =>
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
