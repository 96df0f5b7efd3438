import { Firestore, Timestamp } from "firebase-admin/firestore";
import { AudienceMember, loadAudience } from "../devices/audience";
import { logs } from "../logs";
import { PushResult } from "../push/fan-out";
import { claimRing, recordRing, releaseRing, RingSummary, SeenCall } from "./call-claims";
import { CallDocument } from "./call-document";
import { callRef } from "./call-repository";
import { DeliveryDocument } from "./delivery-records";
import { PushDeps } from "./push-deps";
import { PushPlan, ringInfo, ringPlan } from "./push-plan";
import { pushRecord, sendPushes } from "./send-pushes";
import { stopDevices } from "./stop-service";

/**
 * Rings every device of every recipient of a new call, once: claims the ring, skips recipients whose settings
 * say no, sends over FCM and APNs in parallel with short retries inside the ring window, prunes dead tokens
 * and records each device's outcome. When the call ended while we were sending, stops what it rang.
 */
export async function ringCall(guid: string, deps: PushDeps, seen?: SeenCall): Promise<RingSummary | { skipped: string }> {
  const { db } = deps;
  const claimedAt = Timestamp.fromMillis(deps.now());
  // With the trigger's version of the call, the recipients' devices are read while the claim is written.
  const [claimed, early] = await Promise.allSettled([
    claimRing(db, guid, claimedAt, deps.ringWindowMs, seen),
    seen && seen.call.status === "ringing" ? loadAudience(db, seen.call.recipients) : Promise.resolve(undefined),
  ]);
  if (claimed.status === "rejected") throw claimed.reason;
  const claim = claimed.value;
  if (!claim.claimed) {
    logs.ringSkipped({ guid, reason: claim.reason });
    return { skipped: claim.reason };
  }
  const { call } = claim;
  let audience: AudienceMember[];
  try {
    if (early.status === "rejected") throw early.reason;
    audience = early.value && sameMembers(seen!.call.recipients, call.recipients) ? early.value : await loadAudience(db, call.recipients);
  } catch (error) {
    // Nobody has been rung yet: give the claim back, or the retried trigger would find it taken and ring nobody.
    await releaseRing(db, guid, claimedAt).catch((releaseError: unknown) => logs.ringReleaseFailed({ guid }, releaseError));
    throw error;
  }
  const info = ringInfo(call);
  const recipients: Record<string, string> = {};
  const plans: PushPlan[] = [];
  for (const member of audience) {
    if (member.skip) {
      recipients[member.uid] = member.skip;
      continue;
    }
    const usable = member.devices.map((device) => ringPlan(device, info, deps.apnsConfigured)).filter((plan) => plan.send);
    recipients[member.uid] = usable.length > 0 ? "ringing" : "no_devices";
    plans.push(...usable);
  }

  const fanOutStartedAt = deps.now();
  const { results, pruned } = await sendPushes(guid, "ring", plans, deps, {
    deadlineAt: call.createdAt.toMillis() + deps.ringWindowMs,
    stillWanted: () => stillRinging(db, guid),
  });

  const finishedAt = Timestamp.fromMillis(deps.now());
  const deliveries: DeliveryDocument[] = plans.map((plan, i) => ({
    uid: plan.device.uid,
    deviceId: plan.device.deviceId,
    platform: plan.device.platform,
    ring: pushRecord(plan, results[i], finishedAt, pruned.has(plan.device.deviceId)),
    expireAt: call.expireAt,
  }));
  const reached = new Set(deliveries.filter((d) => d.ring.outcome === "sent").map((d) => d.uid));
  for (const uid of Object.keys(recipients)) {
    if (recipients[uid] === "ringing") recipients[uid] = reached.has(uid) ? "rung" : "failed";
  }
  const summary = summarize(call, recipients, results, fanOutStartedAt, pruned.size);
  const recorded = await recordRing(db, guid, deliveries, summary, finishedAt);
  logs.ringFinished({ guid, state: summary.state, reason: summary.reason, devices: summary.devices, sent: summary.sent, failed: summary.failed, pruned: summary.pruned, firstRingMs: summary.firstRingMs });

  if (recorded.stopClaimed) {
    // The stop ran while we were sending and could not see these devices: end their ringing here, with the
    // devices as just rung (a read here could fail after the record, and then nobody would stop them).
    const rung = new Map(plans.map((plan) => [plan.device.deviceId, plan.device]));
    const targets = deliveries.filter((d) => d.ring.outcome !== "prune").map((d) => ({ deviceId: d.deviceId, device: rung.get(d.deviceId) }));
    await stopDevices(recorded.call, targets, deps, { afterRing: true });
  }
  return summary;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((uid) => b.includes(uid));
}

async function stillRinging(db: Firestore, guid: string): Promise<boolean> {
  const snapshot = await callRef(db, guid).get();
  return snapshot.get("status") === "ringing";
}

function summarize(call: CallDocument, recipients: Record<string, string>, results: PushResult[], fanOutStartedAt: number, pruned: number): RingSummary {
  const sent = results.filter((r) => r.disposition === "sent");
  const base = { recipients, devices: results.length, sent: sent.length, failed: results.length - sent.length, pruned };
  if (results.length === 0) {
    const reasons = new Set(Object.values(recipients));
    return { ...base, state: "undeliverable", reason: reasons.size === 1 ? [...reasons][0] : "nothing_to_ring" };
  }
  if (sent.length === 0) return { ...base, state: "failed", reason: "no_push_accepted" };
  const firstAccepted = Math.min(...sent.map((r) => r.latencyMs ?? 0));
  return { ...base, state: "rung", firstRingMs: fanOutStartedAt + firstAccepted - call.createdAt.toMillis() };
}
