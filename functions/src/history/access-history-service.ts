import { Timestamp } from "firebase-admin/firestore";
import { BmxAccessLogEntry } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { LinkedTenant, userRef } from "../devices/user-profile";
import { AccessLogDocument, accessLogsOf } from "../doors/access-logs";
import { GrantSession } from "../links/grant-store";
import { logs } from "../logs";
import { Boundary, pageOf, pageWindow } from "./pages";
import { HistoryDeps } from "./history-deps";
import { HistoryQuery } from "./history-schemas";

export interface AccessHistoryEntry {
  id: string;
  /** ISO 8601. */
  at: string;
  /** The access point's id, or the panel's name for a door opened from a call. */
  accessPoint: string;
  /** The door in words: the access point's name as ButterflyMX lists it, the calling panel's name, or its id. */
  door: string;
  result: string;
  /** How the door was opened, in ButterflyMX's words ("App call", "API", "Swipe to open", `access_tool`, …). */
  method?: string;
  callGuid?: string;
  source: "relay" | "butterflymx" | "both";
}

export interface AccessHistoryPage {
  entries: AccessHistoryEntry[];
  nextCursor?: string;
  /** ButterflyMX's access log could not be read: only the releases made through this backend are listed. */
  partial?: true;
}

/** How far apart our request and ButterflyMX's log entry of one release may be. */
export const MATCH_WINDOW_MS = 60_000;
/** Extra entries read beyond the page, for entries that share the boundary's instant. */
const TIES = 5;

interface Candidate extends Boundary {
  entry: AccessHistoryEntry;
}

/**
 * The caller's door releases, newest first: those made through this backend (`accessLogs`) merged with their
 * buildings' ButterflyMX access logs (a resident's token sees their own entries), one entry per release: a
 * ButterflyMX entry of the same kind within a minute of one of ours is that release. Pages end at a boundary, as in
 * the call history; ButterflyMX filters by date itself (`q[logged_at_lteq]`, a date we format), so a page is one
 * request per building. When ButterflyMX cannot be read, the answer lists our own releases and says it is partial.
 */
export async function accessHistory(deps: HistoryDeps, uid: string, query: HistoryQuery): Promise<AccessHistoryPage> {
  const { db } = deps;
  const { limit, newest, inRange } = pageWindow(query);

  // Ours are read a match window above the boundary too: a ButterflyMX entry just below it may be a release
  // listed (merged) on the page before.
  let ourQuery = accessLogsOf(db, uid).orderBy("requestedAt", "desc");
  if (Number.isFinite(newest)) ourQuery = ourQuery.where("requestedAt", "<=", Timestamp.fromMillis(newest + MATCH_WINDOW_MS));
  if (query.from !== undefined) ourQuery = ourQuery.where("requestedAt", ">=", Timestamp.fromMillis(query.from - MATCH_WINDOW_MS));
  const [profile, ours, grant] = await Promise.all([
    userRef(db, uid).get(),
    ourQuery.limit(limit + TIES * 4).get(),
    GrantSession.open(db, deps.bmx, uid, { now: deps.now }),
  ]);
  const tenants = (profile.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? [];
  const names = new Map(tenants.flatMap((t) => t.accessPoints ?? []).flatMap((point) => (point.name ? [[point.id, point.name] as const] : [])));
  const relay = ours.docs.map((doc) => relayEntry(doc.id, doc.data() as AccessLogDocument, names));

  const buildings = [...new Set(tenants.flatMap((t) => (t.buildingId ? [t.buildingId] : [])))];
  const session = buildings.length > 0 ? grant : undefined;
  let fromBmx: BmxAccessLogEntry[] = [];
  let bmxFull = false;
  let partial = false;
  if (session) {
    try {
      const pages = await Promise.all(
        buildings.map((buildingId) => deps.bmx.accessLog(session, buildingId, {
          page: 1,
          per: limit + TIES,
          ...(query.from !== undefined ? { from: query.from } : {}),
          ...(Number.isFinite(newest) ? { to: newest } : {}),
        })),
      );
      fromBmx = pages.flatMap((p) => p.entries);
      bmxFull = pages.some((p) => p.more);
    } catch (error) {
      if (!(error instanceof BmxError)) throw error;
      logs.historyPartial({ uid, list: "access" }, error);
      partial = true;
    }
  }

  const unmatched = new Set(relay);
  const candidates: Candidate[] = [];
  for (const entry of [...fromBmx].sort((a, b) => b.at - a.at)) {
    // The nearest in time: our releases a moment apart (ButterflyMX logs whole seconds) each keep their own twin,
    // even when only some of them are within this page.
    const twin = nearest([...unmatched].filter((ours) => sameRelease(ours, entry)), entry.at);
    if (twin) {
      unmatched.delete(twin);
      twin.entry.source = "both";
      continue;
    }
    candidates.push(bmxEntry(entry, names));
  }
  const { page, nextCursor } = pageOf([...relay, ...candidates].filter(inRange), limit, ours.size === limit + TIES * 4 || bmxFull);
  return {
    entries: page.map((c) => c.entry),
    ...(nextCursor ? { nextCursor } : {}),
    ...(partial ? { partial: true as const } : {}),
  };
}

function nearest<T extends { at: number }>(candidates: T[], at: number): T | undefined {
  return candidates.reduce<T | undefined>((best, candidate) => (best === undefined || Math.abs(candidate.at - at) < Math.abs(best.at - at) ? candidate : best), undefined);
}

/** Our request and ButterflyMX's entry are one release: the same way of opening, within the window, the same door. */
function sameRelease(ours: Candidate & { accessPointId?: string }, entry: BmxAccessLogEntry): boolean {
  if (ours.entry.source !== "relay" || ours.entry.method !== entry.method) return false;
  if (Math.abs(ours.at - entry.at) > MATCH_WINDOW_MS) return false;
  return ours.accessPointId === undefined || entry.accessPoint === undefined || ours.accessPointId === entry.accessPoint;
}

/** Our own request, in ButterflyMX's words for how it opened the door. */
function relayEntry(id: string, log: AccessLogDocument, names: Map<string, string>): Candidate & { accessPointId?: string } {
  const at = log.requestedAt.toMillis();
  return {
    at,
    key: id,
    ...(log.accessPointId ? { accessPointId: log.accessPointId } : {}),
    entry: {
      id,
      at: new Date(at).toISOString(),
      accessPoint: log.accessPointId ?? log.panel?.name ?? "door",
      door: doorName(log.accessPointId, names) ?? log.panel?.name ?? "the calling panel",
      result: log.result,
      method: log.method === "in_call" ? "App call" : "API",
      ...(log.callGuid ? { callGuid: log.callGuid } : {}),
      source: "relay",
    },
  };
}

const RELEASE_STATUS: Readonly<Record<string, string>> = { unlocked: "released", locked: "refused" };

/** An access point's name as ButterflyMX lists it for the caller's buildings, else its id in words. */
function doorName(accessPointId: string | undefined, names: Map<string, string>): string | undefined {
  return accessPointId === undefined ? undefined : (names.get(accessPointId) ?? `Access point ${accessPointId}`);
}

function bmxEntry(entry: BmxAccessLogEntry, names: Map<string, string>): Candidate {
  const status = entry.releaseStatus?.toLowerCase();
  return {
    at: entry.at,
    key: `bmx:${entry.id}`,
    entry: {
      id: `bmx:${entry.id}`,
      at: new Date(entry.at).toISOString(),
      accessPoint: entry.accessPoint ?? "unknown",
      door: doorName(entry.accessPoint, names) ?? "a door",
      result: (status && RELEASE_STATUS[status]) ?? status ?? "unknown",
      ...(entry.method ? { method: entry.method } : {}),
      source: "butterflymx",
    },
  };
}
