import { FieldValue, Firestore, Timestamp } from "firebase-admin/firestore";
import type { PushResult } from "../push/fan-out";
import { updateIfUnchanged } from "../shared/firebase";
import { CallDocument } from "./call-document";
import { CALLS } from "./call-repository";

export const DELIVERIES = "deliveries";

/** How a device is reached: FCM data (Android), FCM with APNs alert overrides (iOS), PushKit VoIP (iOS). */
export type Channel = "fcm_android" | "fcm_ios" | "apns_voip";

/** One push to one device as recorded under `ring` or `stop` of `calls/{guid}/deliveries/{deviceId}`. */
export interface PushRecord {
  channel: Channel | "none";
  outcome: PushResult["disposition"] | "no_channel" | "unregistered";
  errorCode?: string;
  attempts: number;
  latencyMs?: number;
  providerId?: string;
  tokenPruned?: boolean;
  at: Timestamp;
}

export interface DeliveryDocument {
  uid: string;
  deviceId: string;
  platform: "android" | "ios";
  ring: PushRecord;
  stop?: PushRecord;
  expireAt: Timestamp;
}

export type RingClaim = { claimed: true; call: CallDocument } | { claimed: false; reason: string };

/** The call as the ring trigger's event saw it, with the update time that identifies that version. */
export interface SeenCall {
  call: CallDocument;
  updateTime: Timestamp;
}

type RingDecision = { claim: true } | { claim: false; reason: string; close?: true };

/** Whether this version of the call may be rung now; a passed window closes the delivery as `not_rung`. */
function ringDecision(call: CallDocument, now: Timestamp, ringWindowMs: number): RingDecision {
  if (call.status !== "ringing") return { claim: false, reason: `call_${call.status}` };
  if (call.delivery.state !== "pending") return { claim: false, reason: `delivery_${call.delivery.state}` };
  if (now.toMillis() > call.createdAt.toMillis() + ringWindowMs) return { claim: false, reason: "ring_window_passed", close: true };
  return { claim: true };
}

function claimFields(decision: RingDecision, now: Timestamp): Record<string, unknown> | undefined {
  if (decision.claim) return { "delivery.state": "ringing", "delivery.ringClaimedAt": now };
  return decision.close ? { "delivery.state": "not_rung", "delivery.reason": "ring_window_passed" } : undefined;
}

/**
 * Claims the ring of a call, once: only a `ringing` call whose delivery is still `pending` and whose ring window
 * is open. A retried or duplicated trigger finds the claim taken and rings nobody.
 *
 * With the version the trigger saw, the claim is one write conditioned on that version still being current
 * (one round trip instead of a transaction's two, before the first push). When the call changed since, the
 * transaction decides on the current version.
 */
export async function claimRing(db: Firestore, guid: string, now: Timestamp, ringWindowMs: number, seen?: SeenCall): Promise<RingClaim> {
  const ref = db.collection(CALLS).doc(guid);
  if (seen) {
    const decision = ringDecision(seen.call, now, ringWindowMs);
    const fields = claimFields(decision, now);
    if (!fields) return decision.claim ? { claimed: true, call: seen.call } : { claimed: false, reason: decision.reason };
    if (await updateIfUnchanged(ref, fields, seen.updateTime)) {
      return decision.claim ? { claimed: true, call: seen.call } : { claimed: false, reason: decision.reason };
    }
  }
  return db.runTransaction(async (tx) => {
    const snapshot = await tx.get(ref);
    if (!snapshot.exists) return { claimed: false, reason: "call_missing" };
    const call = snapshot.data() as CallDocument;
    const decision = ringDecision(call, now, ringWindowMs);
    const fields = claimFields(decision, now);
    if (fields) tx.update(ref, fields);
    return decision.claim ? { claimed: true, call } : { claimed: false, reason: decision.reason };
  });
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

/**
 * Records the ring's per-device outcomes and the call's summary in one transaction on the call. It serialises
 * with `claimStop`: when the stop has already been claimed, it could not see these devices, so the caller must
 * stop them itself (`stopClaimed: true`).
 */
export async function recordRing(
  db: Firestore,
  guid: string,
  deliveries: DeliveryDocument[],
  summary: RingSummary,
  now: Timestamp,
): Promise<{ stopClaimed: boolean; call: CallDocument }> {
  const ref = db.collection(CALLS).doc(guid);
  return db.runTransaction(async (tx) => {
    const snapshot = await tx.get(ref);
    const call = snapshot.data() as CallDocument;
    for (const delivery of deliveries) tx.set(ref.collection(DELIVERIES).doc(delivery.deviceId), delivery);
    tx.update(ref, {
      "delivery.state": summary.state,
      "delivery.reason": summary.reason ?? FieldValue.delete(),
      "delivery.recipients": summary.recipients,
      "delivery.devices": summary.devices,
      "delivery.sent": summary.sent,
      "delivery.failed": summary.failed,
      "delivery.pruned": summary.pruned,
      "delivery.firstRingMs": summary.firstRingMs ?? FieldValue.delete(),
      "delivery.ringFinishedAt": now,
    });
    return { stopClaimed: Boolean(call.delivery.stop), call };
  });
}

export type StopClaim = { claimed: true; call: CallDocument; targets: DeliveryDocument[] } | { claimed: false; reason: string };

/** Claims the stop of an ended call, once, with the devices the ring has recorded so far. */
export async function claimStop(db: Firestore, guid: string, now: Timestamp): Promise<StopClaim> {
  const ref = db.collection(CALLS).doc(guid);
  return db.runTransaction(async (tx) => {
    const [snapshot, deliveries] = await Promise.all([tx.get(ref), tx.get(ref.collection(DELIVERIES))]);
    if (!snapshot.exists) return { claimed: false, reason: "call_missing" };
    const call = snapshot.data() as CallDocument;
    if (call.status === "ringing") return { claimed: false, reason: "call_ringing" };
    if (call.delivery.stop) return { claimed: false, reason: "stop_claimed" };
    tx.update(ref, { "delivery.stop": { state: "stopping", claimedAt: now, devices: 0, sent: 0, failed: 0, unreachable: 0 } });
    const targets = deliveries.docs.map((d) => d.data() as DeliveryDocument).filter((d) => d.ring.outcome !== "prune" && !d.stop);
    return { claimed: true, call, targets };
  });
}

/** Stop outcomes that mean no push could be sent (not a provider failure). */
const UNREACHABLE = new Set<PushRecord["outcome"]>(["no_channel", "unregistered"]);

/** Adds stop outcomes to the devices' records and the call's stop counters (the ring may add its own later). */
export async function recordStops(db: Firestore, guid: string, stops: Array<{ deviceId: string; stop: PushRecord }>): Promise<void> {
  if (stops.length === 0) return;
  const ref = db.collection(CALLS).doc(guid);
  const batch = db.batch();
  for (const { deviceId, stop } of stops) batch.update(ref.collection(DELIVERIES).doc(deviceId), { stop });
  batch.update(ref, {
    "delivery.stop.devices": FieldValue.increment(stops.length),
    "delivery.stop.sent": FieldValue.increment(stops.filter((s) => s.stop.outcome === "sent").length),
    "delivery.stop.failed": FieldValue.increment(stops.filter((s) => s.stop.outcome !== "sent" && !UNREACHABLE.has(s.stop.outcome)).length),
    "delivery.stop.unreachable": FieldValue.increment(stops.filter((s) => UNREACHABLE.has(s.stop.outcome)).length),
  });
  await batch.commit();
}

export async function finishStop(db: Firestore, guid: string, now: Timestamp): Promise<void> {
  await db.collection(CALLS).doc(guid).update({ "delivery.stop.state": "stopped", "delivery.stop.finishedAt": now });
}
