import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import functionsTest from "firebase-functions-test";
import { ApnsFake } from "../fakes/apns-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { TEST_APNS } from "../fakes/tls";
import { isolatedProjectId, testFirestore, waitFor } from "../helpers/emulators";
import { handleWebhook } from "../../src/webhook/webhook-service";
import { createBody } from "../helpers/butterflymx-payloads";
import { frozen } from "../helpers/failures";
import { ANDROID, configureAsEmulated, endCall, IPHONE, seedResident, seedRingingCall, storedCall } from "../helpers/fixtures";

/**
 * The deployed trigger functions, run by firebase-functions-test `wrap()` with real snapshots, configured the
 * way the emulator configures them: params and secrets from the environment, pushes to local FCM / APNs
 * servers (PUSH_*_ORIGIN, honoured only when FUNCTIONS_EMULATOR is true).
 */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
const fft = functionsTest({ projectId });
let fcm: FcmFake;
let apns: ApnsFake;
let triggers: {
  onCallCreated: typeof import("../../src/calls/on-call-created.function").onCallCreated;
  onCallUpdated: typeof import("../../src/calls/on-call-updated.function").onCallUpdated;
};

/** The stored call as the trigger receives it, with its real update time to the nanosecond. */
const snapshot = async (guid: string) => {
  const stored = await db.doc(`calls/${guid}`).get();
  const time = (t: Timestamp) => `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}.${String(t.nanoseconds).padStart(9, "0")}Z`;
  return fft.firestore.makeDocumentSnapshot(stored.data()!, `calls/${guid}`, { createTime: time(stored.createTime!), updateTime: time(stored.updateTime!) });
};

beforeAll(async () => {
  [fcm, apns] = await Promise.all([FcmFake.start(), ApnsFake.start()]);
  configureAsEmulated(projectId, {
    PUSH_FCM_ORIGIN: fcm.origin,
    PUSH_APNS_ORIGIN: apns.origin,
    PUSH_CA_FILE: join(__dirname, "../fakes/tls/ca.pem"),
    APNS_KEY: TEST_APNS.key,
    APNS_KEY_ID: TEST_APNS.keyId,
    APNS_TEAM_ID: TEST_APNS.teamId,
  });
  triggers = {
    onCallCreated: (await import("../../src/calls/on-call-created.function")).onCallCreated,
    onCallUpdated: (await import("../../src/calls/on-call-updated.function")).onCallUpdated,
  };
});
beforeEach(async () => {
  await firestore.clear();
  fcm.reset();
  apns.reset();
});
afterAll(async () => {
  fft.cleanup();
  await Promise.all([fcm.close(), apns.close(), firestore.close()]);
});

describe("onCallCreated (wrapped)", () => {
  it("rings the recipients' devices through FCM (HTTP/1.1 via httpAgent) and APNs", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    await fft.wrap(triggers.onCallCreated)({ data: await snapshot(guid), params: { guid } });

    const [ring] = fcm.for(ANDROID.fcmToken);
    expect(ring).toMatchObject({ projectId, httpVersion: "1.1", authorization: "Bearer emulator-access-token" });
    expect(ring.message.data).toMatchObject({ type: "call.ring", guid });
    expect(apns.for(IPHONE.voipToken)[0].headers).toMatchObject({ "apns-push-type": "voip", "apns-topic": `${TEST_APNS.bundleId}.voip` });
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", sent: 2 });
  });

  it("rings nobody when the same event is delivered again (retried trigger, the original snapshot)", async () => {
    await seedResident(db, "alice", [ANDROID]);
    const guid = await seedRingingCall(db, ["alice"]);
    const wrapped = fft.wrap(triggers.onCallCreated);
    const event = { data: await snapshot(guid), params: { guid } };
    await wrapped(event);
    await wrapped(event);
    expect(fcm.for(ANDROID.fcmToken)).toHaveLength(1);
  });
});

describe("onCallUpdated (wrapped)", () => {
  it("stops the ringing when the call leaves ringing, and ignores other updates", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    await fft.wrap(triggers.onCallCreated)({ data: await snapshot(guid), params: { guid } });
    const ringing = await snapshot(guid);
    const wrapped = fft.wrap(triggers.onCallUpdated);

    await wrapped({ data: fft.makeChange(ringing, ringing), params: { guid } });
    expect(fcm.requests.filter((r) => r.message.data?.type === "call.end")).toHaveLength(0);

    await endCall(db, guid, "connecting_sip");
    await wrapped({ data: fft.makeChange(ringing, await snapshot(guid)), params: { guid } });
    expect(fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring", "call.end"]);
    expect(fcm.for(IPHONE.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.end"]);
    expect(apns.requests).toHaveLength(1);
    const stop = await waitFor(async () => (await storedCall(db, guid)).delivery.stop, "the stop summary");
    expect(stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
  });

  it("rings a recipient who joins a ringing call after its ring finished, and nobody twice", async () => {
    const BOB_PHONE = { deviceId: "bob-phone", platform: "android", fcmToken: "fcm-wrap-android-02" };
    await seedResident(db, "alice", [ANDROID]);
    await seedResident(db, "bob", [BOB_PHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    await fft.wrap(triggers.onCallCreated)({ data: await snapshot(guid), params: { guid } });
    const before = await snapshot(guid);
    await db.doc(`calls/${guid}`).update({ recipients: ["alice", "bob"] });
    await fft.wrap(triggers.onCallUpdated)({ data: fft.makeChange(before, await snapshot(guid)), params: { guid } });

    expect(fcm.for(BOB_PHONE.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring"]);
    expect(fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring"]);
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", devices: 2, recipients: { alice: "rung", bob: "rung" } });
  });
});

describe("the net behind the webhook (wrapped)", () => {
  it("rings what a webhook that died right after its claim left, once the claim's lease expires", async () => {
    const operatorSecret = "operator-secret-for-the-wrapped-net-0123456789";
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    await db.doc("bmxUsers/777").set({ uids: ["alice"] });
    const body = createBody({ user: { id: 777 } });
    const guid = body.guid as string;
    const { runtimePushDeps } = await import("../../src/calls/push-deps");
    const answer = await handleWebhook(
      { method: "POST", path: `/${operatorSecret}`, contentType: "application/json", rawBody: Buffer.from(JSON.stringify(body)) },
      { db, operatorSecret, retentionDays: 30, now: Date.now, pushes: { ...runtimePushDeps(), db: frozen(db) }, firestoreBudgetMs: 1_000 },
    );
    expect(answer.status).toBe(200);
    // The create's own event: the webhook's claim on it, nothing rung.
    const created = await snapshot(guid);
    expect(created.get("delivery.state")).toBe("ringing");
    expect(created.get("delivery.ringLease.until")).toBeDefined();
    expect(fcm.requests).toHaveLength(0);

    await fft.wrap(triggers.onCallCreated)({ data: created, params: { guid } });
    expect(fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring"]);
    expect(apns.for(IPHONE.voipToken)).toHaveLength(1);
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", devices: 2, sent: 2 });
  });
});
