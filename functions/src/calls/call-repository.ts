import { DocumentData, DocumentReference, DocumentSnapshot, Firestore, Timestamp, UpdateData, WriteBatch } from "firebase-admin/firestore";
import type { CallEvent } from "../butterflymx/call-events";
import { bmxUserRef, linkedUids } from "../links/bmx-users";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended } from "../shared/firebase";
import { AppliedEvent, applyCallEvent, CallDocument, canonicalGuid, DoorReleaseMark, lateStatus, OwnEnding, timeoutEnding } from "./call-document";

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
  return decideOnCall<Partial<CallDocument> | undefined>(db, guid, undefined, undefined, ({ call }) => {
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

/**
 * Decides on a version of the call (the one the trigger saw first, when given) and commits the decision only if
 * that version is still current; when the call changed in between, reads it again and decides anew. No lock is
 * held (see `ifUnchanged`), so a status update arriving meanwhile is never kept waiting.
 */
export async function decideOnCall<T>(
  db: Firestore,
  guid: string,
  seen: SeenCall | undefined,
  missing: T,
  decide: (version: SeenCall) => Promise<Decision<T>> | Decision<T>,
): Promise<T> {
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

/** Who an event came through, as far as deciding its recipients and history goes. */
export interface EventSource {
  /** `tenant:<id>` or `operator`, for the history. */
  via: string;
  /**
   * A resident's own webhook URL, which speaks for that resident only: with `bmxUserId` (the ButterflyMX user it
   * was registered for), its events may be about that user alone and touch only that user's calls; without one,
   * they ring the owner alone and touch only calls the owner receives. Absent: the operator's building-wide URL.
   */
  resident?: { uid: string; bmxUserId?: string };
  /** Who to ring when no app user is linked to the ButterflyMX user id (building-wide mode: by email). */
  fallbackRecipients?: () => Promise<string[]>;
}

/** Why an event was not recorded: an unknown sender, or a resident's URL speaking for someone else. */
export type RefusalReason = "unknown_source" | "other_user" | "other_users_call";

export interface RecordCallEventInput {
  event: CallEvent;
  /**
   * The document the event's source is decided from (its sender's registration), when there is one: read in
   * the same request as the call, so authenticating costs no request of its own.
   */
  sourceDocument?: DocumentReference;
  /** The event's source, decided from `sourceDocument`'s snapshot; undefined refuses the event. */
  source: (snapshot?: DocumentSnapshot) => EventSource | undefined;
  now: Timestamp;
  retentionDays: number;
}

export interface RecordedEvent extends AppliedEvent {
  guid: string;
  via: string;
}

export type RecordResult = RecordedEvent | { refused: RefusalReason; guid: string; source?: EventSource };

/**
 * Applies a ButterflyMX call event to `calls/{guid}`. The call, the ButterflyMX user's links and the source's
 * document are read in one request, then the call is created, or updated on the condition that it is still the
 * version read (no lock; see `ifUnchanged`), together with the raw ButterflyMX object beside it. Identical events
 * racing each other: exactly one creates the call, the others read it again and see a duplicate. A refused event
 * (unknown sender, or a resident's URL speaking for another user or their call) writes nothing.
 */
export async function recordCallEvent(db: Firestore, input: RecordCallEventInput): Promise<RecordResult> {
  const guid = canonicalGuid(input.event.call.guid);
  const ref = callRef(db, guid);
  const bmxUserId = String(input.event.call.user.id);
  const linksRef = bmxUserRef(db, bmxUserId);
  const { sourceDocument } = input;
  let source: EventSource | undefined;
  let fallback: Promise<string[]> | undefined;
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const first = attempt === 1;
    const [callSnapshot, linksSnapshot, sourceSnapshot] = await db.getAll(ref, linksRef, ...(first && sourceDocument ? [sourceDocument] : []));
    if (first) source = input.source(sourceSnapshot);
    if (!source) return { refused: "unknown_source", guid };
    const existing = callSnapshot.exists ? (callSnapshot.data() as CallDocument) : undefined;
    const refusal = outOfScope(source, bmxUserId, existing);
    if (refusal) return { refused: refusal, guid, source };
    const outcome = applyCallEvent(existing, {
      event: input.event,
      recipients: await recipientsFor(source, linkedUids(linksSnapshot.get("uids")), () => (fallback ??= source!.fallbackRecipients!())),
      via: source.via,
      now: input.now,
      retentionDays: input.retentionDays,
    });
    const { change } = outcome;
    if (change.kind === "none") return { ...outcome, guid, via: source.via };
    const batch = db.batch();
    if (change.kind === "create") batch.create(ref, change.document);
    else batch.update(ref, change.fields, { lastUpdateTime: callSnapshot.updateTime! });
    if (outcome.bmxCall !== undefined) {
      const expireAt = change.kind === "create" ? change.document.expireAt : existing!.expireAt;
      batch.set(rawCallRef(db, guid), { call: outcome.bmxCall, updatedAt: input.now, expireAt });
    }
    if (await ifUnchanged(batch.commit())) return { ...outcome, guid, via: source.via };
  }
  throw stillContended(`recording an event of call ${guid}`);
}

/** Why a resident's URL may not record this event, if it may not: it names another user, or another user's call. */
function outOfScope(source: EventSource, bmxUserId: string, existing: CallDocument | undefined): RefusalReason | undefined {
  const { resident } = source;
  if (!resident) return undefined;
  if (resident.bmxUserId !== undefined) {
    if (bmxUserId !== resident.bmxUserId) return "other_user";
    if (existing && existing.bmxUserId !== resident.bmxUserId) return "other_users_call";
    return undefined;
  }
  return existing && !existing.recipients.includes(resident.uid) ? "other_users_call" : undefined;
}

/** Whom the event rings: the ButterflyMX user's linked app users (or by email, building-wide), or the URL's owner alone. */
async function recipientsFor(source: EventSource, linked: string[], fallback: () => Promise<string[]>): Promise<string[]> {
  const { resident } = source;
  if (resident) return resident.bmxUserId !== undefined ? [...linked, resident.uid] : [resident.uid];
  if (linked.length === 0 && source.fallbackRecipients) return fallback();
  return linked;
}
