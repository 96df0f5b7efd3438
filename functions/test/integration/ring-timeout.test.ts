import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { acknowledgeDelivery } from "../../src/calls/acknowledgements";
import { ringCall } from "../../src/calls/ring-service";
import { ringTimedOut } from "../../src/calls/ring-timeout-service";
import { stopCall } from "../../src/calls/stop-service";
import { NotAllowed } from "../../src/shared/errors";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { useFeatureFakes } from "../helpers/feature-fakes";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { PushHarness } from "../helpers/push-harness";
import { ANDROID, endCall, IPAD_FCM_ONLY, readDeviceRecord, seedResident, seedRingingCall, storedCall } from "../helpers/fixtures";

/** The missed-call timeout, invoked directly (the Cloud Tasks emulation runs it in the e2e suite). */
const fakes = useFeatureFakes(__filename);
const db = fakes.db;
let fake: ButterflyMxFake;
let push: PushHarness;
beforeAll(() => void ({ fake, push } = fakes));

/** A clock already past every test call's ring window, as when the task runs on time. */
const timeoutDeps = () => ({ db, bmx: accountDeps(db, fake).bmx, now: () => Date.now() + 44_000, ringWindowMs: 40_000 });


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
    await seedResident(db, "bo", [ANDROID, IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["bo"]);
    await ringCall(guid, push.deps(db));
    await expect(ringTimedOut(timeoutDeps(), guid)).resolves.toEqual({ ended: "missed", askedButterflyMx: false });
    expect(await storedCall(db, guid)).toMatchObject({ status: "missed", bmxStatus: "initializing", endReason: "ring_timeout" });
    expect((await storedCall(db, guid)).history.at(-1)).toMatchObject({ event: "ring_timeout", status: "missed", via: "ring_timeout" });

    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 2 });
    expect(push.fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring", "call.end"]);
    expect(push.fcm.for(IPAD_FCM_ONLY.fcmToken).at(-1)?.message.apns?.payload).toMatchObject({ aps: { alert: { title: "Missed call" } } });
  });

  it("waits for the end of the window when its task is dispatched early", async () => {
    await seedResident(db, "gus", [ANDROID]);
    const createdAt = Date.now();
    const guid = await seedRingingCall(db, ["gus"], { createdAt });
    let now = createdAt + 1_000;
    const waited: number[] = [];
    const early = { ...timeoutDeps(), now: () => now, sleep: async (ms: number) => void (waited.push(ms), (now += ms)) };
    await expect(ringTimedOut(early, guid)).resolves.toMatchObject({ ended: "missed" });
    expect(waited).toEqual([42_000]);
    expect((await storedCall(db, guid)).endedAt?.toMillis()).toBe(createdAt + 43_000);
  });

  it("fires once and only for calls still ringing", async () => {
    await seedResident(db, "cy", [ANDROID]);
    const answered = await seedRingingCall(db, ["cy"]);
    await endCall(db, answered, "connecting_sip");
    await expect(ringTimedOut(timeoutDeps(), answered)).resolves.toEqual({ skipped: "call_answered" });
    expect(await storedCall(db, answered)).toMatchObject({ status: "answered", endReason: "butterflymx" });

    const lost = await seedRingingCall(db, ["cy"]);
    await ringTimedOut(timeoutDeps(), lost);
    await expect(ringTimedOut(timeoutDeps(), lost)).resolves.toEqual({ skipped: "call_missed" });
    expect((await storedCall(db, lost)).history.filter((h) => h.event === "ring_timeout")).toHaveLength(1);
  });

  it("asks ButterflyMX with a recipient's sign-in and takes its terminal status", async () => {
    fake.addUser(resident("911"));
    await linkAccount(accountDeps(db, fake), "dee", signInAtButterflyMx(fake, "911"));
    const guid = await seedRingingCall(db, ["dee"]);
    fake.addCallLogs("911", { id: "1", guid, loggedAt: new Date().toISOString(), panelId: "28516", status: "canceled" });
    await expect(ringTimedOut(timeoutDeps(), guid)).resolves.toEqual({ ended: "canceled", askedButterflyMx: true });
    expect(await storedCall(db, guid)).toMatchObject({ status: "canceled", bmxStatus: "canceled", endReason: "butterflymx" });
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
    expect(await storedCall(db, guid)).toMatchObject({ status: "missed", bmxStatus: "timeout_online_signal", endReason: "ring_timeout" });
    expect((await storedCall(db, guid)).history.at(-1)).toMatchObject({ event: "status_update", bmxStatus: "timeout_online_signal", applied: false });
  });
});

describe("acknowledgeDelivery", () => {
  const ack = (uid: string, guid: string, deviceId: string, event: "received" | "displayed" | "answered" | "declined", at = Date.now()) =>
    acknowledgeDelivery(db, uid, { guid, deviceId, event }, Timestamp.fromMillis(at));

  it("records each event on the device's own record once, and refuses another user's device", async () => {
    await seedResident(db, "hal", [ANDROID]);
    await seedResident(db, "ivy", [IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["hal", "ivy"]);
    await ringCall(guid, push.deps(db));
    const t = Date.now();

    await expect(ack("hal", guid, ANDROID.deviceId, "received", t)).resolves.toEqual({ recorded: true, at: new Date(t).toISOString() });
    await expect(ack("hal", guid, ANDROID.deviceId, "received", t + 500)).resolves.toEqual({ recorded: false, at: new Date(t).toISOString() });
    await ack("hal", guid, ANDROID.deviceId, "displayed", t + 800);
    expect((await readDeviceRecord(db, guid, ANDROID.deviceId))!.ack).toEqual({ received: Timestamp.fromMillis(t), displayed: Timestamp.fromMillis(t + 800) });
    expect((await db.doc(`users/hal/devices/${ANDROID.deviceId}`).get()).get("acknowledges")).toBe(true);

    const stolen = ack("ivy", guid, ANDROID.deviceId, "answered");
    await expect(stolen).rejects.toThrow(NotAllowed);
    await expect(stolen).rejects.toThrow("did not go to one of your devices");
    await expect(ack("hal", guid, IPAD_FCM_ONLY.deviceId, "received")).rejects.toThrow(NotAllowed);
    await expect(ack("hal", randomUUID(), ANDROID.deviceId, "received")).rejects.toThrow(NotAllowed);
    expect((await readDeviceRecord(db, guid, ANDROID.deviceId))!.ack).not.toHaveProperty("answered");
  });

  it("flags a ring the provider accepted but an acknowledging device never received, and spares apps that never acknowledge", async () => {
    await seedResident(db, "jo", [ANDROID, IPAD_FCM_ONLY]);
    await db.doc(`users/jo/devices/${ANDROID.deviceId}`).update({ acknowledges: true });
    const guid = await seedRingingCall(db, ["jo"]);
    await ringCall(guid, push.deps(db));
    await ringTimedOut(timeoutDeps(), guid);
    expect((await readDeviceRecord(db, guid, ANDROID.deviceId))!.ring).toMatchObject({ outcome: "sent", unacknowledged: true });
    expect((await readDeviceRecord(db, guid, IPAD_FCM_ONLY.deviceId))!.ring).not.toHaveProperty("unacknowledged");

    const heard = await seedRingingCall(db, ["jo"]);
    await ringCall(heard, push.deps(db));
    await ack("jo", heard, ANDROID.deviceId, "received");
    await ringTimedOut(timeoutDeps(), heard);
    expect((await readDeviceRecord(db, heard, ANDROID.deviceId))!.ring).not.toHaveProperty("unacknowledged");
  });
});
