import { spendQuota } from "../../src/shared/quota";
import { LimitReached, toHttpsError } from "../../src/shared/errors";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";

// Per-user quotas on the callables that reach ButterflyMX, held in Firestore so that they hold across instances.
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
/** A second client of the same project: another instance of the same function. */
const otherInstance = testFirestore(projectId);
const db = firestore.db;
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const use = (overrides: Partial<Parameters<typeof spendQuota>[1]> = {}) => ({ uid: "uma", callable: "getCallHistory", perWindow: 3, now: NOW, ...overrides });

beforeEach(() => firestore.clear());
afterAll(() => Promise.all([firestore.close(), otherInstance.close()]));

describe("spendQuota", () => {
  it("allows the limit per minute, then refuses with the seconds left in the window, counting nothing more", async () => {
    for (let i = 0; i < 3; i++) await spendQuota(db, use({ now: NOW + i * 1000 }));
    const refused = await spendQuota(db, use({ now: NOW + 20_000 })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LimitReached);
    expect(toHttpsError(refused, { function: "getCallHistory", uid: "uma" })).toMatchObject({
      code: "resource-exhausted",
      message: expect.stringContaining("Try again in 40 s"),
      details: { retryAfterSeconds: 40 },
    });
    expect((await db.doc("quotas/uma:getCallHistory").get()).get("used")).toBe(3);
  });

  it("holds across instances, and for requests at the same moment", async () => {
    await spendQuota(otherInstance.db, use());
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => spendQuota(i % 2 ? db : otherInstance.db, use())));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason)).toEqual(Array(8).fill(expect.any(LimitReached)));
  });

  it("starts again with a new window, and counts each user and each callable on its own", async () => {
    for (let i = 0; i < 3; i++) await spendQuota(db, use());
    await expect(spendQuota(db, use())).rejects.toThrow(LimitReached);
    await expect(spendQuota(db, use({ now: NOW + 60_000 }))).resolves.toBeUndefined();
    await expect(spendQuota(db, use({ uid: "vic" }))).resolves.toBeUndefined();
    await expect(spendQuota(db, use({ callable: "diagnose" }))).resolves.toBeUndefined();
    expect((await db.doc("quotas/uma:getCallHistory").get()).data()).toMatchObject({ used: 1, windowStart: expect.anything(), expireAt: expect.anything() });
  });
});
