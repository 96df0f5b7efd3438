import { DocumentSnapshot, FieldPath, Firestore, Timestamp } from "firebase-admin/firestore";
import type { BmxCallLogEntry, ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { CallLogReader } from "../butterflymx/call-log-reader";
import { devicesRef } from "../devices/device-registry";
import { LinkedTenant, userRef } from "../devices/user-profile";
import { bmxUserRef, linkedUids } from "../links/bmx-users";
import { GrantSession, GRANTS } from "../links/grant-store";
import { logs } from "../logs";
import { mapWithConcurrency } from "../shared/concurrency";
import { CallDocument, reconciledCall } from "./call-document";
import { callRef, endRingingCall, recordLateStatus, recordReconciledCall } from "./call-repository";
import { isTerminal, statusFromBmx } from "./call-status";
import { RING_TIMEOUT_GRACE_MS } from "./ring-timeout-queue";

/** `system/reconcileCalls`: where the last run stopped (`cursor`, a uid) and how it went. Server only. */
export const RECONCILE_STATE = "system/reconcileCalls";

export interface ReconcileDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  now: () => number;
  ringWindowMs: number;
  retentionDays: number;
}

/** Bounds of one run; every one of them has a default (RECONCILE_DEFAULTS). */
export interface ReconcileOptions {
  /** Residents looked at per run; the next run goes on after the last one. */
  maxResidents: number;
  /** Pages of each resident's ButterflyMX call log read, at most. */
  maxPages: number;
  /**
   * Time after which no further resident is started. Under Cloud Scheduler's attempt deadline (3 minutes by
   * default, and firebase-tools sets none), less the time one resident may still take, so a run ends before its job
   * is marked failed.
   */
  budgetMs: number;
  /** How far back in each log calls are compared. */
  lookbackMs: number;
  /** A resident counts as active when a device registered or refreshed, or they linked, within this. */
  activeMs: number;
  /** Residents worked on at once. */
  concurrency: number;
  /** These residents only, whatever their activity, leaving the run's cursor alone (`npm run reconcile -- --uid`). */
  uids?: string[];
}

export const RECONCILE_DEFAULTS: ReconcileOptions = {
  maxResidents: 200,
  maxPages: 3,
  budgetMs: 120_000,
  lookbackMs: 24 * 3_600_000,
  activeMs: 30 * 86_400_000,
  concurrency: 4,
};

/**
 * Past the ring window and the ring timeout's grace, how much longer a call is left to its webhook and its ring
 * timeout (still on their way) before reconciliation looks at it.
 */
const RECONCILE_AFTER_MS = 60_000;

/** What a run did for one resident: their log checked (and repaired where it had to be), skipped, or failed. */
export type ResidentReport =
  | { uid: string; result: "checked"; recorded: number; ended: number; statuses: number }
  | { uid: string; result: "skipped"; reason: "inactive" | "not_linked" | "grant_invalid" }
  | { uid: string; result: "failed"; reason: string };

export interface ReconcileReport {
  residents: ResidentReport[];
  /** Calls recorded from ButterflyMX's log that never reached us. */
  recorded: number;
  /** Calls left ringing that ended here. */
  ended: number;
  /** Final statuses recorded late on calls we had ended ourselves. */
  statuses: number;
  /** The run went through the last resident (the next starts from the first again). */
  wrapped: boolean;
  /** The run stopped at its time budget before its page of residents was done. */
  outOfTime: boolean;
}

/**
 * Compares linked residents' ButterflyMX call logs with our calls and repairs the gaps a lost webhook leaves: a call
 * ButterflyMX logged that never reached us is recorded (over, never rung), a call left ringing ends with
 * ButterflyMX's status (or as missed), a call we ended ourselves gets ButterflyMX's final status. Nothing here
 * rings. Bounded (residents, pages, time) and resumable: each run starts after the resident the last one finished;
 * every repair is conditional, so a run that dies midway, or two at once, repair each call once. A resident whose
 * grant is dead, or whose log cannot be read, is reported and skipped; the run goes on.
 */
export async function reconcileCalls(deps: ReconcileDeps, options: Partial<ReconcileOptions> = {}): Promise<ReconcileReport> {
  const opts = { ...RECONCILE_DEFAULTS, ...options };
  const startedAt = deps.now();
  const stateRef = deps.db.doc(RECONCILE_STATE);
  const cursor = opts.uids ? undefined : ((await stateRef.get()).get("cursor") as string | undefined);
  const uids = opts.uids ?? (await residentsAfter(deps.db, cursor, opts.maxResidents));
  const wrapped = !opts.uids && uids.length < opts.maxResidents;

  const residents: ResidentReport[] = [];
  let outOfTime = false;
  for (let i = 0; i < uids.length; i += opts.concurrency) {
    if (deps.now() - startedAt > opts.budgetMs) {
      outOfTime = true;
      break;
    }
    const batch = uids.slice(i, i + opts.concurrency);
    residents.push(...(await mapWithConcurrency(batch, opts.concurrency, (uid) => reconcileResident(deps, opts, uid))));
    // Saved as it goes: a run that dies here is taken over by the next one from this resident on.
    if (!opts.uids) await stateRef.set({ cursor: batch.at(-1), updatedAt: Timestamp.fromMillis(deps.now()) }, { merge: true });
  }
  const report = summarise(residents, wrapped && !outOfTime, outOfTime);
  if (!opts.uids && report.wrapped) await stateRef.set({ cursor: "", wrappedAt: Timestamp.fromMillis(deps.now()) }, { merge: true });
  logs.reconcileFinished({
    residents: residents.length,
    failed: residents.filter((r) => r.result === "failed").length,
    recorded: report.recorded,
    ended: report.ended,
    statuses: report.statuses,
    wrapped: report.wrapped,
    outOfTime,
  });
  return report;
}

/** Linked residents (one grant each), in uid order after `cursor`. */
async function residentsAfter(db: Firestore, cursor: string | undefined, limit: number): Promise<string[]> {
  let query = db.collection(GRANTS).orderBy(FieldPath.documentId()).select();
  if (cursor) query = query.startAfter(cursor);
  return (await query.limit(limit).get()).docs.map((doc) => doc.id);
}

function summarise(residents: ResidentReport[], wrapped: boolean, outOfTime: boolean): ReconcileReport {
  const sum = (key: "recorded" | "ended" | "statuses") => residents.reduce((n, r) => n + (r.result === "checked" ? r[key] : 0), 0);
  return { residents, recorded: sum("recorded"), ended: sum("ended"), statuses: sum("statuses"), wrapped, outOfTime };
}

async function reconcileResident(deps: ReconcileDeps, opts: ReconcileOptions, uid: string): Promise<ResidentReport> {
  try {
    return await repairResident(deps, opts, uid);
  } catch (error) {
    // One resident's dead grant, unreadable log or failed write never stops the others.
    const reason = error instanceof BmxError ? `butterflymx_${error.kind}` : "error";
    logs.reconcileResidentFailed({ uid, reason }, error);
    return { uid, result: "failed", reason };
  }
}

async function repairResident(deps: ReconcileDeps, opts: ReconcileOptions, uid: string): Promise<ResidentReport> {
  const { db } = deps;
  const now = deps.now();
  const [profile, recentDevices, session] = await Promise.all([
    userRef(db, uid).get(),
    devicesRef(db, uid).where("updatedAt", ">=", Timestamp.fromMillis(now - opts.activeMs)).limit(1).get(),
    GrantSession.open(db, deps.bmx, uid, { now: deps.now }),
  ]);
  const link = profile.get("butterflymx") as { userId?: string; linkedAt?: Timestamp; tenants?: LinkedTenant[] } | undefined;
  if (!link?.userId || !session) return skipped(uid, "not_linked");
  if (session.dead) return skipped(uid, "grant_invalid");
  const linkedRecently = (link.linkedAt?.toMillis() ?? 0) >= now - opts.activeMs;
  if (!opts.uids && recentDevices.empty && !linkedRecently) return skipped(uid, "inactive");

  const since = Math.max(now - opts.lookbackMs, link.linkedAt?.toMillis() ?? 0);
  const settled = now - deps.ringWindowMs - RING_TIMEOUT_GRACE_MS - RECONCILE_AFTER_MS;
  const counts = { recorded: 0, ended: 0, statuses: 0 };
  let recipients: string[] | undefined;
  const log = new CallLogReader(deps.bmx, session, { maxPages: opts.maxPages });
  for (let calls = await log.page(); calls !== undefined; calls = await log.page()) {
    const due = calls.filter((c): c is BmxCallLogEntry & { guid: string } => c.guid !== undefined && c.at >= since && c.at <= settled);
    const snapshots = due.length > 0 ? await db.getAll(...due.map((c) => callRef(db, c.guid))) : [];
    for (const [index, entry] of due.entries()) {
      const snapshot = snapshots[index];
      if (!snapshot.exists) {
        recipients ??= [...linkedUids((await bmxUserRef(db, link.userId).get()).get("uids")), uid];
        if (await recordMissing(deps, entry, link, recipients)) counts.recorded++;
      } else {
        const repaired = await repairKnown(deps, entry, snapshot, uid, settled);
        if (repaired) counts[repaired]++;
      }
    }
    if (calls.some((c) => c.at < since)) break;
  }
  return { uid, result: "checked", ...counts };
}

function skipped(uid: string, reason: "inactive" | "not_linked" | "grant_invalid"): ResidentReport {
  logs.reconcileResidentSkipped({ uid, reason });
  return { uid, result: "skipped", reason };
}

async function recordMissing(
  deps: ReconcileDeps,
  entry: BmxCallLogEntry & { guid: string },
  link: { userId?: string; tenants?: LinkedTenant[] },
  recipients: string[],
): Promise<boolean> {
  const tenant = link.tenants?.length === 1 ? link.tenants[0] : undefined;
  const call = reconciledCall(
    {
      guid: entry.guid,
      at: entry.at,
      ...(entry.status ? { bmxStatus: entry.status } : {}),
      bmxUserId: link.userId!,
      recipients,
      panel: { id: entry.panelId ?? "", name: entry.panelName ?? "Intercom" },
      unit: { id: tenant?.unitId ?? "", label: tenant?.unitLabel ?? "" },
      ...(entry.imageUrl ? { visitorImageUrl: entry.imageUrl } : {}),
    },
    Timestamp.fromMillis(deps.now()),
    deps.retentionDays,
  );
  const recorded = await recordReconciledCall(deps.db, call);
  if (recorded) logs.callReconciled({ guid: call.guid, repair: "recorded", status: call.status, bmxStatus: call.bmxStatus });
  return recorded;
}

/** A call we know of, which ButterflyMX's log may know more about: ended here if left ringing, or its final status. */
async function repairKnown(
  deps: ReconcileDeps,
  entry: BmxCallLogEntry & { guid: string },
  snapshot: DocumentSnapshot,
  uid: string,
  settled: number,
): Promise<"ended" | "statuses" | undefined> {
  const call = snapshot.data() as CallDocument;
  // Another user's call (a guid shared across a unit's residents) is theirs to repair.
  if (!call.recipients.includes(uid)) return undefined;
  const now = Timestamp.fromMillis(deps.now());
  if (call.status === "ringing") {
    if (call.createdAt.toMillis() > settled) return undefined;
    const ended = await endRingingCall(deps.db, call.guid, entry.status, now, "reconciled");
    if (ended) logs.callReconciled({ guid: call.guid, repair: "ended", status: ended, bmxStatus: entry.status ?? null });
    return ended ? "ended" : undefined;
  }
  if (!entry.status || !isTerminal(statusFromBmx(entry.status))) return undefined;
  const recorded = await recordLateStatus(deps.db, call.guid, entry.status, now);
  if (recorded) logs.callReconciled({ guid: call.guid, repair: "status", status: call.status, bmxStatus: entry.status });
  return recorded ? "statuses" : undefined;
}
