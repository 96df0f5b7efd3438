import { Firestore, Timestamp } from "firebase-admin/firestore";
import { deviceRef } from "../devices/device-registry";
import { NotAllowed } from "../shared/errors";
import { ifUnchanged, updateIfUnchanged } from "../shared/firebase";
import { AcknowledgeDeliveryInput } from "./acknowledgement-schemas";
import { callRef } from "./call-repository";
import { deviceRecordsOf, DeviceRecord, deviceRecordRef } from "./device-records";

/** How long after a ring a device that acknowledges its pushes has to say it received it before it is flagged. */
export const ACK_WINDOW_MS = 5_000;

/**
 * Records what the app did with a call's push on one of the caller's own devices (received, displayed, answered,
 * declined), each kind once: the first time is kept. Device records then tell apart a push the provider accepted
 * from one the device received and one the resident saw. The device is marked as one that acknowledges, so that a
 * later ring it never acknowledges is flagged (`flagUnacknowledged`).
 */
export async function acknowledgeDelivery(db: Firestore, uid: string, input: AcknowledgeDeliveryInput, now: Timestamp): Promise<{ recorded: boolean; at: string }> {
  const record = deviceRecordRef(callRef(db, input.guid), input.deviceId);
  for (;;) {
    const [call, stored] = await db.getAll(callRef(db, input.guid), record);
    const recipients = call.get("recipients") as string[] | undefined;
    // Another user's device and a device the call never reached are refused alike.
    if (!stored.exists || stored.get("uid") !== uid || !recipients?.includes(uid)) {
      throw new NotAllowed("This call's push did not go to one of your devices.");
    }
    const earlier = stored.get(`ack.${input.event}`) as Timestamp | undefined;
    if (earlier) return { recorded: false, at: earlier.toDate().toISOString() };
    if (await updateIfUnchanged(record, { [`ack.${input.event}`]: now }, stored.updateTime!)) break;
  }
  // A device removed since is left removed; the acknowledgement itself is recorded either way.
  await ifUnchanged(deviceRef(db, uid, input.deviceId).update({ acknowledges: true }));
  return { recorded: true, at: now.toDate().toISOString() };
}

/**
 * Flags the rings a provider accepted but the device never said it received, for devices that acknowledge their
 * pushes (apps that do not acknowledge yet are not held against). Returns how many were flagged.
 */
export async function flagUnacknowledged(db: Firestore, guid: string, now: number): Promise<number> {
  const records = await deviceRecordsOf(callRef(db, guid)).where("ring.outcome", "==", "sent").get();
  const candidates = records.docs.filter((doc) => {
    const record = doc.data() as DeviceRecord;
    return !record.ack?.received && !record.ring.unacknowledged && record.ring.at.toMillis() + ACK_WINDOW_MS <= now;
  });
  if (candidates.length === 0) return 0;
  const devices = await db.getAll(...candidates.map((doc) => deviceRef(db, doc.get("uid") as string, doc.id)));
  const flagged = candidates.filter((_, i) => devices[i].get("acknowledges") === true);
  if (flagged.length === 0) return 0;
  const batch = db.batch();
  for (const doc of flagged) batch.update(doc.ref, { "ring.unacknowledged": true });
  await batch.commit();
  return flagged.length;
}
