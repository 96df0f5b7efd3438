import { DocumentReference, DocumentSnapshot, Firestore, Timestamp } from "firebase-admin/firestore";
import { ifUnchanged, OPTIMISTIC_ATTEMPTS, stillContended, updateIfUnchanged } from "../shared/firebase";
import type { WebhookDelivery } from "../webhook/webhook-schemas";
import { applyDelivery, CallDocument, canonicalGuid, DeliveryOutcome } from "./call-document";

export const CALLS = "calls";
export const BMX_USERS = "bmxUsers";

/** Who a delivery came through, as far as deciding its recipients and history goes. */
export interface DeliverySource {
  /** A uid to ring besides those linked to the ButterflyMX user (the registration's owner). */
  extraRecipient?: string;
  /** Who to ring when no app user is linked to the ButterflyMX user id (building-wide mode: by email). */
  fallbackRecipients?: () => Promise<string[]>;
  via: string;
}

export interface RecordDeliveryInput {
  delivery: WebhookDelivery;
  /**
   * The document the delivery's source is decided from (its sender's registration), when there is one: read in
   * the same request as the call, so authenticating costs no request of its own.
   */
  sourceDocument?: DocumentReference;
  /** The delivery's source, decided from `sourceDocument`'s snapshot; undefined refuses the delivery. */
  source: (snapshot?: DocumentSnapshot) => DeliverySource | undefined;
  now: Timestamp;
  retentionDays: number;
}

export interface RecordedDelivery extends DeliveryOutcome {
  guid: string;
  via: string;
}

/**
 * Applies a webhook delivery to `calls/{guid}`. The call, the ButterflyMX user's links and the source's document
 * are read in one request, then the call is created, or updated on the condition that it is still the version
 * read (no lock; see `ifUnchanged`). Identical deliveries racing each other: exactly one creates the call, the
 * others read it again and see a duplicate. Undefined when the source was refused: nothing is written.
 */
export async function recordDelivery(db: Firestore, input: RecordDeliveryInput): Promise<RecordedDelivery | undefined> {
  const guid = canonicalGuid(input.delivery.call.guid);
  const callRef = db.collection(CALLS).doc(guid);
  const linksRef = db.collection(BMX_USERS).doc(String(input.delivery.call.user.id));
  const { sourceDocument } = input;
  let source: DeliverySource | undefined;
  let fallback: Promise<string[]> | undefined;
  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
    const first = attempt === 1;
    const [callSnapshot, linksSnapshot, sourceSnapshot] = await db.getAll(callRef, linksRef, ...(first && sourceDocument ? [sourceDocument] : []));
    if (first) source = input.source(sourceSnapshot);
    if (!source) return undefined;
    const recipients = linkedUids(linksSnapshot.get("uids"));
    if (recipients.length === 0 && source.fallbackRecipients) recipients.push(...(await (fallback ??= source.fallbackRecipients())));
    if (source.extraRecipient) recipients.push(source.extraRecipient);
    const existing = callSnapshot.exists ? (callSnapshot.data() as CallDocument) : undefined;
    const outcome = applyDelivery(existing, {
      delivery: input.delivery,
      recipients,
      via: source.via,
      now: input.now,
      retentionDays: input.retentionDays,
    });
    const { change } = outcome;
    const written =
      change.kind === "create"
        ? await ifUnchanged(callRef.create(change.document))
        : change.kind === "update"
          ? await updateIfUnchanged(callRef, change.fields, callSnapshot.updateTime!)
          : true;
    if (written) return { ...outcome, guid, via: source.via };
  }
  throw stillContended(`recording a delivery of call ${guid}`);
}

/** `bmxUsers/{id}.uids`, tolerating a missing document or a malformed field (no link, nobody to ring). */
export function linkedUids(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((uid): uid is string => typeof uid === "string" && uid.length > 0) : [];
}
