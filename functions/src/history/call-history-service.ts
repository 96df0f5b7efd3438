import { Timestamp } from "firebase-admin/firestore";
import { BmxCallLogEntry } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { CallLogReader } from "../butterflymx/call-log-reader";
import { CallDocument, httpsUrl } from "../calls/call-document";
import { callRef, CALLS } from "../calls/call-repository";
import { statusFromBmx } from "../calls/call-status";
import { LinkedTenant, userRef } from "../devices/user-profile";
import { GrantSession } from "../links/grant-store";
import { logs } from "../logs";
import { Boundary, pageOf, pageWindow } from "./pages";
import { HistoryDeps } from "./history-deps";
import { HistoryQuery } from "./history-schemas";

export interface CallHistoryEntry {
  guid?: string;
  /** ISO 8601. */
  at: string;
  panel: { name: string };
  unit: { label: string };
  status: string;
  visitorImageUrl?: string;
  /** Whether it rang on the caller's devices: how many were pushed to, how many a provider accepted. */
  rang?: { devices: number; sent: number };
  source: "relay" | "butterflymx" | "both";
}

export interface CallHistoryPage {
  calls: CallHistoryEntry[];
  nextCursor?: string;
  /** ButterflyMX's log could not be read: only the calls this backend recorded are listed. */
  partial?: true;
}

/** Pages of ButterflyMX's log read per request at most: a page deeper than that is answered partial. */
export const MAX_BMX_PAGES = 10;

interface Candidate extends Boundary {
  entry: CallHistoryEntry;
}

/**
 * The caller's calls, newest first: the calls this backend recorded for them, merged with their ButterflyMX call
 * log, so that calls from before linking, or whose webhook never arrived, are listed too. One entry per call
 * (matched by guid). Pages end at a boundary (time, key): a page never repeats or drops an entry, even while new
 * calls arrive. When ButterflyMX cannot be read, the answer lists our own calls and says it is partial.
 */
export async function callHistory(deps: HistoryDeps, uid: string, query: HistoryQuery): Promise<CallHistoryPage> {
  const { db } = deps;
  const { limit, newest, inRange } = pageWindow(query);

  // One round trip for all three: the grant is read even for a resident who turns out not to be linked.
  const [profile, ours, grant] = await Promise.all([
    userRef(db, uid).get(),
    ourCalls(deps, uid, newest, query.from, limit),
    GrantSession.open(db, deps.bmx, uid, { now: deps.now }),
  ]);
  const fromRelay = ours.map((call) => relayEntry(call, uid)).filter(inRange);
  const session = profile.get("butterflymx") !== undefined ? grant : undefined;
  const known = new Map(ours.map((call) => [call.guid, call.createdAt.toMillis()]));
  let fromBmx: BmxScan = { found: [], complete: true };
  let partial = false;
  if (session) {
    try {
      fromBmx = await bmxCalls(deps, session, profile.get("butterflymx.tenants") as LinkedTenant[] | undefined, limit, query.from, inRange, known);
    } catch (error) {
      if (!(error instanceof BmxError)) throw error;
      logs.historyPartial({ uid, list: "calls" }, error);
      partial = true;
    }
  }

  const merged = new Map<string, Candidate>();
  for (const candidate of fromRelay) merged.set(candidate.key, candidate);
  for (const candidate of fromBmx.found) {
    const known = merged.get(candidate.key);
    if (known) known.entry.source = "both";
    else merged.set(candidate.key, candidate);
  }
  const { page, nextCursor } = pageOf([...merged.values()], limit, ours.length === limit + TIES || fromBmx.found.length >= limit);
  return {
    calls: page.map((c) => c.entry),
    ...(nextCursor ? { nextCursor } : {}),
    ...(partial || !fromBmx.complete ? { partial: true as const } : {}),
  };
}

/** Extra calls read beyond the page, for calls that share the boundary's instant. */
const TIES = 5;

/** The caller's calls as recorded here, newest first, from `newest` down (one query: recipients + createdAt). */
async function ourCalls(deps: HistoryDeps, uid: string, newest: number, from: number | undefined, limit: number): Promise<CallDocument[]> {
  let query = deps.db.collection(CALLS).where("recipients", "array-contains", uid).orderBy("createdAt", "desc");
  if (Number.isFinite(newest)) query = query.where("createdAt", "<=", Timestamp.fromMillis(newest));
  if (from !== undefined) query = query.where("createdAt", ">=", Timestamp.fromMillis(from));
  const snapshot = await query.limit(limit + TIES).get();
  return snapshot.docs.map((doc) => doc.data() as CallDocument);
}

function relayEntry(call: CallDocument, uid: string): Candidate {
  const rang = call.delivery.recipientDevices?.[uid];
  const at = call.createdAt.toMillis();
  return {
    at,
    key: call.guid,
    entry: {
      guid: call.guid,
      at: new Date(at).toISOString(),
      panel: { name: call.panel.name },
      unit: { label: call.unit.label },
      status: call.status,
      ...(call.visitorImageUrl ? { visitorImageUrl: call.visitorImageUrl } : {}),
      ...(rang ? { rang } : {}),
      source: "relay",
    },
  };
}

/** What a scan of ButterflyMX's log found below the boundary; `complete` unless it stopped at MAX_BMX_PAGES. */
interface BmxScan {
  found: Candidate[];
  complete: boolean;
}

/**
 * The caller's ButterflyMX call log below the boundary, up to `limit` entries: read from its newest page on (its
 * pages shift as calls arrive; the boundary keeps ours from doing so), down to `from`. A call this backend also
 * recorded takes our time, so that both copies fall on the same side of every boundary.
 */
async function bmxCalls(
  deps: HistoryDeps,
  session: GrantSession,
  tenants: LinkedTenant[] | undefined,
  limit: number,
  from: number | undefined,
  inRange: (c: Boundary) => boolean,
  known: Map<string, number>,
): Promise<BmxScan> {
  const found: Candidate[] = [];
  const unitLabel = tenants?.length === 1 ? tenants[0].unitLabel : undefined;
  const log = new CallLogReader(deps.bmx, session, { maxPages: MAX_BMX_PAGES });
  for (let calls = await log.page(); calls !== undefined; calls = await log.page()) {
    const recorded = await recordedTimes(deps, calls, known);
    for (const call of calls) {
      const candidate = bmxEntry(call, recorded.get(call.guid ?? ""), unitLabel);
      if (inRange(candidate)) found.push(candidate);
    }
    const reachedFrom = from !== undefined && calls.some((c) => c.at < from);
    if (reachedFrom || found.length >= limit) return { found, complete: true };
  }
  return { found, complete: log.complete };
}

/** When this backend recorded each of these calls (by guid), for the calls it did; `known` ones are not read again. */
async function recordedTimes(deps: HistoryDeps, calls: BmxCallLogEntry[], known: Map<string, number>): Promise<Map<string, number>> {
  const guids = [...new Set(calls.flatMap((c) => (c.guid && !known.has(c.guid) ? [c.guid] : [])))];
  if (guids.length === 0) return known;
  const snapshots = await deps.db.getAll(...guids.map((guid) => callRef(deps.db, guid)));
  return new Map([...known, ...snapshots.filter((s) => s.exists).map((s) => [s.id, (s.get("createdAt") as Timestamp).toMillis()] as const)]);
}

function bmxEntry(call: BmxCallLogEntry, recordedAt: number | undefined, unitLabel: string | undefined): Candidate {
  const at = recordedAt ?? call.at;
  return {
    at,
    key: call.guid ?? `bmx:${call.id}`,
    entry: {
      ...(call.guid ? { guid: call.guid } : {}),
      at: new Date(at).toISOString(),
      panel: { name: call.panelName ?? "Intercom" },
      unit: { label: unitLabel ?? "" },
      status: call.status ? statusFromBmx(call.status) : "ended",
      ...(httpsUrl(call.imageUrl) ? { visitorImageUrl: call.imageUrl } : {}),
      source: "butterflymx",
    },
  };
}
