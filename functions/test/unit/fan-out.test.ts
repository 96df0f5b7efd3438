import type { TokenMessage } from "firebase-admin/messaging";
import { fanOut, FanOutOptions, PushSend } from "../../src/push/fan-out";
import type { PushGateway } from "../../src/push/push-gateway";
import { AttemptResult } from "../../src/push/push-outcomes";
import { ApnsRequest } from "../../src/push/push-payloads";

/** A gateway answering from per-token scripts, recording what was asked (the logic under test is fan-out's). */
function scriptedGateway(scripts: Record<string, AttemptResult[]>, options: { hangApns?: boolean } = {}) {
  const calls: Array<{ provider: string; tokens: string[] }> = [];
  const answer = (token: string): AttemptResult => scripts[token]?.shift() ?? { outcome: "sent", providerId: `id-${token}` };
  const gateway: PushGateway = {
    async sendFcm(messages: TokenMessage[]) {
      calls.push({ provider: "fcm", tokens: messages.map((m) => m.token) });
      return messages.map((m) => answer(m.token));
    },
    async sendApns(requests: ApnsRequest[]) {
      calls.push({ provider: "apns", tokens: requests.map((r) => r.token) });
      if (options.hangApns) return new Promise<AttemptResult[]>(() => undefined);
      return requests.map((r) => answer(r.token));
    },
  };
  return { gateway, calls };
}

const fcm = (token: string, seen: number[] = []): PushSend => ({
  key: token,
  provider: "fcm",
  build: (remaining) => {
    seen.push(remaining);
    return { token, data: { remaining: String(remaining) } };
  },
});
const apns = (token: string): PushSend => ({
  key: token,
  provider: "apns",
  build: () => ({ token, environment: "production", headers: {}, payload: {} }),
});

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => (now += ms) };
}

/** Fan-out options on a test clock: a 40 s window, one 500 ms backoff, always wanted; `overrides` say what a test varies. */
function options(gateway: PushGateway, c: ReturnType<typeof clock>, overrides: Partial<FanOutOptions> = {}): FanOutOptions {
  return { gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500], stillWanted: async () => true, ...overrides };
}

describe("fanOut", () => {
  it("sends FCM and APNs in one round and reports each device", async () => {
    const { gateway, calls } = scriptedGateway({});
    const c = clock();
    const results = await fanOut([fcm("a"), apns("b"), fcm("c")], options(gateway, c));
    expect(calls).toEqual([{ provider: "fcm", tokens: ["a", "c"] }, { provider: "apns", tokens: ["b"] }]);
    expect(results.map((r) => [r.key, r.outcome, r.attempts, r.providerId])).toEqual([
      ["a", "sent", 1, "id-a"],
      ["b", "sent", 1, "id-b"],
      ["c", "sent", 1, "id-c"],
    ]);
  });

  it("retries only transient failures, with the backoff, and rebuilds with the time left", async () => {
    const { gateway, calls } = scriptedGateway({
      a: [{ outcome: "retry", errorCode: "messaging/internal-error" }],
      b: [{ outcome: "prune", errorCode: "messaging/registration-token-not-registered" }],
    });
    const c = clock();
    const seen: number[] = [];
    const results = await fanOut([fcm("a", seen), fcm("b")], options(gateway, c, { backoffMs: [500, 1000] }));
    expect(calls.map((call) => call.tokens)).toEqual([["a", "b"], ["a"]]);
    expect(seen).toEqual([40_000, 39_500]);
    expect(results).toEqual([
      expect.objectContaining({ key: "a", outcome: "sent", attempts: 2, latencyMs: 500 }),
      expect.objectContaining({ key: "b", outcome: "prune", attempts: 1, errorCode: "messaging/registration-token-not-registered" }),
    ]);
  });

  it("gives up after the last backoff with the last error", async () => {
    const failing = Array.from({ length: 5 }, () => ({ outcome: "retry" as const, errorCode: "messaging/server-unavailable" }));
    const { gateway, calls } = scriptedGateway({ a: failing });
    const c = clock();
    const [result] = await fanOut([fcm("a")], options(gateway, c, { backoffMs: [500, 1000, 2000] }));
    expect(calls).toHaveLength(4);
    expect(result).toEqual({
      key: "a",
      outcome: "failed",
      attempts: 4,
      errorCode: "messaging/server-unavailable",
      retriedOn: ["messaging/server-unavailable", "messaging/server-unavailable", "messaging/server-unavailable"],
      retryable: true,
    });
  });

  it("stops retrying once the call is no longer wanted", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ outcome: "retry", errorCode: "x" }, { outcome: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], options(gateway, c, { backoffMs: [500, 1000], stillWanted: async () => false }));
    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ outcome: "canceled", attempts: 1, errorCode: "x" });
  });

  it("keeps retrying when it cannot tell whether the call is still wanted", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ outcome: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], options(gateway, c, { stillWanted: () => Promise.reject(new Error("14 UNAVAILABLE")) }));
    expect(calls).toHaveLength(2);
    expect(result).toMatchObject({ outcome: "sent", attempts: 2 });
  });

  it("never waits past the deadline", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ outcome: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], options(gateway, c, { deadlineAt: c.now() + 400 }));
    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ outcome: "expired", attempts: 1 });
  });

  it("sends nothing when the deadline has passed", async () => {
    const { gateway, calls } = scriptedGateway({});
    const c = clock();
    const [result] = await fanOut([fcm("a")], options(gateway, c, { deadlineAt: c.now() - 1 }));
    expect(calls).toHaveLength(0);
    expect(result).toEqual({ key: "a", outcome: "expired", attempts: 0, retryable: true });
  });

  it("does not let a hanging provider hold up the other one", async () => {
    const { gateway } = scriptedGateway({}, { hangApns: true });
    // On the real clock's time: the attempt's wait for the providers is a real timer (50 ms here).
    const c = clock(Date.now());
    const results = await fanOut([fcm("a"), apns("b")], options(gateway, c, { deadlineAt: c.now() + 50, backoffMs: [] }));
    expect(results[0]).toMatchObject({ key: "a", outcome: "sent" });
    expect(results[1]).toMatchObject({ key: "b", outcome: "failed", errorCode: "timeout" });
  });
});
