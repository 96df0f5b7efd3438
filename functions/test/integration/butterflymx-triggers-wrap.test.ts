import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import functionsTest from "firebase-functions-test";
import { linkAccount } from "../../src/accounts/link-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { isolatedProjectId, snapshotDatabase, testFirestore } from "../helpers/emulators";
import { configureAsEmulated, readCall } from "../helpers/fixtures";

/**
 * The deployed functions that work with ButterflyMX on their own, run by firebase-functions-test `wrap()`:
 * onUserDeleted (1st-gen Auth trigger) with a real user record, reconcileCalls (scheduled) with a scheduler
 * event through its `run`. Configured as the emulator configures them: params and secrets from the environment, ButterflyMX at the
 * local fake (BUTTERFLYMX_*_ORIGIN, honoured only when FUNCTIONS_EMULATOR is true).
 */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
const fft = functionsTest({ projectId });
let fake: ButterflyMxFake;
let onUserDeleted: typeof import("../../src/accounts/on-user-deleted.function").onUserDeleted;
let reconcileCalls: typeof import("../../src/calls/reconcile-calls.function").reconcileCalls;

beforeAll(async () => {
  fake = await ButterflyMxFake.start();
  configureAsEmulated(projectId, {
    BUTTERFLYMX_ACCOUNTS_ORIGIN: fake.origins.accounts,
    BUTTERFLYMX_API_ORIGIN_NA: fake.origins.na,
    BUTTERFLYMX_API_ORIGIN_EU: fake.origins.eu,
    BUTTERFLYMX_CLIENT_ID: fake.clientId,
    BUTTERFLYMX_CLIENT_SECRET: fake.clientSecret,
  });
  ({ onUserDeleted } = await import("../../src/accounts/on-user-deleted.function"));
  ({ reconcileCalls } = await import("../../src/calls/reconcile-calls.function"));
});
beforeEach(async () => {
  await firestore.clear();
  fake.reset();
});
afterAll(async () => {
  fft.cleanup();
  await Promise.all([fake.close(), firestore.close()]);
});

describe("onUserDeleted (wrapped)", () => {
  it("deletes everything keyed by the uid, at ButterflyMX too, leaving only its tombstone, and is idempotent", async () => {
    fake.addUser(resident("601"));
    await linkAccount(accountDeps(db, fake), "gone", signInAtButterflyMx(fake, "601"));
    await db.doc("users/gone/devices/pixel").set({ uid: "gone", platform: "android", fcmToken: "fcm-token-gone-0001" });
    await db.doc("calls/c1").set({ recipients: ["gone"], status: "missed" });
    const wrapped = fft.wrap(onUserDeleted);
    const user = fft.auth.makeUserRecord({ uid: "gone", email: "gone@example.com" });

    await wrapped(user);

    const tombstone = { "deletedUsers/gone": { deletedAt: expect.any(Timestamp), expireAt: expect.any(Timestamp) } };
    expect(await snapshotDatabase(db)).toEqual(tombstone);
    expect(fake.integrationsOf({ kind: "tenant", id: "t-601-1" })).toEqual([]);
    expect(fake.liveGrants("601")).toEqual([]);

    await wrapped(user);
    expect(await snapshotDatabase(db)).toEqual(tombstone);
  });
});

describe("reconcileCalls (wrapped)", () => {
  it("records a call ButterflyMX logged for a linked resident that never reached us, and goes on from where it stopped", async () => {
    fake.addUser(resident("602"));
    await db.doc("users/late/devices/pixel").set({ uid: "late", platform: "android", fcmToken: "fcm-token-late-0001", updatedAt: Timestamp.now() });
    await linkAccount(accountDeps(db, fake), "late", signInAtButterflyMx(fake, "602"));
    await db.doc("users/late").update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 3_600_000) });
    const guid = randomUUID();
    fake.addCallLogs("602", { id: "1", guid, loggedAt: new Date(Date.now() - 600_000).toISOString(), panelId: "28516", status: "canceled" });

    // firebase-functions-test 3.5 has no wrap() type for scheduled functions; `run` is what wrap() would call.
    await reconcileCalls.run({ scheduleTime: new Date().toISOString(), jobName: "reconcileCalls" });

    expect(await readCall(db, guid)).toMatchObject({ status: "canceled", endReason: "reconciled", recipients: ["late"] });
    expect((await db.doc("system/reconcileCalls").get()).get("cursor")).toBe("");
  });
});
