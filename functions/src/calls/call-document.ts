import { Timestamp } from "firebase-admin/firestore";
import type { BmxCall, CallEvent, CallEventKind } from "../butterflymx/call-events";
import { BMX_RINGING_STATUS } from "../butterflymx/call-statuses";
import { CallStatus, isTerminal, nextStatus, statusFromBmx } from "./call-status";

/**
 * Who ended the ringing: ButterflyMX reported a terminal status, our ring timeout found it still ringing, or
 * reconciliation found it in ButterflyMX's call log with no final status (or found a call we never received).
 */
export type EndReason = "butterflymx" | "ring_timeout" | "reconciled";

/** Why we ended a call ButterflyMX left ringing, in its own words (`endReason`): our ring timeout, or reconciliation. */
export type OwnEnding = Exclude<EndReason, "butterflymx">;

/** The history's `via` for what each of them writes: the path an entry came by, not a reason. */
const VIA: Readonly<Record<OwnEnding, string>> = { ring_timeout: "ring_timeout", reconciled: "reconcile" };

/** One event as the call remembers it. `applied` says whether it set the call's status. */
export interface HistoryEntry {
  /**
   * The ButterflyMX event, `ring_timeout` (our missed-call timeout ended the call) or `reconciled` (reconciliation
   * ended it, or recorded it from ButterflyMX's call log).
   */
  event: CallEventKind | "ring_timeout" | "reconciled";
  bmxStatus: string;
  status: CallStatus;
  applied: boolean;
  via: string;
  at: Timestamp;
}

/** A claim on the call's ring or stop: who holds it and until when (renewed while it works; see leases.ts). */
export interface Lease {
  holder: string;
  until: Timestamp;
}

/**
 * Delivery of the call to phones. The webhook writes the first state: `ringing` (its request holds the ring's claim
 * and rings), `undeliverable` (nobody is linked to the called ButterflyMX user) or `not_rung` (the call had ended
 * before we first heard of it); `pending` when it is not to ring itself (a trigger claims it). The ring moves
 * `ringing` → `rung` | `failed` | `undeliverable` (again `ringing` for recipients added later), and the stop
 * (the webhook's request that ends the call, or a trigger) fills `stop`.
 */
export interface DeliverySummary {
  state: "pending" | "ringing" | "rung" | "failed" | "undeliverable" | "not_rung";
  reason?: string;
  ringClaimedAt?: Timestamp;
  ringFinishedAt?: Timestamp;
  /** The ring in progress. */
  ringLease?: Lease;
  /** A ring died after it may have sent pushes, before recording them: the stop reaches every device of the recipients. */
  interrupted?: boolean;
  /** Per recipient uid: `rung`, `failed`, `no_devices`, `do_not_disturb` or `phone_call`. */
  recipients?: Record<string, string>;
  /** Per recipient uid: how many of their devices were pushed to, and how many pushes a provider accepted. */
  recipientDevices?: Record<string, { devices: number; sent: number }>;
  devices?: number;
  sent?: number;
  failed?: number;
  pruned?: number;
  firstRingMs?: number;
  /**
   * `unreachable`: devices with no stop channel (iOS VoIP-only) or unregistered since the ring. `allDevices`: the
   * stop reached every current device of the recipients, not only those the ring recorded.
   */
  stop?: {
    state: "stopping" | "stopped";
    claimedAt: Timestamp;
    finishedAt?: Timestamp;
    lease?: Lease;
    allDevices?: boolean;
    devices: number;
    sent: number;
    failed: number;
    unreachable: number;
  };
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
  createdAt: Timestamp;
  updatedAt: Timestamp;
  endedAt?: Timestamp;
  endReason?: EndReason;
  history: HistoryEntry[];
  delivery: DeliverySummary;
  /** The latest door release a recipient asked for from this call (`releaseDoor`), live for every recipient's app. */
  doorRelease?: DoorReleaseMark;
  expireAt: Timestamp;
}

export interface DoorReleaseMark {
  requestedAt: Timestamp;
  result: "pending" | "released" | "refused" | "failed" | "unknown";
  /** The recipient who asked; removed with their account when it is deleted (the others keep the call). */
  by?: string;
}

/** Distinct events a call remembers; ButterflyMX sends a handful, so the cap only bounds abuse. */
export const MAX_HISTORY = 32;

export interface EventContext {
  event: CallEvent;
  /** Uids to ring for this event, already resolved. */
  recipients: string[];
  /** Which integration sent it, for the history (`tenant:<id>` or `operator`). */
  via: string;
  now: Timestamp;
  retentionDays: number;
}

export type CallChange =
  | { kind: "create"; document: CallDocument }
  | { kind: "update"; fields: Partial<CallDocument> }
  | { kind: "none" };

/** What one event does to the call: the change to write, and what the webhook answers. */
export interface AppliedEvent {
  change: CallChange;
  status: CallStatus;
  /** The call's recipients after the event. */
  recipients: string[];
  /** The same event (create, or this status) was already recorded for the call. */
  duplicate: boolean;
  /**
   * The ButterflyMX call object this event carried, unknown fields included, as JSON text, when it is new to the
   * call: kept server-side beside the call (names, email, SIP user are not for the recipients' apps).
   */
  bmxCall?: string;
}

/**
 * Applies one ButterflyMX event to the call as stored (undefined when first seen). Pure: the repository writes
 * the result only onto the version it was decided on, so concurrent and repeated events converge on one document.
 */
export function applyCallEvent(existing: CallDocument | undefined, context: EventContext): AppliedEvent {
  const { event, now } = context;
  const incoming = statusFromBmx(event.bmxStatus);
  if (!existing) {
    const document = newCall(context, incoming);
    return { change: { kind: "create", document }, status: incoming, recipients: document.recipients, duplicate: false, bmxCall: JSON.stringify(event.call) };
  }

  const recipients = union(existing.recipients, context.recipients);
  const recipientsChanged = recipients.length !== existing.recipients.length;
  const duplicate = existing.history.some((h) => h.event === event.kind && h.bmxStatus === event.bmxStatus);
  if (duplicate) {
    const change: CallChange = recipientsChanged ? { kind: "update", fields: { recipients, updatedAt: now } } : { kind: "none" };
    return { change, status: existing.status, recipients, duplicate: true };
  }

  const status = nextStatus(existing.status, incoming);
  const applied = status !== existing.status;
  const fields: Partial<CallDocument> = {
    ...callDetails(event.call, existing.visitorImageUrl),
    recipients,
    updatedAt: now,
  };
  if (applied) {
    fields.status = status;
    fields.bmxStatus = event.bmxStatus;
    if (isTerminal(status)) Object.assign(fields, ended(now));
  } else if (endedWithoutButterflyMx(existing) && isTerminal(incoming)) {
    // ButterflyMX's own ending, late: it is what ButterflyMX says now, but the call stays as our timeout ended it.
    fields.bmxStatus = event.bmxStatus;
  }
  if (existing.history.length < MAX_HISTORY) {
    fields.history = [...existing.history, historyEntry(context, incoming, applied)];
  }
  return { change: { kind: "update", fields }, status, recipients, duplicate: false, bmxCall: JSON.stringify(event.call) };
}

function newCall(context: EventContext, status: CallStatus): CallDocument {
  const { event, now } = context;
  const recipients = union([], context.recipients);
  const document: CallDocument = {
    guid: canonicalGuid(event.call.guid),
    status,
    bmxStatus: event.bmxStatus,
    recipients,
    bmxUserId: String(event.call.user.id),
    ...callDetails(event.call, undefined),
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

/** Fields every event of the call repeats; the newest event wins, a known snapshot URL is kept. */
function callDetails(call: BmxCall, knownImageUrl: string | undefined) {
  const imageUrl = visitorImageUrl(call) ?? knownImageUrl;
  return {
    panel: { id: String(call.panel.id), name: call.panel.name },
    unit: { id: String(call.unit.id), label: String(call.unit.label) },
    ...(imageUrl ? { visitorImageUrl: imageUrl } : {}),
  };
}

function historyEntry(context: EventContext, status: CallStatus, applied: boolean): HistoryEntry {
  const { event } = context;
  return { event: event.kind, bmxStatus: event.bmxStatus, status, applied, via: context.via, at: context.now };
}

/** UUIDs are case-insensitive; one spelling keeps every event of a call on one document. */
export function canonicalGuid(guid: string): string {
  return guid.toLowerCase();
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** Where ButterflyMX puts a visitor snapshot is not documented; these are the names seen in its APIs. */
const VISITOR_IMAGE_KEYS = ["visitor_image_url", "image_url", "snapshot_url", "medium_url", "thumb_url"] as const;

/** The visitor snapshot URL, when the event carries a usable https one; never a reason to reject a call. */
export function visitorImageUrl(call: BmxCall): string | undefined {
  for (const key of VISITOR_IMAGE_KEYS) {
    const value = httpsUrl(call[key]);
    if (value) return value;
  }
  return undefined;
}

/** A URL the apps may load as the visitor snapshot: https, no whitespace, of a sane length. */
export function httpsUrl(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= 2048 && /^https:\/\/[^\s]+$/.test(value) ? value : undefined;
}

/**
 * How a call still `ringing` after its window ends (ring timeout or reconciliation): with ButterflyMX's terminal
 * status when it has one (`bmxStatus`, asked just before), otherwise as `missed`. A later ButterflyMX status is
 * recorded but never reopens it (`applyCallEvent`).
 */
export function timeoutEnding(existing: CallDocument, bmxStatus: string | undefined, now: Timestamp, reason: OwnEnding = "ring_timeout"): Partial<CallDocument> {
  const told = bmxStatus !== undefined && isTerminal(statusFromBmx(bmxStatus)) ? bmxStatus : undefined;
  const status: CallStatus = told ? statusFromBmx(told) : "missed";
  const entry: HistoryEntry = told
    ? { event: "status_update", bmxStatus: told, status, applied: true, via: VIA[reason], at: now }
    : { event: reason, bmxStatus: existing.bmxStatus, status, applied: true, via: VIA[reason], at: now };
  return {
    status,
    ...(told ? { bmxStatus: told } : {}),
    endedAt: now,
    endReason: told ? "butterflymx" : reason,
    updatedAt: now,
    ...(existing.history.length < MAX_HISTORY ? { history: [...existing.history, entry] } : {}),
  };
}

/** Whether the call's end was our own guess (timeout or reconciliation), so that ButterflyMX's late status is news. */
export function endedWithoutButterflyMx(call: CallDocument): boolean {
  return call.endReason === "ring_timeout" || call.endReason === "reconciled";
}

/** A call of ButterflyMX's log that never reached this backend, as reconciliation found it. */
export interface LoggedCall {
  guid: string;
  /** When the visitor called (epoch ms). */
  at: number;
  /** ButterflyMX's status in its log, when it gives one. */
  bmxStatus?: string;
  bmxUserId: string;
  recipients: string[];
  panel: { id: string; name: string };
  unit: { id: string; label: string };
  visitorImageUrl?: string;
}

/**
 * The call reconciliation records for a call ButterflyMX logged but never delivered: already over (ButterflyMX's
 * terminal status, or `missed`), never rung (`delivery.state: "not_rung"`), dated when the visitor called.
 */
export function reconciledCall(logged: LoggedCall, now: Timestamp, retentionDays: number): CallDocument {
  const bmxStatus = logged.bmxStatus ?? BMX_RINGING_STATUS;
  const told = statusFromBmx(bmxStatus);
  const status: CallStatus = isTerminal(told) ? told : "missed";
  return {
    guid: canonicalGuid(logged.guid),
    status,
    bmxStatus,
    recipients: union([], logged.recipients),
    bmxUserId: logged.bmxUserId,
    panel: logged.panel,
    unit: logged.unit,
    ...(httpsUrl(logged.visitorImageUrl) ? { visitorImageUrl: logged.visitorImageUrl } : {}),
    createdAt: Timestamp.fromMillis(logged.at),
    updatedAt: now,
    endedAt: now,
    endReason: "reconciled",
    history: [{ event: "reconciled", bmxStatus, status, applied: true, via: VIA.reconciled, at: now }],
    delivery: { state: "not_rung", reason: "reconciled" },
    expireAt: Timestamp.fromMillis(logged.at + retentionDays * 86_400_000),
  };
}

/**
 * ButterflyMX's final status, learnt late by reconciliation, for a call we ended ourselves: kept in `bmxStatus` and
 * the history, never changing `status` (as a late webhook would). Undefined when there is nothing new to record.
 */
export function lateStatus(existing: CallDocument, bmxStatus: string, now: Timestamp): Partial<CallDocument> | undefined {
  const status = statusFromBmx(bmxStatus);
  if (!endedWithoutButterflyMx(existing) || !isTerminal(status)) return undefined;
  if (existing.bmxStatus === bmxStatus || existing.history.some((h) => h.bmxStatus === bmxStatus)) return undefined;
  const entry: HistoryEntry = { event: "status_update", bmxStatus, status, applied: false, via: VIA.reconciled, at: now };
  return { bmxStatus, updatedAt: now, ...(existing.history.length < MAX_HISTORY ? { history: [...existing.history, entry] } : {}) };
}
