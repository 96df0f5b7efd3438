import { Firestore, Timestamp } from "firebase-admin/firestore";
import { pruneToken } from "../devices/device-registry";
import { logs } from "../logs";
import { fanOut, PushResult, PushSend } from "../push/fan-out";
import { PushRecord } from "./device-records";
import { DEFAULT_BACKOFF_MS, PushDeps } from "./push-deps";
import { PushPlan } from "./push-plan";

/**
 * How a ring or a stop sends: retrying transient failures until `deadlineAt`, asking `stillWanted` before each retry
 * round (a trigger); or `oneAttempt` per device, each waiting until `deadlineAt` at most (the webhook's request,
 * which leaves what is not answered by then to a trigger).
 */
export interface SendWindow {
  deadlineAt: number;
  stillWanted: () => Promise<boolean>;
  oneAttempt?: boolean;
}

/**
 * Sends the planned pushes (ring or stop) within `window`, then logs what needs a human and prunes the tokens
 * providers declared dead. Results keep the plans' order; `pruned` holds the device ids whose token went.
 */
export async function sendPushes(guid: string, kind: "ring" | "stop", plans: PushPlan[], deps: PushDeps, window: SendWindow): Promise<{ results: PushResult[]; pruned: Set<string> }> {
  const { deadlineAt, stillWanted, oneAttempt } = window;
  const pacing = oneAttempt
    ? { backoffMs: [], attemptTimeoutMs: Math.max(1, deadlineAt - deps.now()) }
    : { backoffMs: deps.backoffMs ?? DEFAULT_BACKOFF_MS, attemptTimeoutMs: deps.attemptTimeoutMs };
  const results =
    plans.length === 0
      ? []
      : await fanOut(
          plans.map((plan) => plan.send as PushSend),
          { gateway: deps.gateway(), now: deps.now, sleep: deps.sleep, deadlineAt, stillWanted, ...pacing },
        );
  reportProblems(guid, kind, plans, results);
  return { results, pruned: await pruneDeadTokens(deps.db, guid, plans, results) };
}

const NEEDS_ATTENTION = new Set(["credentials", "throttled", "payload"]);

/** Removes the tokens providers declared dead; returns the device ids whose token went. */
async function pruneDeadTokens(db: Firestore, guid: string, plans: PushPlan[], results: PushResult[]): Promise<Set<string>> {
  const pruned = new Set<string>();
  await Promise.all(
    plans.map(async (plan, i) => {
      const result = results[i];
      if (result.outcome !== "prune" || !plan.tokenKind || !plan.token) return;
      const outcome = await pruneToken(db, plan.device, plan.tokenKind, plan.token, result.invalidSince);
      if (outcome !== "kept") pruned.add(plan.device.deviceId);
      logs.tokenPruned({ guid, uid: plan.device.uid, deviceId: plan.device.deviceId, kind: plan.tokenKind, result: outcome, errorCode: result.errorCode });
    }),
  );
  return pruned;
}

export function pushRecord(plan: PushPlan, result: PushResult, at: Timestamp, tokenPruned: boolean): PushRecord {
  return {
    channel: plan.channel,
    outcome: result.outcome,
    attempts: result.attempts,
    at,
    ...(result.errorCode ? { errorCode: result.errorCode } : {}),
    ...(result.retriedOn ? { retriedOn: result.retriedOn } : {}),
    ...(result.latencyMs !== undefined ? { latencyMs: result.latencyMs } : {}),
    ...(result.providerId ? { providerId: result.providerId } : {}),
    ...(tokenPruned ? { tokenPruned: true } : {}),
  };
}

/** One error-level line per channel and failure kind that retries cannot fix (bad credentials, quota, payload). */
function reportProblems(guid: string, kind: "ring" | "stop", plans: PushPlan[], results: PushResult[]): void {
  const groups = new Map<string, { channel: string; outcome: string; errorCode?: string; devices: number }>();
  results.forEach((result, i) => {
    if (!NEEDS_ATTENTION.has(result.outcome)) return;
    const key = `${plans[i].channel}/${result.outcome}/${result.errorCode}`;
    const group = groups.get(key) ?? { channel: plans[i].channel, outcome: result.outcome, errorCode: result.errorCode, devices: 0 };
    group.devices++;
    groups.set(key, group);
  });
  for (const group of groups.values()) logs.pushNeedsAttention({ guid, kind, ...group });
}
