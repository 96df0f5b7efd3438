import { DocumentData, DocumentReference, DocumentSnapshot, Firestore, Timestamp, UpdateData, WriteBatch } from "firebase-admin/firestore";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended } from "../shared/firebase";
import { CallDocument, DoorReleaseMark, lateStatus, OwnEnding, timeoutEnding } from "./call-document";

/** `calls/{guid}`: one ButterflyMX call, its state and the summary of its ring and stop (docs/architecture.md). */
export const CALLS = "calls";

export function callRef(db: Firestore, guid: string): DocumentReference {
  return db.collection(CALLS).doc(guid);
}

/** `calls/{guid}/raw/butterflymx`: the latest ButterflyMX call object of the call, as JSON text. Server only. */
export const RAW = "raw";

export function rawCallRef(db: Firestore, guid: string): DocumentReference {
  return callRef(db, guid).collection(RAW).doc("butterflymx");
}

/**
 * Ends a call the ring timeout or reconciliation found still ringing (see `timeoutEnding`), on the condition that it
 * is still the version read and still ringing: a ButterflyMX status that lands first wins. Returns how it ended, or
 * undefined when it was not ringing any more.
 */
export async function endRingingCall(db: Firestore, guid: string, bmxStatus: string | undefined, now: Timestamp, reason: OwnEnding = "ring_timeout"): Promise<CallDocument["status"] | undefined> {
  const fields = await updateCall(db, guid, (call) => (call.status === "ringing" ? timeoutEnding(call, bmxStatus, now, reason) : undefined));
  return fields?.status;
}

/** Records ButterflyMX's late final status on a call we ended ourselves (see `lateStatus`); false when nothing was new. */
export async function recordLateStatus(db: Firestore, guid: string, bmxStatus: string, now: Timestamp): Promise<boolean> {
  return (await updateCall(db, guid, (call) => lateStatus(call, bmxStatus, now))) !== undefined;
}

/** Records a call reconciliation found in ButterflyMX's log (see `reconciledCall`); false when the call exists already. */
export function recordReconciledCall(db: Firestore, call: CallDocument): Promise<boolean> {
  return ifUnchanged(callRef(db, call.guid).create(call));
}

/** Writes the fields `decide` picks on the current call (see `decideOnCall`); undefined when it picked none, or no call. */
function updateCall(db: Firestore, guid: string, decide: (call: CallDocument) => Partial<CallDocument> | undefined): Promise<Partial<CallDocument> | undefined> {
  return decideOnCall<Partial<CallDocument> | undefined>(db, guid, { missing: undefined }, ({ call }) => {
    const fields = decide(call);
    return fields ? { result: fields, update: fields } : { result: undefined };
  });
}

/** One version of the call: as a trigger's event carried it, or as read; its update time identifies it. */
export interface SeenCall {
  call: CallDocument;
  updateTime: Timestamp;
}

/**
 * A decision taken on one version of the call: its result (or `written`: its result given the call's update time
 * once written), and what to write if that version is still current.
 */
export type Decision<T> = ({ result: T } | { written: (updateTime: Timestamp) => T }) & {
  update?: UpdateData<DocumentData>;
  /** Other documents written in the same batch as the call's update. */
  alongside?: (batch: WriteBatch) => void;
};

export interface DecideOptions<T> {
  /** The version to decide on first (a trigger's event, or the version a claim wrote); read when absent. */
  seen?: SeenCall;
  /** The result when there is no call. */
  missing: T;
}

/**
 * Decides on a version of the call (`seen` first, when given) and commits the decision only if that version is still
 * current; when the call changed in between, reads it again and decides anew. No lock is held (see `ifUnchanged`),
 * so a status update arriving meanwhile is never kept waiting.
 */
export async function decideOnCall<T>(
  db: Firestore,
  guid: string,
  options: DecideOptions<T>,
  decide: (version: SeenCall) => Promise<Decision<T>> | Decision<T>,
): Promise<T> {
  const { seen, missing } = options;
  const ref = callRef(db, guid);
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const version = attempt === 1 && seen ? seen : seenCall(await ref.get());
    if (!version) return missing;
    const decision = await decide(version);
    const { update, alongside } = decision;
    const resultAt = (updateTime: Timestamp) => ("written" in decision ? decision.written(updateTime) : decision.result);
    if (!update) {
      if (alongside) await commitAlongside(db, alongside);
      return resultAt(version.updateTime);
    }
    const batch = db.batch();
    alongside?.(batch);
    batch.update(ref, update, { lastUpdateTime: version.updateTime });
    const committed = batch.commit();
    if (await ifUnchanged(committed)) {
      // The call's update is the batch's last write: its write time is the call's new update time.
      const results = await committed;
      return resultAt(results[results.length - 1].writeTime);
    }
  }
  throw stillContended(`writing call ${guid}`);
}

export async function commitAlongside(db: Firestore, alongside: (batch: WriteBatch) => void): Promise<void> {
  const batch = db.batch();
  alongside(batch);
  await batch.commit();
}

/** A snapshot of the call (a trigger's event data, or a read) as a version to decide on; undefined when absent. */
export function seenCall(snapshot: DocumentSnapshot): SeenCall | undefined {
  return snapshot.exists && snapshot.updateTime ? { call: snapshot.data() as CallDocument, updateTime: snapshot.updateTime } : undefined;
}

/** Shows a door release on the call (`doorRelease`) to every recipient; a call gone since is left alone. */
export async function markDoorRelease(db: Firestore, guid: string, mark: DoorReleaseMark): Promise<void> {
  await ifUnchanged(callRef(db, guid).update({ doorRelease: mark }));
}
