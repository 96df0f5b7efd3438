import { DocumentReference, DocumentSnapshot, Firestore, Timestamp } from "firebase-admin/firestore";
import type { CallEvent } from "../butterflymx/call-events";
import { bmxUserRef, linkedUids } from "../links/bmx-users";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended, updateIfUnchanged } from "../shared/firebase";
import { applyCallEvent, CallDocument, canonicalGuid, EventOutcome } from "./call-document";

/** `calls/{guid}`: one ButterflyMX call, its state and the summary of its ring and stop (docs/architecture.md). */
export const CALLS = "calls";

export function callRef(db: Firestore, guid: string): DocumentReference {
  return db.collection(CALLS).doc(guid);
}

/** Who an event came through, as far as deciding its recipients and history goes. */
export interface EventSource {
  /** A uid to ring besides those linked to the ButterflyMX user (the registration's owner). */
  extraRecipient?: string;
  /** Who to ring when no app user is linked to the ButterflyMX user id (building-wide mode: by email). */
  fallbackRecipients?: () => Promise<string[]>;
  via: string;
}

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

export interface RecordedEvent extends EventOutcome {
  guid: string;
  via: string;
}

/**
 * Applies a ButterflyMX call event to `calls/{guid}`. The call, the ButterflyMX user's links and the source's document
 * are read in one request, then the call is created, or updated on the condition that it is still the version
 * read (no lock; see `ifUnchanged`). Identical events racing each other: exactly one creates the call, the
 * others read it again and see a duplicate. Undefined when the source was refused: nothing is written.
 */
export async function recordCallEvent(db: Firestore, input: RecordCallEventInput): Promise<RecordedEvent | undefined> {
  const guid = canonicalGuid(input.event.call.guid);
  const ref = callRef(db, guid);
  const linksRef = bmxUserRef(db, String(input.event.call.user.id));
  const { sourceDocument } = input;
  let source: EventSource | undefined;
  let fallback: Promise<string[]> | undefined;
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const first = attempt === 1;
    const [callSnapshot, linksSnapshot, sourceSnapshot] = await db.getAll(ref, linksRef, ...(first && sourceDocument ? [sourceDocument] : []));
    if (first) source = input.source(sourceSnapshot);
    if (!source) return undefined;
    const recipients = linkedUids(linksSnapshot.get("uids"));
    if (recipients.length === 0 && source.fallbackRecipients) recipients.push(...(await (fallback ??= source.fallbackRecipients())));
    if (source.extraRecipient) recipients.push(source.extraRecipient);
    const existing = callSnapshot.exists ? (callSnapshot.data() as CallDocument) : undefined;
    const outcome = applyCallEvent(existing, {
      event: input.event,
      recipients,
      via: source.via,
      now: input.now,
      retentionDays: input.retentionDays,
    });
    const { change } = outcome;
    const written =
      change.kind === "create"
        ? await ifUnchanged(ref.create(change.document))
        : change.kind === "update"
          ? await updateIfUnchanged(ref, change.fields, callSnapshot.updateTime!)
          : true;
    if (written) return { ...outcome, guid, via: source.via };
  }
  throw stillContended(`recording an event of call ${guid}`);
}
