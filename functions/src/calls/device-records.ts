import { CollectionReference, DocumentReference, Timestamp } from "firebase-admin/firestore";
import type { PushOutcome } from "../push/push-outcomes";

/**
 * `calls/{guid}/deliveries/{deviceId}`: what the ring and the stop did on one device of a recipient. Written by the
 * call triggers (and removed with a deleted user); read by the device's owner when a recipient of the call.
 */
export const DEVICE_RECORDS = "deliveries";

/** How a device is reached: FCM data (Android), FCM with APNs alert overrides (iOS), PushKit VoIP (iOS). */
export type Channel = "fcm_android" | "fcm_ios" | "apns_voip";

/** One push to one device as recorded under `ring` or `stop` of `calls/{guid}/deliveries/{deviceId}`. */
export interface PushRecord {
  channel: Channel | "none";
  /** The push's outcome, or why no push went: the device has no channel for it, or was unregistered since the ring. */
  outcome: PushOutcome | "no_channel" | "unregistered";
  errorCode?: string;
  attempts: number;
  /** Why earlier attempts were retried (e.g. `timeout`, `messaging/internal-error`). */
  retriedOn?: string[];
  latencyMs?: number;
  providerId?: string;
  tokenPruned?: boolean;
  at: Timestamp;
}

export interface DeviceRecord {
  uid: string;
  deviceId: string;
  platform: "android" | "ios";
  ring: PushRecord & {
    /** The provider accepted the ring, and a device that acknowledges its pushes never said it received it. */
    unacknowledged?: boolean;
  };
  stop?: PushRecord;
  /** When the app on the device said it received the push, showed the ring, answered or declined (`acknowledgeDelivery`). */
  ack?: Partial<Record<"received" | "displayed" | "answered" | "declined", Timestamp>>;
  expireAt: Timestamp;
}

export function deviceRecordsOf(call: DocumentReference): CollectionReference {
  return call.collection(DEVICE_RECORDS);
}

/**
 * The records of one recipient's devices that have a ring (a record with a stop only, from a stop that reached every
 * current device, is about no ring and left out).
 */
export async function ringRecordsOf(call: DocumentReference, uid: string): Promise<DeviceRecord[]> {
  const records = await deviceRecordsOf(call).where("uid", "==", uid).get();
  return records.docs.map((doc) => doc.data() as DeviceRecord).filter((record) => record.ring !== undefined);
}

export function deviceRecordRef(call: DocumentReference, deviceId: string): DocumentReference {
  return deviceRecordsOf(call).doc(deviceId);
}

/** Device records per batch: Firestore takes at most 500 writes in one, and the last batch also updates the call. */
export const RECORDS_PER_BATCH = 450;

/** Records in batches Firestore accepts: the earlier ones are committed first, the last one with the call's update. */
export function inBatches<T>(records: readonly T[]): { earlier: T[][]; last: T[] } {
  const batches: T[][] = [];
  for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) batches.push(records.slice(i, i + RECORDS_PER_BATCH));
  return { earlier: batches.slice(0, -1), last: batches.at(-1) ?? [] };
}
