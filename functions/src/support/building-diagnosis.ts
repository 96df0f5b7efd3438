import { Timestamp } from "firebase-admin/firestore";
import type { CallDocument } from "../calls/call-document";
import { CALLS } from "../calls/call-repository";
import { Channel, DeviceRecord, ringRecordsOf } from "../calls/device-records";
import { BuildingWebhook, buildingWebhookRef } from "../links/building-webhooks";
import { LinkedTenant, USERS } from "../devices/user-profile";
import { HealthThresholds, providerOf } from "../health/delivery-health";
import { mapWithConcurrency } from "../shared/concurrency";
import { InvalidInput } from "../shared/errors";
import type { Check } from "./diagnose-checks";
import { DiagnoseDeps } from "./diagnose-facts";
import { diagnose, Diagnosis } from "./diagnose-service";

export const BUILDING_CHECK_IDS = ["building_webhook_silent", "building_webhook_binding", "provider_credentials", "ring_success_rate", "ring_latency"] as const;
export type BuildingCheckId = (typeof BUILDING_CHECK_IDS)[number];
export type BuildingCheck = Omit<Check, "id"> & { id: BuildingCheckId };

/** One resident of the building, as support needs to see them beside their neighbours. */
export interface ResidentSummary {
  uid: string;
  unit?: string;
  linked: boolean;
  webhookRegistered: boolean;
  /** When the last call reached this backend for them (ISO 8601). */
  lastEventAt?: string;
  /** The last ring per platform: its channel and outcome (`sent` when a provider accepted it). */
  lastRing: Record<string, { channel: string; outcome: string; errorCode?: string; at: string }>;
  /** The resident checks that fail for them (see `diagnose`). */
  failing: string[];
}

export interface BuildingDiagnosis {
  building: { id: string; name?: string };
  checkedAt: string;
  window: { from: string; to: string };
  residents: ResidentSummary[];
  checks: BuildingCheck[];
  /** One resident, several, or all; with the cause they share when one shows. */
  verdict: { scope: "none" | "one" | "several" | "all"; summary: string; residents: string[]; sharedCause?: string };
}

export interface BuildingOptions {
  /** A tenant id, building id or building name, as ButterflyMX has them on linked residents. */
  building: string;
  windowMs: number;
  thresholds: HealthThresholds;
}

/** A first ring slower than this at the 95th percentile is one a visitor at the door notices. */
export const RING_LATENCY_P95_MS = 5_000;
/** Residents diagnosed at once (each asks ButterflyMX three things). */
const CONCURRENCY = 4;

/**
 * "One resident, several, or all?" for one building: every linked resident's own diagnosis, side by side, and the
 * checks only a building shows (its webhook silent for everyone, a provider refusing our credentials, the ring
 * success rate and latency over the window), ending in a verdict that names the shared cause when one exists.
 * Reads only. Finds residents by the tenancies their link keeps (a scan of linked users: a support command).
 */
export async function diagnoseBuilding(deps: DiagnoseDeps, options: BuildingOptions): Promise<BuildingDiagnosis> {
  const now = deps.now();
  const from = now - options.windowMs;
  const users = await deps.db.collection(USERS).orderBy("butterflymx.userId").select("butterflymx").get();
  const wanted = options.building.toLowerCase();
  const matches = (t: LinkedTenant) => [t.id, t.buildingId, t.buildingName].some((value) => value?.toLowerCase() === wanted);
  const buildingId = users.docs.flatMap((doc) => ((doc.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? []).filter(matches)).find((t) => t.buildingId)?.buildingId;
  if (!buildingId) throw new InvalidInput("building", `matches no tenant, building id or building name of a linked resident ("${options.building}")`);
  const residents = users.docs.flatMap((doc) => {
    const tenant = ((doc.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? []).find((t) => t.buildingId === buildingId);
    return tenant ? [{ uid: doc.id, tenant }] : [];
  });

  const seen = await mapWithConcurrency(residents, CONCURRENCY, async ({ uid, tenant }) => {
    const [diagnosis, rings] = await Promise.all([diagnose(deps, uid), ringsInWindow(deps, uid, from)]);
    return { uid, tenant, diagnosis, rings };
  });
  const summaries = seen.map(({ uid, tenant, diagnosis, rings }) => summary(uid, tenant, diagnosis, rings));
  const binding = (await buildingWebhookRef(deps.db, buildingId).get()).data() as BuildingWebhook | undefined;
  const checks = [
    webhookSilent(seen.map(({ uid, diagnosis }) => ({ uid, diagnosis }))),
    webhookBinding(binding),
    providerCredentials(seen),
    ringSuccessRate(seen, options.thresholds),
    ringLatency(seen),
  ];
  return {
    building: { id: buildingId, ...(residents[0]?.tenant.buildingName ? { name: residents[0].tenant.buildingName } : {}) },
    checkedAt: new Date(now).toISOString(),
    window: { from: new Date(from).toISOString(), to: new Date(now).toISOString() },
    residents: summaries,
    checks,
    verdict: verdict(summaries, checks),
  };
}

interface Rings {
  calls: CallDocument[];
  records: DeviceRecord[];
}

/** The resident's calls in the window and their own devices' ring records. */
async function ringsInWindow(deps: DiagnoseDeps, uid: string, from: number): Promise<Rings> {
  const calls = await deps.db.collection(CALLS).where("recipients", "array-contains", uid).where("createdAt", ">=", Timestamp.fromMillis(from)).orderBy("createdAt", "desc").limit(100).get();
  const records = await mapWithConcurrency(calls.docs, 5, (doc) => ringRecordsOf(doc.ref, uid));
  return { calls: calls.docs.map((doc) => doc.data() as CallDocument), records: records.flat().filter((r) => r.ring.channel !== "none") };
}

function summary(uid: string, tenant: LinkedTenant, diagnosis: Diagnosis, rings: Rings): ResidentSummary {
  const lastRing: ResidentSummary["lastRing"] = {};
  for (const record of [...rings.records].sort((a, b) => b.ring.at.toMillis() - a.ring.at.toMillis())) {
    lastRing[record.platform] ??= { channel: record.ring.channel, outcome: record.ring.outcome, ...(record.ring.errorCode ? { errorCode: record.ring.errorCode } : {}), at: record.ring.at.toDate().toISOString() };
  }
  const byId = new Map(diagnosis.checks.map((check) => [check.id, check]));
  const received = diagnosis.calls.find((call) => call.received === "webhook");
  return {
    uid,
    ...(tenant.unitLabel ? { unit: tenant.unitLabel } : {}),
    linked: byId.get("account_linked")?.ok === true,
    webhookRegistered: byId.get("webhook_registered")?.ok === true,
    ...(received ? { lastEventAt: received.at } : {}),
    lastRing,
    failing: diagnosis.checks.filter((check) => !check.ok).map((check) => check.id),
  };
}

function check(id: BuildingCheckId, ok: boolean, summary: string, evidence: Record<string, unknown>, advice: string): BuildingCheck {
  return { id, ok, summary, evidence, advice: ok ? null : advice };
}

/** ButterflyMX's logs show calls that reached this backend for nobody: per resident, from their own diagnosis. */
function webhookSilent(residents: Array<{ uid: string; diagnosis: Diagnosis }>): BuildingCheck {
  const silent = residents.flatMap(({ uid, diagnosis }) => {
    const received = diagnosis.checks.find((c) => c.id === "webhook_received");
    const never = (received?.evidence.neverReceived as unknown[] | undefined) ?? [];
    return received && !received.ok ? [{ uid, neverReceived: never.length }] : [];
  });
  const evidence = { residents: residents.length, silent };
  if (silent.length === 0) return check("building_webhook_silent", true, "Every call in the residents' ButterflyMX logs reached this backend.", evidence, "");
  const calls = silent.reduce((sum, s) => sum + s.neverReceived, 0);
  return check("building_webhook_silent", false, `ButterflyMX logged ${calls} call(s) for ${silent.length} of ${residents.length} resident(s) that never reached this backend.`, evidence,
    silent.length === residents.length
      ? "No resident of the building is receiving ButterflyMX's webhooks: check that butterflymxWebhook is deployed and reachable, then ask ButterflyMX support whether the building's integrations are still delivering."
      : "Some residents' webhooks are not delivering: have those residents link their ButterflyMX account again, which registers their webhook anew.");
}

/**
 * How ButterflyMX bound the building-wide webhook (`register-building`): v4 documents only `create`, and a building
 * bound to it alone never reports an answer or a hang-up, so its calls ring on until the ring timeout.
 */
function webhookBinding(binding: BuildingWebhook | undefined): BuildingCheck {
  if (!binding) return check("building_webhook_binding", true, "No building-wide webhook is recorded: the residents' own webhooks carry the calls.", { registered: false }, "");
  const evidence = { registered: true, integrationId: binding.integrationId, actions: binding.actions ?? null, registeredAt: binding.registeredAt.toDate().toISOString() };
  if (!binding.actions || binding.actions.includes("status_update")) {
    return check("building_webhook_binding", true, `The building-wide webhook (integration ${binding.integrationId}) is bound to ${binding.actions?.join(" and ") ?? "what ButterflyMX chose"}.`, evidence, "");
  }
  return check("building_webhook_binding", false, `ButterflyMX bound the building-wide webhook (integration ${binding.integrationId}) to ${binding.actions.join(", ")} alone: answers and hang-ups are never delivered.`, evidence,
    "Calls through the building-wide webhook keep ringing until the ring timeout (RING_WINDOW_SECONDS + 3 s) or reconciliation ends them. Link residents one by one (their tenant webhooks carry status updates), or ask ButterflyMX to enable status_update for the building's integration.");
}

/** A provider refusing our credentials refuses every resident's ring through it. */
function providerCredentials(residents: Array<{ uid: string; rings: Rings }>): BuildingCheck {
  const byProvider = new Map<string, { rings: number; refused: number; residents: Set<string>; refusedResidents: Set<string> }>();
  for (const { uid, rings } of residents) {
    for (const record of rings.records) {
      const provider = providerOf(record.ring.channel as Channel);
      const entry = byProvider.get(provider) ?? { rings: 0, refused: 0, residents: new Set(), refusedResidents: new Set() };
      entry.rings++;
      entry.residents.add(uid);
      if (record.ring.outcome === "credentials") {
        entry.refused++;
        entry.refusedResidents.add(uid);
      }
      byProvider.set(provider, entry);
    }
  }
  const providers = Object.fromEntries([...byProvider].map(([provider, e]) => [provider, { rings: e.rings, refused: e.refused, residents: e.residents.size, residentsRefused: e.refusedResidents.size }]));
  const refused = Object.entries(providers).filter(([, e]) => e.refused > 0);
  if (refused.length === 0) return check("provider_credentials", true, "FCM and APNs accepted our credentials for every ring in the window.", { providers }, "");
  return check("provider_credentials", false, `${refused.map(([p, e]) => `${p.toUpperCase()} refused our credentials for ${e.refused} of ${e.rings} ring(s) (${e.residentsRefused} resident(s))`).join("; ")}.`, { providers },
    "The backend's push credentials are being refused, for every resident at once: check the APNs key (APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID: revoked or expired?) or the project's FCM permissions, then see `npm run health`.");
}

/** The share of rings a provider accepted, over the building's residents in the window. */
function ringSuccessRate(residents: Array<{ rings: Rings }>, thresholds: HealthThresholds): BuildingCheck {
  const records = residents.flatMap((r) => r.rings.records);
  const sent = records.filter((r) => r.ring.outcome === "sent").length;
  const evidence = { rings: records.length, sent, rate: records.length === 0 ? null : Math.round((sent / records.length) * 1000) / 1000 };
  if (records.length < thresholds.minRings) return check("ring_success_rate", true, `${records.length} ring(s) in the window: too few to judge (${thresholds.minRings} needed).`, evidence, "");
  const ok = 1 - sent / records.length < thresholds.failureRate;
  return check("ring_success_rate", ok, `${sent} of ${records.length} ring(s) were accepted by FCM or APNs.`, evidence,
    "Many rings were not accepted: see provider_credentials and each resident's push_tokens_valid; `npm run health` shows the reasons by provider.");
}

/** First-ring latency over the building's calls in the window (call created → first push accepted). */
function ringLatency(residents: Array<{ rings: Rings }>): BuildingCheck {
  const calls = new Map(residents.flatMap((r) => r.rings.calls).map((call) => [call.guid, call]));
  const latencies = [...calls.values()].flatMap((call) => (call.delivery.firstRingMs === undefined ? [] : [call.delivery.firstRingMs])).sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  const evidence = { calls: latencies.length, p50Ms: latencies.length ? at(50) : null, p95Ms: latencies.length ? at(95) : null, limitMs: RING_LATENCY_P95_MS };
  if (latencies.length === 0) return check("ring_latency", true, "No call rang in the window.", evidence, "");
  const ok = at(95) <= RING_LATENCY_P95_MS;
  return check("ring_latency", ok, `First ring after ${evidence.p50Ms} ms (median) and ${evidence.p95Ms} ms (95th percentile) over ${latencies.length} call(s).`, evidence,
    "Rings leave slowly: keep the webhook warm (CALL_MIN_INSTANCES=1) and check the providers' latency (device records' latencyMs).");
}

function verdict(residents: ResidentSummary[], checks: BuildingCheck[]): BuildingDiagnosis["verdict"] {
  const affected = residents.filter((r) => r.failing.length > 0);
  const buildingWide = checks.filter((c) => !c.ok).map((c) => c.id);
  const names = (list: ResidentSummary[]) => list.map((r) => `${r.uid}${r.unit ? ` (${r.unit})` : ""}`).join(", ");
  if (affected.length === 0 && buildingWide.length === 0) return { scope: "none", summary: "Every resident passes every check.", residents: [] };
  if (affected.length === residents.length && residents.length > 1) {
    const common = residents.slice(1).reduce((shared, r) => shared.filter((id) => r.failing.includes(id)), residents[0].failing);
    const cause = buildingWide[0] ?? common[0];
    return {
      scope: "all",
      summary: `All ${residents.length} residents are affected${cause ? `; the shared cause: ${cause}` : ", each for a reason of their own"}.`,
      residents: residents.map((r) => r.uid),
      ...(cause ? { sharedCause: cause } : {}),
    };
  }
  const also = buildingWide.length > 0 ? ` The building fails ${buildingWide.join(", ")} too.` : "";
  if (affected.length === 1) {
    return { scope: "one", summary: `One resident is affected: ${names(affected)}, by ${affected[0].failing.join(", ")}; the others pass.${also}`, residents: [affected[0].uid] };
  }
  if (affected.length === 0) return { scope: "all", summary: `No resident fails a check of their own, but the building does: ${buildingWide.join(", ")}.`, residents: residents.map((r) => r.uid), sharedCause: buildingWide[0] };
  return { scope: "several", summary: `${affected.length} of ${residents.length} residents are affected: ${names(affected)}.${also}`, residents: affected.map((r) => r.uid) };
}
