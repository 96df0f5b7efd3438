import { Timestamp } from "firebase-admin/firestore";
import { AudienceMember, loadAudience } from "../devices/audience";
import { logs } from "../logs";
import { PushResult } from "../push/fan-out";
import { withDeadline } from "../shared/deadline";
import { CallDocument } from "./call-document";
import { SeenCall } from "./call-repository";
import { DeviceRecord, PushRecord } from "./device-records";
import { claimWaiting, lapseLease } from "./leases";
import { PushDeps, REQUEST_PUSH_MS } from "./push-deps";
import { PushPlan, ringInfo, ringPlan } from "./push-plan";
import {
  claimRing,
  ClaimedRing,
  closeInterruptedRing,
  devicesWithRingRecords,
  finishRing,
  recordRing,
  releaseRing,
  renewRingLease,
  RingClaim,
  RingSummary,
  RingTally,
  unrungRecipients,
} from "./ring-claim";
import { RING_TIMEOUT_GRACE_MS } from "./ring-timeout-queue";
import { pushRecord, sendPushes } from "./send-pushes";
import { currentDevices, stopDevices, unstoppedTargets } from "./stop-service";

/** How long scheduling the ring timeout may hold a trigger after its record (it never holds the pushes). */
const SCHEDULE_BUDGET_MS = 10_000;

/** Rings of one call one invocation goes through: the first, then one per batch of recipients added meanwhile. */
const MAX_RINGS = 5;

export interface RingOptions {
  /** The version of the call a trigger's event carried. */
  seen?: SeenCall;
  /**
   * What to do when a live ring holds the claim: `wait` for it to finish or its lease to expire (the webhook's ring,
   * or a retried trigger whose first attempt may have died), or `skip` (recipients were added: the live ring rings
   * them too).
   */
  whenHeld?: "wait" | "skip";
  /**
   * The webhook's own ring: claimed in the commit that created the call, the recipients' settings and devices read
   * beside it. One attempt per device, answered within REQUEST_PUSH_MS; what is left lapses to a trigger.
   */
  claimed?: { ring: ClaimedRing; audience: Promise<AudienceMember[]> };
}

export type RingResult = RingSummary | { skipped: string } | { leftToTrigger: number };

/**
 * Rings every device of every recipient of a new call, once: claims the ring (or holds the webhook's claim), skips
 * recipients whose settings say no, sends over FCM and APNs in parallel, prunes dead tokens and records each
 * device's outcome. A trigger retries transient failures inside the ring window; the webhook tries each device once
 * and leaves the rest to a trigger. Recipients added while it rang are rung next. When the call ended while we were
 * sending, stops what it rang. A ring that died holding its claim is taken over once its lease expires.
 */
export async function ringCall(guid: string, deps: PushDeps, options: RingOptions = {}): Promise<RingResult> {
  const inRequest = options.claimed !== undefined;
  let seen = options.seen;
  let summary: RingSummary | undefined;
  for (let ring = 0; ring < MAX_RINGS; ring++) {
    let claim: RingClaim;
    let audience: PromiseSettledResult<AudienceMember[] | undefined> | undefined;
    if (ring === 0 && options.claimed) {
      claim = { kind: "ring", ...options.claimed.ring };
      [audience] = await Promise.allSettled([options.claimed.audience]);
    } else {
      // With a trigger's version of a new call, the recipients' devices are read while the claim is written.
      const early = seen && seen.call.status === "ringing" && seen.call.delivery.state === "pending" ? seen.call.recipients : undefined;
      const [claiming, read] = await Promise.allSettled([
        claimWaiting({ kind: "ring", guid, clock: deps, whenHeld: options.whenHeld ?? "wait", seen }, (current) =>
          claimRing(deps.db, guid, { now: deps.now(), ringWindowMs: deps.ringWindowMs, seen: current }),
        ),
        early ? loadAudience(deps.db, early) : Promise.resolve(undefined),
      ]);
      if (claiming.status === "rejected") throw claiming.reason;
      claim = claiming.value;
      // The early read serves only a ring of the same recipients; its failure is this ring's failure then.
      const same = claim.kind === "ring" && early !== undefined && sameMembers(early, unrungRecipients(claim.call.recipients, claim.call.delivery.recipients));
      audience = same ? read : undefined;
    }
    seen = undefined;
    if (claim.kind !== "ring") {
      if (claim.kind === "interrupted") await stopInterruptedRing(guid, deps, claim);
      const reason = claim.kind === "interrupted" ? "ring_interrupted" : claim.kind === "held" ? "ring_in_progress" : claim.reason;
      if (summary) return summary;
      logs.ringSkipped({ guid, reason });
      return { skipped: reason };
    }
    const rung = await ringOnce(guid, deps, claim, { audience, inRequest });
    if ("leftToTrigger" in rung) return summary ?? rung;
    summary = rung.summary ?? summary;
    if (!rung.more) break;
  }
  return summary ?? { skipped: "call_missing" };
}

/** One ring under its claim: the recipients not rung yet, their devices not recorded yet. */
async function ringOnce(
  guid: string,
  deps: PushDeps,
  claim: ClaimedRing,
  options: { audience: PromiseSettledResult<AudienceMember[] | undefined> | undefined; inRequest: boolean },
): Promise<{ summary?: RingSummary; more: boolean } | { leftToTrigger: number }> {
  const { db } = deps;
  const { call, lease, again } = claim;
  const { inRequest } = options;
  let audience: AudienceMember[];
  let rungBefore: Map<string, PushRecord["outcome"]>;
  try {
    if (options.audience?.status === "rejected") throw options.audience.reason;
    [audience, rungBefore] = await Promise.all([
      options.audience?.value ?? loadAudience(db, unrungRecipients(call.recipients, call.delivery.recipients)),
      again ? devicesWithRingRecords(db, guid) : Promise.resolve(new Map<string, PushRecord["outcome"]>()),
    ]);
  } catch (error) {
    // Nobody has been rung yet: give the claim back, or a trigger would find it taken and ring nobody.
    await releaseRing(db, guid, lease, deps.now()).catch((releaseError: unknown) => logs.claimNotReleased({ guid, kind: "ring" }, releaseError));
    throw error;
  }

  try {
    const info = ringInfo(call);
    const recipients: Record<string, string> = {};
    const reachedBefore = new Set<string>();
    const plans: PushPlan[] = [];
    for (const member of audience) {
      if (member.skip) {
        recipients[member.uid] = member.skip;
        continue;
      }
      const fresh = member.devices.filter((device) => !rungBefore.has(device.deviceId));
      const usable = fresh.map((device) => ringPlan(device, info, deps.apnsConfigured)).filter((plan) => plan.send);
      if (member.devices.some((device) => rungBefore.get(device.deviceId) === "sent")) reachedBefore.add(member.uid);
      recipients[member.uid] = usable.length > 0 ? "ringing" : reachedBefore.has(member.uid) ? "rung" : "no_devices";
      plans.push(...usable);
    }

    // The missed-call timeout, for the end of the window: scheduled beside the pushes, never in their way; a
    // failure to schedule is logged and leaves the call to ButterflyMX's own status and reconciliation.
    const scheduling = deps.scheduleTimeout?.(guid, call.createdAt.toMillis() + deps.ringWindowMs + RING_TIMEOUT_GRACE_MS);
    const scheduled =
      scheduling &&
      withDeadline(scheduling, inRequest ? REQUEST_PUSH_MS : SCHEDULE_BUDGET_MS, "scheduling the ring timeout").catch((error: unknown) => logs.ringTimeoutNotScheduled({ guid }, error));
    const fanOutStartedAt = deps.now();
    const windowEndsAt = call.createdAt.toMillis() + deps.ringWindowMs;
    const { results, pruned } = await sendPushes(guid, "ring", plans, deps, {
      deadlineAt: inRequest ? Math.min(windowEndsAt, fanOutStartedAt + REQUEST_PUSH_MS) : windowEndsAt,
      stillWanted: () => renewRingLease(db, guid, lease, deps.now()),
      oneAttempt: inRequest,
    });

    // In the request, a push with no final answer is left unrecorded, for a trigger to try again.
    const finished = plans.flatMap((plan, i) => (inRequest && results[i].retryable ? [] : [{ plan, result: results[i] }]));
    const finishedAt = Timestamp.fromMillis(deps.now());
    const records: DeviceRecord[] = finished.map(({ plan, result }) => ({
      uid: plan.device.uid,
      deviceId: plan.device.deviceId,
      platform: plan.device.platform,
      ring: pushRecord(plan, result, finishedAt, pruned.has(plan.device.deviceId)),
      expireAt: call.expireAt,
    }));
    const reached = new Set(records.filter((r) => r.ring.outcome === "sent").map((r) => r.uid));
    for (const uid of Object.keys(recipients)) {
      if (recipients[uid] === "ringing") recipients[uid] = reached.has(uid) || reachedBefore.has(uid) ? "rung" : "failed";
    }
    const tally = ringTally(call, recipients, records, finished.map((f) => f.result), fanOutStartedAt, pruned.size);
    const left = plans.length - finished.length;
    const recorded = await recordRing(db, guid, { lease, records, tally, finishedAt, version: claim.version, soleRing: !again, unfinished: left > 0 });
    await scheduled;
    if (left > 0) {
      logs.leftToTrigger({ guid, kind: "ring", devices: left, recorded: records.length });
      return { leftToTrigger: left };
    }
    if (!recorded) return { more: false };
    const { summary } = recorded;
    if (summary) {
      logs.ringFinished({ guid, state: summary.state, reason: summary.reason, devices: tally.devices, sent: tally.sent, failed: tally.failed, pruned: tally.pruned, firstRingMs: summary.firstRingMs });
    }

    // The call ended while we were sending. The devices as just rung: stopping them needs no read (one here could fail
    // after the record, and then nobody would stop them).
    const rung = new Map(plans.map((plan) => [plan.device.deviceId, plan.device]));
    const targets = () => unstoppedTargets(records, (_, deviceId) => rung.get(deviceId));
    if (recorded.stopLease) {
      // Before anyone claimed its stop: we did, in the record; stop them now.
      const stopLease = recorded.stopLease;
      await stopDevices(recorded.call, targets(), deps, { lease: stopLease }).catch(async (error: unknown) => {
        await lapseLease(db, guid, "stop", stopLease, deps.now()).catch((lapseError: unknown) => logs.claimNotReleased({ guid, kind: "stop" }, lapseError));
        throw error;
      });
    } else if (recorded.stopClaimed && !recorded.stopReachedAll) {
      // The stop ran while we were sending and could not see these devices: end their ringing here.
      await stopDevices(recorded.call, targets(), deps, {});
      if (summary) await finishRing(db, guid, lease, summary.state);
    }
    return { summary, more: summary !== undefined && recorded.call.status === "ringing" && unrungRecipients(recorded.call.recipients, summary.recipients).length > 0 };
  } catch (error) {
    // Pushes may have gone out: the lease ends now, so that a trigger takes over without waiting for it.
    await lapseLease(db, guid, "ring", lease, deps.now()).catch((lapseError: unknown) => logs.claimNotReleased({ guid, kind: "ring" }, lapseError));
    throw error;
  }
}

/**
 * A ring died too late to ring again (the call ended or its window passed). Its devices may be ringing unrecorded:
 * the call is marked so that the stop reaches every current device of the recipients, and a stop that already ran
 * without them is completed here.
 */
async function stopInterruptedRing(guid: string, deps: PushDeps, claim: Extract<RingClaim, { kind: "interrupted" }>): Promise<void> {
  const closed = await closeInterruptedRing(deps.db, guid, claim.lease, deps.now());
  logs.ringInterrupted({ guid, stopsSent: closed?.stopMissedDevices === true });
  if (!closed?.stopMissedDevices) return;
  await stopDevices(closed.call, await currentDevices(deps.db, closed.call.recipients), deps, {});
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((uid) => b.includes(uid));
}

function ringTally(call: CallDocument, recipients: Record<string, string>, records: DeviceRecord[], results: PushResult[], fanOutStartedAt: number, pruned: number): RingTally {
  const accepted = results.filter((r) => r.outcome === "sent");
  const recipientDevices: RingTally["recipientDevices"] = {};
  for (const { uid, ring } of records) {
    const count = (recipientDevices[uid] ??= { devices: 0, sent: 0 });
    count.devices++;
    if (ring.outcome === "sent") count.sent++;
  }
  const tally: RingTally = { recipients, recipientDevices, devices: results.length, sent: accepted.length, failed: results.length - accepted.length, pruned };
  if (accepted.length === 0) return tally;
  const firstAccepted = Math.min(...accepted.map((r) => r.latencyMs ?? 0));
  return { ...tally, firstRingMs: fanOutStartedAt + firstAccepted - call.createdAt.toMillis() };
}
