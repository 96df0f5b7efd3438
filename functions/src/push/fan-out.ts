import type { TokenMessage } from "firebase-admin/messaging";
import { DeadlineExceeded, withDeadline } from "../shared/deadline";
import type { PushGateway } from "./push-gateway";
import { AttemptResult, PushOutcome } from "./push-outcomes";
import { ApnsRequest } from "./push-payloads";

/** One device's push; `build` is called per attempt with the time left, so ttl/expiration shrink with it. */
export type PushSend =
  | { key: string; provider: "fcm"; build: (remainingMs: number, now: number) => TokenMessage }
  | { key: string; provider: "apns"; build: (remainingMs: number, now: number) => ApnsRequest };

/** Where a device's push ended: a final attempt result, or `expired` / `canceled` before one was accepted. */
export interface PushResult {
  key: string;
  outcome: PushOutcome;
  errorCode?: string;
  providerId?: string;
  invalidSince?: number;
  attempts: number;
  /** Why earlier attempts were retried (their error codes, e.g. `timeout`), when there were any. */
  retriedOn?: string[];
  /** From the start of the fan-out to the provider accepting the push. */
  latencyMs?: number;
  /** It ended on a transient failure, or before any attempt: another attempt could still succeed. */
  retryable?: true;
}

export interface FanOutOptions {
  gateway: PushGateway;
  now: () => number;
  /** Nothing is sent or retried after this instant (ms since epoch). */
  deadlineAt: number;
  /** Waits before each retry round (push rules: short, e.g. 0.5 s, 1 s, 2 s). */
  backoffMs: readonly number[];
  /** How long one attempt waits for the providers before it counts as a transient failure (ATTEMPT_TIMEOUT_MS). */
  attemptTimeoutMs?: number;
  /** Asked before each retry round: false stops retrying (the call left `ringing`); a failed answer counts as true. */
  stillWanted: () => Promise<boolean>;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One attempt's wait for the providers: a stalled stream or connection must not eat the whole window, so the push
 * is retried (on a fresh APNs session) while there is time. Healthy answers take well under a second.
 */
export const ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * Sends every push at once (FCM and APNs in parallel, neither blocking the other) and retries only transient
 * failures, in rounds, while the deadline and `stillWanted` allow.
 */
export async function fanOut(sends: readonly PushSend[], options: FanOutOptions): Promise<PushResult[]> {
  const sleep = options.sleep ?? defaultSleep;
  const started = options.now();
  const results = new Map<string, PushResult>();
  const retriedOn = new Map<string, string[]>();
  let pending = [...sends];
  let last = new Map<string, AttemptResult>();
  /** The reasons of the attempts before the last one (each led to a retry). */
  const why = (key: string, attempts: number) => {
    const reasons = (retriedOn.get(key) ?? []).slice(0, attempts - 1);
    return reasons.length > 0 ? { retriedOn: reasons } : {};
  };

  for (let round = 0; pending.length > 0; round++) {
    const remaining = options.deadlineAt - options.now();
    if (remaining <= 0) {
      settle(pending, "expired", round);
      break;
    }
    const attempt = await sendRound(pending, options, remaining, Math.min(remaining, options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS));
    last = attempt;
    const retry: PushSend[] = [];
    for (const send of pending) {
      const answer = attempt.get(send.key)!;
      if (answer.outcome === "retry") {
        retry.push(send);
        retriedOn.set(send.key, [...(retriedOn.get(send.key) ?? []), answer.errorCode ?? "unknown"]);
      } else {
        results.set(send.key, { key: send.key, ...answer, attempts: round + 1, ...why(send.key, round + 1), ...(answer.outcome === "sent" ? { latencyMs: options.now() - started } : {}) });
      }
    }
    pending = retry;
    if (pending.length === 0) break;
    const wait = options.backoffMs[round];
    if (wait === undefined) {
      settle(pending, "failed", round + 1);
      break;
    }
    if (options.now() + wait >= options.deadlineAt) {
      settle(pending, "expired", round + 1);
      break;
    }
    await sleep(wait);
    // A check that fails must not end the fan-out: what was already sent still needs its results recorded.
    if (!(await options.stillWanted().catch(() => true))) {
      settle(pending, "canceled", round + 1);
      break;
    }
  }
  return sends.map((send) => results.get(send.key)!);

  function settle(sendsLeft: PushSend[], outcome: PushOutcome, attempts: number) {
    for (const send of sendsLeft) {
      const previous = last.get(send.key);
      results.set(send.key, { key: send.key, outcome, attempts, ...why(send.key, attempts), ...(previous?.errorCode ? { errorCode: previous.errorCode } : {}), retryable: true });
    }
  }
}

/** One attempt for every pending push: payloads expire with the window (`remainingMs`), the wait ends at `attemptMs`. */
async function sendRound(sends: PushSend[], options: FanOutOptions, remainingMs: number, attemptMs: number): Promise<Map<string, AttemptResult>> {
  const now = options.now();
  const fcm = sends.filter((s): s is Extract<PushSend, { provider: "fcm" }> => s.provider === "fcm");
  const apns = sends.filter((s): s is Extract<PushSend, { provider: "apns" }> => s.provider === "apns");
  const [fcmResults, apnsResults] = await Promise.all([
    fcm.length === 0 ? [] : bounded(options.gateway.sendFcm(fcm.map((s) => s.build(remainingMs, now))), fcm.length, attemptMs),
    apns.length === 0 ? [] : bounded(options.gateway.sendApns(apns.map((s) => s.build(remainingMs, now)), attemptMs), apns.length, attemptMs),
  ]);
  const byKey = new Map<string, AttemptResult>();
  fcm.forEach((send, i) => byKey.set(send.key, fcmResults[i]));
  apns.forEach((send, i) => byKey.set(send.key, apnsResults[i]));
  return byKey;
}

/** A provider that has not answered by the deadline: every request of the batch counts as a transient failure. */
async function bounded(work: Promise<AttemptResult[]>, count: number, ms: number): Promise<AttemptResult[]> {
  try {
    return await withDeadline(work, ms, "push provider");
  } catch (error) {
    const errorCode = error instanceof DeadlineExceeded ? "timeout" : "send-failed";
    return Array.from({ length: count }, () => ({ outcome: "retry" as const, errorCode }));
  }
}
