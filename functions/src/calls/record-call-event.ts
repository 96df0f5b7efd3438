import { DocumentReference, DocumentSnapshot, Firestore, Timestamp } from "firebase-admin/firestore";
import type { CallEvent } from "../butterflymx/call-events";
import { bmxUserRef, linkedUids } from "../links/bmx-users";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended } from "../shared/firebase";
import { AppliedEvent, applyCallEvent, CallDocument, canonicalGuid } from "./call-document";
import { callRef, rawCallRef } from "./call-repository";
import { ClaimedRing, ringClaimedAtCreate } from "./ring-claim";
import { ClaimedStop, stopClaimedAtEnd } from "./stop-claim";

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

/**
 * The webhook rings and stops in its own request: the commit that records the event also claims the ring (of a call
 * it creates) or the stop (of a call it ends), and what each needs is read beside that commit.
 */
export interface ClaimsInRequest<R, S> {
  now: number;
  /** Reads what the ring needs (the recipients' settings and devices). */
  prepareRing: (call: CallDocument) => Promise<R>;
  /** Reads what the stop needs (the devices to stop). */
  prepareStop: (call: CallDocument, allDevices: boolean) => Promise<S>;
}

export interface RecordCallEventInput<R, S> {
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
  /** Absent: the event's commit claims nothing, and the triggers ring and stop. */
  claims?: ClaimsInRequest<R, S>;
}

export interface RecordedEvent<R, S> extends AppliedEvent {
  guid: string;
  via: string;
  /** The ring the event's commit claimed, with its reads under way. */
  ring?: { ring: ClaimedRing; audience: Promise<R> };
  /** The stop the event's commit claimed, with its reads under way. */
  stop?: ClaimedStop<S>;
}

export type RecordResult<R, S> = RecordedEvent<R, S> | { refused: RefusalReason; guid: string; source?: EventSource };

/**
 * Applies a ButterflyMX call event to `calls/{guid}`. The call, the ButterflyMX user's links and the source's
 * document are read in one request, then the call is created, or updated on the condition that it is still the
 * version read (no lock; see `ifUnchanged`), together with the raw ButterflyMX object beside it. Identical events
 * racing each other: exactly one creates the call, the others read it again and see a duplicate. A refused event
 * (unknown sender, or a resident's URL speaking for another user or their call) writes nothing. With `claims`, the
 * same commit claims the ring or the stop for the request (see ClaimsInRequest).
 */
export async function recordCallEvent<R = never, S = never>(db: Firestore, input: RecordCallEventInput<R, S>): Promise<RecordResult<R, S>> {
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
    const { claims } = input;
    let ring: { document: CallDocument; lease: ClaimedRing["lease"]; audience: Promise<R> } | undefined;
    let stop: ClaimedStop<S> | undefined;
    if (change.kind === "create") {
      const claim = claims && ringClaimedAtCreate(change.document, claims.now);
      const document = claim ? { ...change.document, delivery: claim.delivery } : change.document;
      batch.create(ref, document);
      if (claim) ring = { document, lease: claim.lease, audience: dropIfUnused(claims.prepareRing(document)) };
    } else {
      const ends = existing!.status === "ringing" && change.fields.status !== undefined && change.fields.status !== "ringing";
      const ended = { ...existing!, ...change.fields };
      const claim = claims && ends ? stopClaimedAtEnd(ended, claims.now) : undefined;
      batch.update(ref, { ...change.fields, ...claim?.update }, { lastUpdateTime: callSnapshot.updateTime! });
      if (claim) stop = { call: ended, lease: claim.lease, allDevices: claim.allDevices, prepared: dropIfUnused(claims!.prepareStop(ended, claim.allDevices)) };
    }
    if (outcome.bmxCall !== undefined) {
      const expireAt = change.kind === "create" ? change.document.expireAt : existing!.expireAt;
      batch.set(rawCallRef(db, guid), { call: outcome.bmxCall, updatedAt: input.now, expireAt });
    }
    const committed = batch.commit();
    if (await ifUnchanged(committed)) {
      // The call's write is the batch's first: its write time is the version the ring's record decides on.
      const version = ring && { call: ring.document, updateTime: (await committed)[0].writeTime };
      return {
        ...outcome,
        guid,
        via: source.via,
        ...(ring && version ? { ring: { ring: { call: ring.document, lease: ring.lease, version, again: false }, audience: ring.audience } } : {}),
        ...(stop ? { stop } : {}),
      };
    }
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

/** A read started beside a commit that may lose its race: awaited by the caller when it wins, dropped otherwise. */
function dropIfUnused<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}
