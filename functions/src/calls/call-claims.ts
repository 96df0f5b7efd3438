import { DocumentData, DocumentReference, DocumentSnapshot, FieldValue, Firestore, Timestamp, UpdateData, WriteBatch } from "firebase-admin/firestore";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended } from "../shared/firebase";
import { CallDocument } from "./call-document";
import { callRef } from "./call-repository";
import { deliveriesOf, DeliveryDocument, deliveryRef, PushRecord } from "./delivery-records";

/*
 * The ring and the stop each run once per call: each claims its turn on `calls/{guid}` (`delivery.state`,
 * `delivery.stop`) before sending, and records its outcomes there and in the per-device delivery records.
 */

export type RingClaim = { claimed: true; call: CallDocument } | { claimed: false; reason: string };

/** One version of the call: as a trigger's event carried it, or as read; its update time identifies it. */
export interface SeenCall {
  call: CallDocument;
  updateTime: Timestamp;
}

/** A decision taken on one version of the call: its result, and what to write if that version is still current. */
interface Decision<T> {
  result: T;
  update?: UpdateData<DocumentData>;
  /** Other documents written in the same batch as the call's update. */
  alongside?: (batch: WriteBatch) => void;
}

/**
 * Decides on a version of the call (the one the trigger saw first, when given) and commits the decision only if
 * that version is still current; when the call changed in between, reads it again and decides anew. No lock is
 * held (see `ifUnchanged`), so a status update arriving meanwhile is never kept waiting.
 */
async function decideOnCall<T>(
  ref: DocumentReference,
  seen: SeenCall | undefined,
  missing: T,
  decide: (version: SeenCall) => Promise<Decision<T>> | Decision<T>,
): Promise<T> {
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const version = attempt === 1 && seen ? seen : await readCall(ref);
    if (!version) return missing;
    const { result, update, alongside } = await decide(version);
    if (!update) return result;
    const batch = ref.firestore.batch();
    alongside?.(batch);
    batch.update(ref, update, { lastUpdateTime: version.updateTime });
    if (await ifUnchanged(batch.commit())) return result;
  }
  throw stillContended(`writing call ${ref.id}`);
}

async function readCall(ref: DocumentReference): Promise<SeenCall | undefined> {
  return seenCall(await ref.get());
}

/** A snapshot of the call (a trigger's event data, or a read) as a version to decide on; undefined when absent. */
export function seenCall(snapshot: DocumentSnapshot): SeenCall | undefined {
  return snapshot.exists && snapshot.updateTime ? { call: snapshot.data() as CallDocument, updateTime: snapshot.updateTime } : undefined;
}

/**
 * Claims the ring of a call, once: only a `ringing` call whose delivery is still `pending` and whose ring window
 * is open; a passed window closes the delivery as `not_rung`. A retried or duplicated trigger finds the claim
 * taken and rings nobody. With the version the trigger saw, the claim is a single write: one round trip before
 * the first push.
 */
export function claimRing(db: Firestore, guid: string, now: Timestamp, ringWindowMs: number, seen?: SeenCall): Promise<RingClaim> {
  const missing: RingClaim = { claimed: false, reason: "call_missing" };
  return decideOnCall<RingClaim>(callRef(db, guid), seen, missing, ({ call }) => {
    if (call.status !== "ringing") return { result: { claimed: false, reason: `call_${call.status}` } };
    if (call.delivery.state !== "pending") return { result: { claimed: false, reason: `delivery_${call.delivery.state}` } };
    if (now.toMillis() > call.createdAt.toMillis() + ringWindowMs) {
      return { result: { claimed: false, reason: "ring_window_passed" }, update: { "delivery.state": "not_rung", "delivery.reason": "ring_window_passed" } };
    }
    return { result: { claimed: true, call }, update: { "delivery.state": "ringing", "delivery.ringClaimedAt": now } };
  });
}

/**
 * Gives back a ring claim whose pushes were never sent (the recipients could not be read), so that the retried
 * trigger claims the ring again and rings within the window. Only this claim (`claimedAt`) is given back.
 */
export function releaseRing(db: Firestore, guid: string, claimedAt: Timestamp): Promise<void> {
  return decideOnCall<void>(callRef(db, guid), undefined, undefined, ({ call }) =>
    call.delivery.state === "ringing" && call.delivery.ringClaimedAt?.isEqual(claimedAt)
      ? { result: undefined, update: { "delivery.state": "pending", "delivery.ringClaimedAt": FieldValue.delete() } }
      : { result: undefined },
  );
}

export interface RingSummary {
  state: "rung" | "failed" | "undeliverable";
  reason?: string;
  recipients: Record<string, string>;
  devices: number;
  sent: number;
  failed: number;
  pruned: number;
  /** From the call's creation to the first push a provider accepted. */
  firstRingMs?: number;
}

/** After the ring's record: whether the stop was claimed first, and then the call as it was recorded on. */
export type RingRecorded = { stopClaimed: false } | { stopClaimed: true; call: CallDocument };

/**
 * Records the ring's per-device outcomes and the call's summary in one batch, on the version of the call read
 * just before. It is ordered with `claimStop` through that version: when the stop was claimed first, it could not
 * see these devices, so the caller must stop them itself (`stopClaimed: true`).
 */
export function recordRing(
  db: Firestore,
  guid: string,
  deliveries: DeliveryDocument[],
  summary: RingSummary,
  now: Timestamp,
): Promise<RingRecorded> {
  const ref = callRef(db, guid);
  return decideOnCall<RingRecorded>(ref, undefined, { stopClaimed: false }, ({ call }) => ({
    result: call.delivery.stop ? { stopClaimed: true, call } : { stopClaimed: false },
    alongside: (batch) => {
      for (const delivery of deliveries) batch.set(deliveryRef(ref, delivery.deviceId), delivery);
    },
    update: {
      "delivery.state": summary.state,
      "delivery.reason": summary.reason ?? FieldValue.delete(),
      "delivery.recipients": summary.recipients,
      "delivery.devices": summary.devices,
      "delivery.sent": summary.sent,
      "delivery.failed": summary.failed,
      "delivery.pruned": summary.pruned,
      "delivery.firstRingMs": summary.firstRingMs ?? FieldValue.delete(),
      "delivery.ringFinishedAt": now,
    },
  }));
}

export type StopClaim<T> = { claimed: true; call: CallDocument; prepared: T } | { claimed: false; reason: string };

/**
 * Claims the stop of an ended call, once, for the devices the ring has recorded so far. The records are read
 * after the version decided on: a ring recorded before it is among them, one recorded after it changed the call,
 * so the claim fails and is decided again. `prepare` (reading those devices) runs before the claim is written:
 * a read that fails leaves the stop unclaimed for the retried trigger, never claimed and unsent.
 */
export function claimStop<T>(db: Firestore, guid: string, now: Timestamp, prepare: (targets: DeliveryDocument[]) => Promise<T>, seen?: SeenCall): Promise<StopClaim<T>> {
  const ref = callRef(db, guid);
  return decideOnCall<StopClaim<T>>(ref, seen, { claimed: false, reason: "call_missing" }, async ({ call }) => {
    if (call.status === "ringing") return { result: { claimed: false, reason: "call_ringing" } };
    if (call.delivery.stop) return { result: { claimed: false, reason: "stop_claimed" } };
    const deliveries = await deliveriesOf(ref).get();
    const targets = deliveries.docs.map((d) => d.data() as DeliveryDocument).filter((d) => d.ring.outcome !== "prune" && !d.stop);
    return {
      result: { claimed: true, call, prepared: await prepare(targets) },
      update: { "delivery.stop": { state: "stopping", claimedAt: now, devices: 0, sent: 0, failed: 0, unreachable: 0 } },
    };
  });
}

/** Stop outcomes that mean no push could be sent (not a provider failure). */
const UNREACHABLE = new Set<PushRecord["outcome"]>(["no_channel", "unregistered"]);

/**
 * Adds stop outcomes to the devices' records and the call's stop counters, in one batch. `finishedAt` closes the
 * stop (the claimed pass); without it the counters only grow (devices the ring recorded after the claim).
 */
export async function recordStops(db: Firestore, guid: string, stops: Array<{ deviceId: string; stop: PushRecord }>, finishedAt?: Timestamp): Promise<void> {
  if (stops.length === 0 && !finishedAt) return;
  const ref = callRef(db, guid);
  const batch = db.batch();
  for (const { deviceId, stop } of stops) batch.update(deliveryRef(ref, deviceId), { stop });
  batch.update(ref, {
    "delivery.stop.devices": FieldValue.increment(stops.length),
    "delivery.stop.sent": FieldValue.increment(stops.filter((s) => s.stop.outcome === "sent").length),
    "delivery.stop.failed": FieldValue.increment(stops.filter((s) => s.stop.outcome !== "sent" && !UNREACHABLE.has(s.stop.outcome)).length),
    "delivery.stop.unreachable": FieldValue.increment(stops.filter((s) => UNREACHABLE.has(s.stop.outcome)).length),
    ...(finishedAt ? { "delivery.stop.state": "stopped", "delivery.stop.finishedAt": finishedAt } : {}),
  });
  await batch.commit();
}
