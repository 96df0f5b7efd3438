import type { TokenMessage } from "firebase-admin/messaging";
import { fanOut, PushSend } from "../../src/push/fan-out";
import type { PushGateway } from "../../src/push/push-gateway";
import { AttemptResult } from "../../src/push/push-outcomes";
import { ApnsRequest } from "../../src/push/push-payloads";

/** A gateway answering from per-token scripts, recording what was asked (the logic under test is fan-out's). */
function scriptedGateway(scripts: Record<string, AttemptResult[]>, options: { hangApns?: boolean } = {}) {
  const calls: Array<{ provider: string; tokens: string[] }> = [];
  const answer = (token: string): AttemptResult => scripts[token]?.shift() ?? { disposition: "sent", providerId: `id-${token}` };
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

describe("fanOut", () => {
  it("sends FCM and APNs in one round and reports each device", async () => {
    const { gateway, calls } = scriptedGateway({});
    const c = clock();
    const results = await fanOut([fcm("a"), apns("b"), fcm("c")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500], stillWanted: async () => true,
    });
    expect(calls).toEqual([{ provider: "fcm", tokens: ["a", "c"] }, { provider: "apns", tokens: ["b"] }]);
    expect(results.map((r) => [r.key, r.disposition, r.attempts, r.providerId])).toEqual([
      ["a", "sent", 1, "id-a"],
      ["b", "sent", 1, "id-b"],
      ["c", "sent", 1, "id-c"],
    ]);
  });

  it("retries only transient failures, with the backoff, and rebuilds with the time left", async () => {
    const { gateway, calls } = scriptedGateway({
      a: [{ disposition: "retry", errorCode: "messaging/internal-error" }],
      b: [{ disposition: "prune", errorCode: "messaging/registration-token-not-registered" }],
    });
    const c = clock();
    const seen: number[] = [];
    const results = await fanOut([fcm("a", seen), fcm("b")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500, 1000], stillWanted: async () => true,
    });
    expect(calls.map((call) => call.tokens)).toEqual([["a", "b"], ["a"]]);
    expect(seen).toEqual([40_000, 39_500]);
    expect(results).toEqual([
      expect.objectContaining({ key: "a", disposition: "sent", attempts: 2, latencyMs: 500 }),
      expect.objectContaining({ key: "b", disposition: "prune", attempts: 1, errorCode: "messaging/registration-token-not-registered" }),
    ]);
  });

  it("gives up after the last backoff with the last error", async () => {
    const failing = Array.from({ length: 5 }, () => ({ disposition: "retry" as const, errorCode: "messaging/server-unavailable" }));
    const { gateway, calls } = scriptedGateway({ a: failing });
    const c = clock();
    const [result] = await fanOut([fcm("a")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500, 1000, 2000], stillWanted: async () => true,
    });
    expect(calls).toHaveLength(4);
    expect(result).toEqual({
      key: "a",
      disposition: "failed",
      attempts: 4,
      errorCode: "messaging/server-unavailable",
      retriedOn: ["messaging/server-unavailable", "messaging/server-unavailable", "messaging/server-unavailable"],
    });
  });

  it("stops retrying once the call is no longer wanted", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ disposition: "retry", errorCode: "x" }, { disposition: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500, 1000], stillWanted: async () => false,
    });
    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ disposition: "canceled", attempts: 1, errorCode: "x" });
  });

  it("keeps retrying when it cannot tell whether the call is still wanted", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ disposition: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 40_000, backoffMs: [500], stillWanted: () => Promise.reject(new Error("14 UNAVAILABLE")),
    });
    expect(calls).toHaveLength(2);
    expect(result).toMatchObject({ disposition: "sent", attempts: 2 });
  });

  it("never waits past the deadline", async () => {
    const { gateway, calls } = scriptedGateway({ a: [{ disposition: "retry", errorCode: "x" }] });
    const c = clock();
    const [result] = await fanOut([fcm("a")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() + 400, backoffMs: [500], stillWanted: async () => true,
    });
    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ disposition: "expired", attempts: 1 });
  });

  it("sends nothing when the deadline has passed", async () => {
    const { gateway, calls } = scriptedGateway({});
    const c = clock();
    const [result] = await fanOut([fcm("a")], {
      gateway, now: c.now, sleep: c.sleep, deadlineAt: c.now() - 1, backoffMs: [500], stillWanted: async () => true,
    });
    expect(calls).toHaveLength(0);
    expect(result).toEqual({ key: "a", disposition: "expired", attempts: 0 });
  });

  it("does not let a hanging provider hold up the other one", async () => {
    const { gateway } = scriptedGateway({}, { hangApns: true });
    let now = Date.now();
    const results = await fanOut([fcm("a"), apns("b")], {
      gateway, now: () => now, sleep: async (ms) => void (now += ms), deadlineAt: now + 50, backoffMs: [], stillWanted: async () => true,
    });
    expect(results[0]).toMatchObject({ key: "a", disposition: "sent" });
    expect(results[1]).toMatchObject({ key: "b", disposition: "failed", errorCode: "timeout" });
  });
});
