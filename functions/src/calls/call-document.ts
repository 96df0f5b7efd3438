import { Timestamp } from "firebase-admin/firestore";
import type { BmxCall, WebhookDelivery, WebhookEvent } from "../webhook/webhook-schemas";
import { CallStatus, isTerminal, nextStatus, statusFromBmx } from "./call-status";

/** Who ended the ringing: ButterflyMX reported a terminal status. */
export type EndReason = "butterflymx";

/** One delivery as the call remembers it. `applied` says whether it set the call's status. */
export interface HistoryEntry {
  event: WebhookEvent;
  bmxStatus: string;
  status: CallStatus;
  applied: boolean;
  via: string;
  at: Timestamp;
}

/**
 * Delivery of the call to phones. The webhook writes the first state: `pending` (the ring trigger takes it
 * from there), `undeliverable` (nobody is linked to the called ButterflyMX user) or `not_rung` (the call had
 * ended before we first heard of it). The ring trigger moves `pending` → `ringing` → `rung` | `failed` |
 * `undeliverable`, and the stop trigger fills `stop`.
 */
export interface DeliverySummary {
  state: "pending" | "ringing" | "rung" | "failed" | "undeliverable" | "not_rung";
  reason?: string;
  ringClaimedAt?: Timestamp;
  ringFinishedAt?: Timestamp;
  /** Per recipient uid: `rung`, `failed`, `no_devices`, `do_not_disturb` or `phone_call`. */
  recipients?: Record<string, string>;
  devices?: number;
  sent?: number;
  failed?: number;
  pruned?: number;
  firstRingMs?: number;
  /** `unreachable`: devices with no stop channel (iOS VoIP-only) or unregistered since the ring. */
  stop?: { state: "stopping" | "stopped"; claimedAt: Timestamp; finishedAt?: Timestamp; devices: number; sent: number; failed: number; unreachable: number };
}

/** `calls/{guid}` as the webhook writes it (the contract in docs/architecture.md). */
export interface CallDocument {
  guid: string;
  status: CallStatus;
  bmxStatus: string;
  recipients: string[];
  bmxUserId: string;
  panel: { id: string; name: string };
  unit: { id: string; label: string };
  visitorImageUrl?: string;
  /** The latest ButterflyMX call object received, unknown fields included, as JSON text. */
  bmxCall: string;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  endedAt?: Timestamp;
  endReason?: EndReason;
  history: HistoryEntry[];
  delivery: DeliverySummary;
  expireAt: Timestamp;
}

/** Distinct events a call remembers; ButterflyMX sends a handful, so the cap only bounds abuse. */
export const MAX_HISTORY = 32;

export interface DeliveryContext {
  delivery: WebhookDelivery;
  /** Uids to ring for this delivery, already resolved. */
  recipients: string[];
  /** Which integration delivered it, for the history (`tenant:<id>` or `operator`). */
  via: string;
  now: Timestamp;
  retentionDays: number;
}

export type CallChange =
  | { kind: "create"; document: CallDocument }
  | { kind: "update"; fields: Partial<CallDocument> }
  | { kind: "none" };

export interface DeliveryOutcome {
  change: CallChange;
  status: CallStatus;
  /** The call's recipients after the delivery. */
  recipients: string[];
  /** The same event (create, or this status) was already recorded for the call. */
  duplicate: boolean;
}

/**
 * Applies one webhook delivery to the call as stored (undefined when first seen). Pure: the repository writes
 * the result only onto the version it was decided on, so concurrent and repeated deliveries converge on one document.
 */
export function applyDelivery(existing: CallDocument | undefined, context: DeliveryContext): DeliveryOutcome {
  const { delivery, now } = context;
  const incoming = statusFromBmx(delivery.bmxStatus);
  if (!existing) {
    const document = newCall(context, incoming);
    return { change: { kind: "create", document }, status: incoming, recipients: document.recipients, duplicate: false };
  }

  const recipients = union(existing.recipients, context.recipients);
  const recipientsChanged = recipients.length !== existing.recipients.length;
  const duplicate = existing.history.some((h) => h.event === delivery.event && h.bmxStatus === delivery.bmxStatus);
  if (duplicate) {
    const change: CallChange = recipientsChanged ? { kind: "update", fields: { recipients, updatedAt: now } } : { kind: "none" };
    return { change, status: existing.status, recipients, duplicate: true };
  }

  const status = nextStatus(existing.status, incoming);
  const applied = status !== existing.status;
  const fields: Partial<CallDocument> = {
    ...callDetails(delivery.call, existing.visitorImageUrl),
    recipients,
    updatedAt: now,
  };
  if (applied) {
    fields.status = status;
    fields.bmxStatus = delivery.bmxStatus;
    if (isTerminal(status)) Object.assign(fields, ended(now));
  }
  if (existing.history.length < MAX_HISTORY) {
    fields.history = [...existing.history, historyEntry(context, incoming, applied)];
  }
  return { change: { kind: "update", fields }, status, recipients, duplicate: false };
}

function newCall(context: DeliveryContext, status: CallStatus): CallDocument {
  const { delivery, now } = context;
  const recipients = union([], context.recipients);
  const document: CallDocument = {
    guid: canonicalGuid(delivery.call.guid),
    status,
    bmxStatus: delivery.bmxStatus,
    recipients,
    bmxUserId: String(delivery.call.user.id),
    ...callDetails(delivery.call, undefined),
    createdAt: now,
    updatedAt: now,
    history: [historyEntry(context, status, true)],
    delivery: initialDelivery(status, recipients),
    expireAt: Timestamp.fromMillis(now.toMillis() + context.retentionDays * 86_400_000),
  };
  return isTerminal(status) ? { ...document, ...ended(now) } : document;
}

function initialDelivery(status: CallStatus, recipients: string[]): DeliverySummary {
  if (isTerminal(status)) return { state: "not_rung", reason: "ended_before_create" };
  if (recipients.length === 0) return { state: "undeliverable", reason: "no_recipients" };
  return { state: "pending" };
}

function ended(now: Timestamp): { endedAt: Timestamp; endReason: EndReason } {
  return { endedAt: now, endReason: "butterflymx" };
}

/** Fields every delivery of the call repeats; the newest delivery wins, a known snapshot URL is kept. */
function callDetails(call: BmxCall, knownImageUrl: string | undefined) {
  const imageUrl = visitorImageUrl(call) ?? knownImageUrl;
  return {
    panel: { id: String(call.panel.id), name: call.panel.name },
    unit: { id: String(call.unit.id), label: String(call.unit.label) },
    bmxCall: JSON.stringify(call),
    ...(imageUrl ? { visitorImageUrl: imageUrl } : {}),
  };
}

function historyEntry(context: DeliveryContext, status: CallStatus, applied: boolean): HistoryEntry {
  const { delivery } = context;
  return { event: delivery.event, bmxStatus: delivery.bmxStatus, status, applied, via: context.via, at: context.now };
}

/** UUIDs are case-insensitive; one spelling keeps every delivery of a call on one document. */
export function canonicalGuid(guid: string): string {
  return guid.toLowerCase();
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** Where ButterflyMX puts a visitor snapshot is not documented; these are the names seen in its APIs. */
const VISITOR_IMAGE_KEYS = ["visitor_image_url", "image_url", "snapshot_url", "medium_url", "thumb_url"] as const;

/** The visitor snapshot URL, when the delivery carries a usable https one; never a reason to reject a call. */
export function visitorImageUrl(call: BmxCall): string | undefined {
  for (const key of VISITOR_IMAGE_KEYS) {
    const value = call[key];
    if (typeof value === "string" && value.length <= 2048 && /^https:\/\/[^\s]+$/.test(value)) return value;
  }
  return undefined;
}
