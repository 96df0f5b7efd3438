import { linkAccount } from "../../src/accounts/link-service";
import { CallDocument } from "../../src/calls/call-document";
import { ringCall } from "../../src/calls/ring-service";
import { ringTimedOut } from "../../src/calls/ring-timeout-service";
import { stopCall } from "../../src/calls/stop-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { endCall, PushHarness, seedResident, seedRingingCall, startPushHarness } from "../helpers/push-harness";

/** The missed-call timeout, invoked directly (the Cloud Tasks emulation runs it in the e2e suite). */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
let fake: ButterflyMxFake;
let push: PushHarness;

const ANDROID = { deviceId: "pixel", platform: "android", fcmToken: "fcm-timeout-android-01" };
const IPAD = { deviceId: "ipad", platform: "ios", fcmToken: "fcm-timeout-ipad-0001" };
/** A clock already past every test call's ring window, as when the task runs on time. */
const timeoutDeps = () => ({ db, bmx: accountDeps(db, fake).bmx, now: () => Date.now() + 44_000, ringWindowMs: 40_000 });
const call = async (guid: string) => (await db.doc(`calls/${guid}`).get()).data() as CallDocument;

beforeAll(async () => {
  [fake, push] = await Promise.all([ButterflyMxFake.start(), startPushHarness(projectId)]);
});
beforeEach(async () => {
  await firestore.clear();
  fake.reset();
  push.fcm.reset();
});
afterAll(async () => {
  await Promise.all([fake.close(), push.close(), firestore.close()]);
});

describe("scheduling", () => {
  it("schedules one timeout per ring, at the end of the window plus a grace, beside the pushes", async () => {
    await seedResident(db, "ada", [ANDROID]);
    const createdAt = Date.now();
    const guid = await seedRingingCall(db, ["ada"], { createdAt });
    const scheduled: Array<[string, number]> = [];
    await ringCall(guid, push.deps(db, { scheduleTimeout: async (g, at) => void scheduled.push([g, at]) }));
    expect(scheduled).toEqual([[guid, createdAt + 40_000 + 3_000]]);
  });

  it("rings anyway when the timeout cannot be scheduled", async () => {
    await seedResident(db, "ada", [ANDROID]);
    const guid = await seedRingingCall(db, ["ada"]);
    const summary = await ringCall(guid, push.deps(db, { scheduleTimeout: async () => Promise.reject(new Error("Cloud Tasks unavailable")) }));
    expect(summary).toMatchObject({ state: "rung", sent: 1 });
  });
});

describe("ringTimedOut", () => {
  it("ends a call whose final status was lost as missed, and the stop reaches every device", async () => {
    await seedResident(db, "bo", [ANDROID, IPAD]);
    const guid = await seedRingingCall(db, ["bo"]);
    await ringCall(guid, push.deps(db));
    await expect(ringTimedOut(timeoutDeps(), guid)).resolves.toEqual({ ended: "missed", askedButterflyMx: false });
    expect(await call(guid)).toMatchObject({ status: "missed", bmxStatus: "initializing", endReason: "ring_timeout" });
    expect((await call(guid)).history.at(-1)).toMatchObject({ event: "ring_timeout", status: "missed", via: "ring_timeout" });

    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 2 });
    expect(push.fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring", "call.end"]);
    expect(push.fcm.for(IPAD.fcmToken).at(-1)?.message.apns?.payload).toMatchObject({ aps: { alert: { title: "Missed call" } } });
  });

  it("waits for the end of the window when the queue runs it early (the emulator's does)", async () => {
    await seedResident(db, "gus", [ANDROID]);
    const createdAt = Date.now();
    const guid = await seedRingingCall(db, ["gus"], { createdAt });
    let now = createdAt + 1_000;
    const waited: number[] = [];
    const early = { ...timeoutDeps(), now: () => now, sleep: async (ms: number) => void (waited.push(ms), (now += ms)) };
    await expect(ringTimedOut(early, guid)).resolves.toMatchObject({ ended: "missed" });
    expect(waited).toEqual([42_000]);
    expect((await call(guid)).endedAt?.toMillis()).toBe(createdAt + 43_000);
  });

  it("fires once and only for calls still ringing", async () => {
    await seedResident(db, "cy", [ANDROID]);
    const answered = await seedRingingCall(db, ["cy"]);
    await endCall(db, answered, "connecting_sip");
    await expect(ringTimedOut(timeoutDeps(), answered)).resolves.toEqual({ skipped: "call_answered" });
    expect(await call(answered)).toMatchObject({ status: "answered", endReason: "butterflymx" });

    const lost = await seedRingingCall(db, ["cy"]);
    await ringTimedOut(timeoutDeps(), lost);
    await expect(ringTimedOut(timeoutDeps(), lost)).resolves.toEqual({ skipped: "call_missed" });
    expect((await call(lost)).history.filter((h) => h.event === "ring_timeout")).toHaveLength(1);
  });

  it("asks ButterflyMX with a recipient's sign-in and takes its terminal status", async () => {
    fake.addUser(resident("911"));
    await linkAccount(accountDeps(db, fake), "dee", signInAtButterflyMx(fake, "911"));
    const guid = await seedRingingCall(db, ["dee"]);
    fake.addCallLogs("911", { id: "1", guid, loggedAt: new Date().toISOString(), panelId: "28516", status: "canceled" });
    await expect(ringTimedOut(timeoutDeps(), guid)).resolves.toEqual({ ended: "canceled", askedButterflyMx: true });
    expect(await call(guid)).toMatchObject({ status: "canceled", bmxStatus: "canceled", endReason: "butterflymx" });
  });

  it("ends as missed when ButterflyMX says the call is still initializing, or cannot say", async () => {
    fake.addUser(resident("912"));
    await linkAccount(accountDeps(db, fake), "eli", signInAtButterflyMx(fake, "912"));
    const still = await seedRingingCall(db, ["eli"]);
    fake.addCallLogs("912", { id: "2", guid: still, loggedAt: new Date().toISOString(), panelId: "28516", status: "initializing" });
    await expect(ringTimedOut(timeoutDeps(), still)).resolves.toEqual({ ended: "missed", askedButterflyMx: true });

    const unknown = await seedRingingCall(db, ["eli"]);
    fake.fail({ method: "GET", path: /\/status$/ }, { status: 503 });
    await expect(ringTimedOut(timeoutDeps(), unknown)).resolves.toEqual({ ended: "missed", askedButterflyMx: false });
  });

  it("records a late ButterflyMX status in bmxStatus and the history without reopening the call", async () => {
    await seedResident(db, "fay", [ANDROID]);
    const guid = await seedRingingCall(db, ["fay"]);
    await ringTimedOut(timeoutDeps(), guid);
    await endCall(db, guid, "timeout_online_signal");
    expect(await call(guid)).toMatchObject({ status: "missed", bmxStatus: "timeout_online_signal", endReason: "ring_timeout" });
    expect((await call(guid)).history.at(-1)).toMatchObject({ event: "status_update", bmxStatus: "timeout_online_signal", applied: false });
  });
});
