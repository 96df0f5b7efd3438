import { LEASE_MS } from "../../src/calls/leases";
import { ringCall } from "../../src/calls/ring-service";
import { stopCall } from "../../src/calls/stop-service";
import { isolatedProjectId, testFirestore, waitFor } from "../helpers/emulators";
import { commitsFailAfter, failingNextQuery, failingNextRead, hangingGateway, testClock, transactionsFail } from "../helpers/failures";
import { PushHarness, startPushHarness } from "../helpers/push-harness";
import { ANDROID, endCall, IPAD_FCM_ONLY, IPHONE, IPHONE_VOIP_ONLY, readDeviceRecord, seedResident, seedRingingCall, seenCall, storedCall, VOIP_TOKEN } from "../helpers/fixtures";

const firestore = testFirestore(isolatedProjectId(__filename));
const db = firestore.db;
let push: PushHarness;

const deviceDoc = async (uid: string, deviceId: string) => (await db.doc(`users/${uid}/devices/${deviceId}`).get()).data();

beforeAll(async () => {
  push = await startPushHarness(firestore.projectId);
});
beforeEach(async () => {
  await firestore.clear();
  push.reset();
});
afterAll(async () => {
  await push.close();
  await firestore.close();
});

describe("ring", () => {
  it("rings every device of every recipient on its channel and records each outcome", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    await seedResident(db, "bob", [IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["alice", "bob"]);

    const summary = await ringCall(guid, push.deps(db));

    expect(summary).toMatchObject({ state: "rung", devices: 3, sent: 3, failed: 0, recipients: { alice: "rung", bob: "rung" } });
    const [android] = push.fcm.for(ANDROID.fcmToken);
    expect(android.httpVersion).toBe("1.1"); // firebase-admin's transport that keeps connections open
    expect(android.authorization).toBe("Bearer test-access-token");
    expect(android.message.android).toEqual({ priority: "high", ttl: expect.stringMatching(/^(3[0-9]|40)(\.\d+)?s$/), collapse_key: guid });
    expect(android.message.data).toMatchObject({ type: "call.ring", guid, panelName: "Front Door", unitLabel: "4B", callStatus: "initializing" });
    expect(android.message).not.toHaveProperty("notification");
    const [ipad] = push.fcm.for(IPAD_FCM_ONLY.fcmToken);
    expect(ipad.message.apns?.headers).toMatchObject({ "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": guid });
    const [voip] = push.apns.for(IPHONE.voipToken);
    expect(voip.headers).toMatchObject({ "apns-push-type": "voip", "apns-topic": "com.example.intercom.voip", "apns-priority": "10", "apns-expiration": "0" });
    expect(voip.payload).toMatchObject({ type: "call.ring", guid });
    expect(push.fcm.for(IPHONE.fcmToken)).toHaveLength(0); // PushKit rings it; no second ring over FCM

    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ uid: "alice", platform: "android", ring: { channel: "fcm_android", outcome: "sent", attempts: 1 } });
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { channel: "apns_voip", outcome: "sent", providerId: expect.any(String) } });
    expect(await readDeviceRecord(db, guid, "ipad"))!.toMatchObject({ uid: "bob", ring: { channel: "fcm_ios", outcome: "sent" } });
    const stored = await storedCall(db, guid);
    expect(stored.delivery).toMatchObject({ state: "rung", devices: 3, sent: 3, recipients: { alice: "rung", bob: "rung" } });
    expect(stored.delivery.firstRingMs).toBeGreaterThanOrEqual(0);
    expect((await readDeviceRecord(db, guid, "pixel"))!.expireAt).toEqual(stored.expireAt);
  });

  it("skips recipients with Do Not Disturb or a phone-call preference, and says why", async () => {
    await seedResident(db, "alice", [ANDROID], { doNotDisturb: true });
    await seedResident(db, "bob", [IPAD_FCM_ONLY], { contactPreference: "phone_call" });
    await seedResident(db, "carol", []);
    const guid = await seedRingingCall(db, ["alice", "bob", "carol"]);
    await ringCall(guid, push.deps(db));
    expect(push.fcm.requests).toHaveLength(0);
    expect((await storedCall(db, guid)).delivery).toMatchObject({
      state: "undeliverable",
      reason: "nothing_to_ring",
      recipients: { alice: "do_not_disturb", bob: "phone_call", carol: "no_devices" },
      devices: 0,
    });
  });

  it("names the single reason when every recipient shares it", async () => {
    await seedResident(db, "alice", [ANDROID], { doNotDisturb: true });
    const guid = await seedRingingCall(db, ["alice"]);
    await ringCall(guid, push.deps(db));
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "undeliverable", reason: "do_not_disturb" });
  });

  it("rings each device once when the trigger runs twice, even at the same time", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const outcomes = await Promise.all([ringCall(guid, push.deps(db)), ringCall(guid, push.deps(db))]);
    await ringCall(guid, push.deps(db));
    expect(outcomes.filter((o) => "skipped" in o)).toHaveLength(1);
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.apns.for(IPHONE.voipToken)).toHaveLength(1);
  });

  it("never rings a call that is no longer ringing or whose ring window has passed", async () => {
    await seedResident(db, "alice", [ANDROID]);
    const ended = await seedRingingCall(db, ["alice"]);
    await endCall(db, ended, "canceled");
    await expect(ringCall(ended, push.deps(db))).resolves.toEqual({ skipped: "call_canceled" });
    const stale = await seedRingingCall(db, ["alice"], { createdAt: Date.now() - 41_000 });
    await expect(ringCall(stale, push.deps(db))).resolves.toEqual({ skipped: "ring_window_passed" });
    expect((await storedCall(db, stale)).delivery).toMatchObject({ state: "not_rung", reason: "ring_window_passed" });
    expect(push.fcm.requests).toHaveLength(0);
  });

  it("gives the claim back when the recipients cannot be read, so the retried trigger rings", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const version = await seenCall(db, guid);
    await expect(ringCall(guid, push.deps(failingNextRead(db)), { seen: version })).rejects.toThrow("injected read failure");
    expect(push.fcm.requests).toHaveLength(0);
    expect(push.apns.requests).toHaveLength(0);
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "pending" });
    expect((await storedCall(db, guid)).delivery).not.toHaveProperty("ringClaimedAt");

    await expect(ringCall(guid, push.deps(db), { seen: version })).resolves.toMatchObject({ state: "rung", devices: 2, sent: 2 });
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.apns.for(IPHONE.voipToken)).toHaveLength(1);
  });

  describe("with the version the trigger saw", () => {
    it("claims with one conditional write and rings each device once, even when the trigger runs twice at once", async () => {
      await seedResident(db, "alice", [ANDROID, IPHONE]);
      const guid = await seedRingingCall(db, ["alice"]);
      const version = await seenCall(db, guid);
      const outcomes = await Promise.all([ringCall(guid, push.deps(db), { seen: version }), ringCall(guid, push.deps(db), { seen: version })]);
      expect(outcomes.filter((o) => "skipped" in o)).toEqual([{ skipped: expect.stringMatching(/^delivery_(ringing|rung)$/) }]);
      expect(await ringCall(guid, push.deps(db), { seen: version })).toEqual({ skipped: expect.stringMatching(/^delivery_/) });
      expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
      expect(push.apns.for(IPHONE.voipToken)).toHaveLength(1);
      expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", ringClaimedAt: expect.anything() });
    });

    it("decides on the current call when it changed after the trigger's snapshot: an answered call rings nobody", async () => {
      await seedResident(db, "alice", [ANDROID]);
      const guid = await seedRingingCall(db, ["alice"]);
      const version = await seenCall(db, guid);
      await endCall(db, guid, "connecting_sip");
      await expect(ringCall(guid, push.deps(db), { seen: version })).resolves.toEqual({ skipped: "call_answered" });
      expect(push.fcm.requests).toHaveLength(0);
    });

    it("rings recipients added after the trigger's snapshot", async () => {
      await seedResident(db, "alice", [ANDROID]);
      await seedResident(db, "bob", [IPAD_FCM_ONLY]);
      const guid = await seedRingingCall(db, ["alice"]);
      const version = await seenCall(db, guid);
      await db.doc(`calls/${guid}`).update({ recipients: ["alice", "bob"] });
      expect(await ringCall(guid, push.deps(db), { seen: version })).toMatchObject({ state: "rung", recipients: { alice: "rung", bob: "rung" } });
      expect(push.fcm.for(IPAD_FCM_ONLY.fcmToken)).toHaveLength(1);
    });

    it("closes a call whose ring window passed as not_rung, and rings nobody", async () => {
      await seedResident(db, "alice", [ANDROID]);
      const guid = await seedRingingCall(db, ["alice"], { createdAt: Date.now() - 41_000 });
      await expect(ringCall(guid, push.deps(db), { seen: await seenCall(db, guid) })).resolves.toEqual({ skipped: "ring_window_passed" });
      expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "not_rung", reason: "ring_window_passed" });
      expect(push.fcm.requests).toHaveLength(0);
    });
  });

  it("retries transient failures with short backoff (FCM 500, APNs 503) and succeeds", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    push.fcm.script(ANDROID.fcmToken, { error: "INTERNAL" });
    push.apns.script(IPHONE.voipToken, { status: 503, reason: "ServiceUnavailable" });
    const guid = await seedRingingCall(db, ["alice"]);
    const summary = await ringCall(guid, push.deps(db));
    expect(summary).toMatchObject({ state: "rung", sent: 2 });
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(2);
    expect(push.apns.for(IPHONE.voipToken)).toHaveLength(2);
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ ring: { outcome: "sent", attempts: 2 } });
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { outcome: "sent", attempts: 2 } });
  });

  it("retries an APNs 500 (InternalServerError) and succeeds", async () => {
    await seedResident(db, "alice", [IPHONE]);
    push.apns.script(IPHONE.voipToken, { status: 500, reason: "InternalServerError" });
    const guid = await seedRingingCall(db, ["alice"]);
    expect(await ringCall(guid, push.deps(db))).toMatchObject({ state: "rung", sent: 1 });
    expect(push.apns.for(IPHONE.voipToken).map((r) => r.status)).toEqual([500, 200]);
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { outcome: "sent", attempts: 2 } });
  });

  it("lets firebase-admin retry an FCM 503 itself, then records one attempt", async () => {
    await seedResident(db, "alice", [ANDROID]);
    push.fcm.script(ANDROID.fcmToken, { error: "UNAVAILABLE" });
    const guid = await seedRingingCall(db, ["alice"]);
    await ringCall(guid, push.deps(db));
    expect(push.fcm.for(ANDROID.fcmToken).map((r) => r.reply)).toEqual(["UNAVAILABLE", "ok"]);
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ ring: { outcome: "sent", attempts: 1 } });
  });

  it("stops retrying when the call leaves ringing", async () => {
    await seedResident(db, "alice", [ANDROID]);
    push.fcm.replyAlways(ANDROID.fcmToken, { error: "INTERNAL" });
    const guid = await seedRingingCall(db, ["alice"]);
    const deps = push.deps(db, { sleep: async () => endCall(db, guid, "connecting_sip") });
    await ringCall(guid, deps);
    expect(push.fcm.for(ANDROID.fcmToken).filter((r) => r.message.data?.type === "call.ring")).toHaveLength(1);
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ ring: { outcome: "canceled", errorCode: "messaging/internal-error" } });
  });

  it("gives up on a device whose provider answers after the ring window", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    push.apns.replyAlways(IPHONE.voipToken, { status: 200, delayMs: 5000 });
    const guid = await seedRingingCall(db, ["alice"], { createdAt: Date.now() - 37_000 });
    await ringCall(guid, push.deps(db));
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { outcome: "expired", errorCode: "timeout" } });
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ ring: { outcome: "sent" } });
  });

  it("rings Android when APNs is unreachable (one platform never blocks the other)", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const { ApnsClient } = await import("../../src/push/apns-client");
    const { providerGateway } = await import("../../src/push/push-gateway");
    const unreachable = new ApnsClient({
      credentials: { key: (await import("../fakes/tls")).TEST_APNS.key, keyId: "TESTKEY001", teamId: "TESTTEAM01" },
      origins: { production: "https://127.0.0.1:9", sandbox: "https://127.0.0.1:9" },
    });
    const deps = push.deps(db, { gateway: () => providerGateway({ messaging: () => push.messaging, apns: () => unreachable }) });
    const summary = await ringCall(guid, deps);
    unreachable.close();
    expect(summary).toMatchObject({ state: "rung", sent: 1, failed: 1 });
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { outcome: "failed", attempts: 4 } });
    expect(await deviceDoc("alice", "iphone")).toMatchObject({ voipToken: IPHONE.voipToken });
  });

  it("rings an iOS VoIP device through its FCM token when APNs is not configured", async () => {
    await seedResident(db, "alice", [IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    await ringCall(guid, push.deps(db, { apnsConfigured: false }));
    expect(push.apns.requests).toHaveLength(0);
    expect(push.fcm.for(IPHONE.fcmToken)[0].message.apns?.headers).toMatchObject({ "apns-push-type": "alert" });
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { channel: "fcm_ios", outcome: "sent" } });
  });
});

describe("token hygiene", () => {
  const android = (n: number) => ({ deviceId: `android-${n}`, platform: "android", fcmToken: `fcm-token-prune-${n}` });
  const iphone = (n: number) => ({ deviceId: `iphone-${n}`, platform: "ios", voipToken: VOIP_TOKEN(10 + n), bundleId: "com.example.intercom", apnsEnvironment: "production" });

  it("prunes FCM tokens on UNREGISTERED, SENDER_ID_MISMATCH and token INVALID_ARGUMENT, keeps them on PERMISSION_DENIED and quota", async () => {
    await seedResident(db, "alice", [android(1), android(2), android(3), android(4), android(5)]);
    push.fcm.script("fcm-token-prune-1", { error: "UNREGISTERED" });
    push.fcm.script("fcm-token-prune-2", { error: "SENDER_ID_MISMATCH" });
    push.fcm.script("fcm-token-prune-3", { error: "INVALID_ARGUMENT" });
    push.fcm.script("fcm-token-prune-4", { error: "PERMISSION_DENIED" });
    push.fcm.script("fcm-token-prune-5", { error: "QUOTA_EXCEEDED" });
    const guid = await seedRingingCall(db, ["alice"]);
    const summary = await ringCall(guid, push.deps(db));
    expect(summary).toMatchObject({ state: "failed", pruned: 3 });
    for (const n of [1, 2, 3]) {
      expect(await deviceDoc("alice", `android-${n}`)).toBeUndefined();
      expect(await readDeviceRecord(db, guid, `android-${n}`))!.toMatchObject({ ring: { outcome: "prune", tokenPruned: true } });
    }
    expect(await deviceDoc("alice", "android-4")).toBeDefined();
    expect(await readDeviceRecord(db, guid, "android-4"))!.toMatchObject({ ring: { outcome: "credentials", errorCode: "messaging/mismatched-credential" } });
    expect(await deviceDoc("alice", "android-5")).toBeDefined();
    expect(await readDeviceRecord(db, guid, "android-5"))!.toMatchObject({ ring: { outcome: "throttled", attempts: 1 } });
  });

  it("prunes VoIP tokens on 410 / BadDeviceToken / DeviceTokenNotForTopic, keeps them on provider-token errors and 429", async () => {
    await seedResident(db, "alice", [iphone(1), iphone(2), iphone(3), iphone(4), iphone(5), iphone(6)]);
    push.apns.script(VOIP_TOKEN(11), { status: 410, reason: "Unregistered", timestamp: Date.now() });
    push.apns.script(VOIP_TOKEN(12), { status: 400, reason: "BadDeviceToken" });
    push.apns.script(VOIP_TOKEN(13), { status: 400, reason: "DeviceTokenNotForTopic" });
    push.apns.script(VOIP_TOKEN(14), { status: 403, reason: "ExpiredProviderToken" });
    push.apns.script(VOIP_TOKEN(15), { status: 429, reason: "TooManyRequests" });
    push.apns.script(VOIP_TOKEN(16), { status: 410, reason: "Unregistered", timestamp: Date.now() - 3_600_000 });
    const guid = await seedRingingCall(db, ["alice"]);
    await ringCall(guid, push.deps(db));
    for (const n of [1, 2, 3]) expect(await deviceDoc("alice", `iphone-${n}`)).toBeUndefined();
    expect(await deviceDoc("alice", "iphone-4")).toBeDefined();
    expect(await deviceDoc("alice", "iphone-5")).toBeDefined();
    // Re-registered after APNs' 410 timestamp: the token is newer than the verdict.
    expect(await deviceDoc("alice", "iphone-6")).toBeDefined();
    expect(await readDeviceRecord(db, guid, "iphone-4"))!.toMatchObject({ ring: { outcome: "credentials", errorCode: "ExpiredProviderToken" } });
    expect(await readDeviceRecord(db, guid, "iphone-5"))!.toMatchObject({ ring: { outcome: "throttled" } });
  });
});

describe("provider connections", () => {
  it("rings over the FCM connection the previous ring opened", async () => {
    push.app.options.httpAgent?.destroy(); // no connection left from earlier tests: the first ring opens one
    await seedResident(db, "alice", [ANDROID]);
    for (let i = 0; i < 3; i++) await ringCall(await seedRingingCall(db, ["alice"]), push.deps(db));
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(3);
    expect(push.fcm.connections).toBe(1);
  });

  it("reuses one APNs HTTP/2 session and one provider token across calls", async () => {
    await seedResident(db, "alice", [IPHONE, { ...IPHONE_VOIP_ONLY, apnsEnvironment: "sandbox" }]);
    for (let i = 0; i < 3; i++) await ringCall(await seedRingingCall(db, ["alice"]), push.deps(db));
    expect(push.apns.requests).toHaveLength(6);
    expect(push.apns.sessions).toBeLessThanOrEqual(1);
    expect(new Set(push.apns.requests.map((r) => r.jwt)).size).toBe(1);
  });

  /** An APNs client on the fake whose clock the test moves. */
  async function clockedApnsClient() {
    const { ApnsClient } = await import("../../src/push/apns-client");
    const { TEST_APNS, TEST_TLS } = await import("../fakes/tls");
    const clock = { now: Date.UTC(2026, 10, 22, 12) };
    const client = new ApnsClient({
      credentials: { key: TEST_APNS.key, keyId: TEST_APNS.keyId, teamId: TEST_APNS.teamId },
      origins: { production: push.apns.origin, sandbox: push.apns.origin },
      ca: TEST_TLS.ca,
      now: () => clock.now,
    });
    return { client, clock };
  }
  const voipRequest = (token: string) => ({ token, environment: "production" as const, headers: { "apns-topic": "com.example.intercom.voip", "apns-push-type": "voip" }, payload: {} });

  it("mints one provider token when many requests find the old one expired at once", async () => {
    const { client, clock } = await clockedApnsClient();
    const request = (n: number) => voipRequest(VOIP_TOKEN(40 + n));
    await client.send(request(0), 5000);
    clock.now += 41 * 60_000;
    await Promise.all(Array.from({ length: 10 }, (_, n) => client.send(request(n), 5000)));
    client.close();
    const jwts = push.apns.requests.map((r) => r.jwt);
    expect(jwts).toHaveLength(11);
    expect(new Set(jwts.slice(1)).size).toBe(1);
    expect(jwts[1]).not.toBe(jwts[0]);
  });

  it("mints a new provider token after 40 minutes, and after APNs calls it expired", async () => {
    const { client, clock } = await clockedApnsClient();
    const request = voipRequest(VOIP_TOKEN(7));
    await client.send(request, 5000);
    clock.now += 39 * 60_000;
    await client.send(request, 5000);
    clock.now += 2 * 60_000;
    await client.send(request, 5000);
    push.apns.script(VOIP_TOKEN(7), { status: 403, reason: "ExpiredProviderToken" });
    await client.send(request, 5000);
    clock.now += 1000;
    await client.send(request, 5000);
    client.close();
    const jwts = push.apns.for(VOIP_TOKEN(7)).map((r) => r.jwt);
    expect(jwts[0]).toBe(jwts[1]);
    expect(jwts[2]).not.toBe(jwts[1]);
    expect(jwts[3]).toBe(jwts[2]);
    expect(jwts[4]).not.toBe(jwts[3]);
  });
});

describe("stop", () => {
  async function rungCall(devices: Array<Record<string, unknown> & { deviceId: string }>) {
    await seedResident(db, "alice", devices);
    const guid = await seedRingingCall(db, ["alice"]);
    await ringCall(guid, push.deps(db));
    push.reset();
    return guid;
  }

  /** A call that ends while its Android ring is held at FCM; `finishRing` lets the ring go on and waits for it. */
  async function endedDuringRing() {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    let open!: () => void;
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: new Promise<void>((resolve) => (open = resolve)) });
    const guid = await seedRingingCall(db, ["alice"]);
    const ringing = ringCall(guid, push.deps(db));
    await waitFor(async () => push.fcm.for(ANDROID.fcmToken)[0], "the ring at FCM (held there)");
    await endCall(db, guid, "canceled");
    return {
      guid,
      finishRing: async () => {
        open();
        await ringing;
      },
    };
  }

  it("tells every rung device the call ended, never with a VoIP push", async () => {
    const guid = await rungCall([ANDROID, IPHONE, IPAD_FCM_ONLY, IPHONE_VOIP_ONLY]);
    await endCall(db, guid, "connecting_sip");
    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 4 });

    expect(push.apns.requests).toHaveLength(0);
    const [android] = push.fcm.for(ANDROID.fcmToken);
    expect(android.message.data).toEqual({ type: "call.end", guid, callStatus: "connecting_sip", reason: "answered" });
    expect(android.message.android).toMatchObject({ priority: "high", collapse_key: guid });
    // Rung through PushKit: CallKit's call ends in the app, so a background push.
    const [voipRung] = push.fcm.for(IPHONE.fcmToken);
    expect(voipRung.message.apns?.headers).toEqual({ "apns-push-type": "background", "apns-priority": "5", "apns-collapse-id": guid });
    // Rung with a "Visitor calling" alert (FCM only): an alert under the same collapse id replaces it.
    const [alertRung] = push.fcm.for(IPAD_FCM_ONLY.fcmToken);
    expect(alertRung.message.apns?.headers).toEqual({ "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": guid });
    expect(alertRung.message.apns?.payload).toMatchObject({ aps: { alert: { title: "Call answered", body: "Front Door · unit 4B" } } });
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ stop: { channel: "fcm_android", outcome: "sent" } });
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ stop: { channel: "fcm_ios", outcome: "sent" } });
    expect(await readDeviceRecord(db, guid, "old-iphone"))!.toMatchObject({ stop: { channel: "none", outcome: "no_channel" } });
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 4, sent: 3, failed: 0, unreachable: 1 });
  });

  it("gives the stop's claim back when the devices cannot be read, so the retried trigger stops every device", async () => {
    const guid = await rungCall([ANDROID, IPAD_FCM_ONLY]);
    await endCall(db, guid, "canceled");
    await expect(stopCall(guid, push.deps(failingNextQuery(db)))).rejects.toThrow("injected read failure");
    expect(push.fcm.requests).toHaveLength(0);
    const given = (await storedCall(db, guid)).delivery.stop!;
    expect(given).toMatchObject({ state: "stopping", devices: 0 });
    expect(given.lease!.until.toMillis()).toBeLessThanOrEqual(Date.now());

    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 2 });
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.fcm.for(IPAD_FCM_ONLY.fcmToken)).toHaveLength(1);
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
  });

  it("shows a missed call on iOS when nobody answered", async () => {
    const guid = await rungCall([IPAD_FCM_ONLY]);
    await endCall(db, guid, "timeout_online_signal");
    await stopCall(guid, push.deps(db));
    expect(push.fcm.for(IPAD_FCM_ONLY.fcmToken)[0].message.apns?.payload).toMatchObject({ aps: { alert: { title: "Missed call" } } });
  });

  it("stops each device exactly once when the trigger runs twice, even at the same time", async () => {
    const guid = await rungCall([ANDROID, IPHONE]);
    await endCall(db, guid, "canceled");
    await Promise.all([stopCall(guid, push.deps(db)), stopCall(guid, push.deps(db))]);
    await stopCall(guid, push.deps(db));
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.fcm.for(IPHONE.fcmToken)).toHaveLength(1);
  });

  it("does nothing for a call that is still ringing", async () => {
    const guid = await rungCall([ANDROID]);
    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ skipped: "call_ringing" });
    expect(push.fcm.requests).toHaveLength(0);
  });

  it("sends nothing to a device signed out since the ring", async () => {
    const guid = await rungCall([ANDROID, IPAD_FCM_ONLY]);
    await db.doc("users/alice/devices/pixel").delete();
    await endCall(db, guid, "canceled");
    await stopCall(guid, push.deps(db));
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(0);
    expect(await readDeviceRecord(db, guid, "pixel"))!.toMatchObject({ stop: { outcome: "unregistered" } });
  });

  it("stops with the version the trigger saw, once, even when the trigger runs twice at once", async () => {
    const guid = await rungCall([ANDROID, IPHONE]);
    await endCall(db, guid, "canceled");
    const version = await seenCall(db, guid);
    const outcomes = await Promise.all([stopCall(guid, push.deps(db), { seen: version }), stopCall(guid, push.deps(db), { seen: version })]);
    expect(outcomes).toEqual(expect.arrayContaining([{ stopped: 2 }, { skipped: "stop_claimed" }]));
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.fcm.for(IPHONE.fcmToken)).toHaveLength(1);
  });

  it("stops what it rang itself when the call ended while it sent and nobody had claimed the stop; the trigger then finds it done", async () => {
    const { guid, finishRing } = await endedDuringRing();
    const ended = await seenCall(db, guid);
    await finishRing();
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", devices: 2, stop: { state: "stopped", devices: 2, sent: 2, allDevices: false } });
    expect(push.fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.ring", "call.end"]);
    expect(push.fcm.for(IPHONE.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.end"]);
    expect(await readDeviceRecord(db, guid, ANDROID.deviceId))!.toMatchObject({ ring: { outcome: "sent" }, stop: { outcome: "sent" } });

    await expect(stopCall(guid, push.deps(db), { seen: ended })).resolves.toEqual({ skipped: "stop_claimed" });
    expect(push.fcm.requests.filter((r) => r.message.data?.type === "call.end")).toHaveLength(2);
  });

  it("stops devices the ring was still sending to when the call ended (no device missed, none stopped twice)", async () => {
    const { guid, finishRing } = await endedDuringRing();
    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 0 });
    await finishRing();
    const androidPushes = push.fcm.for(ANDROID.fcmToken).map((r) => r.message.data?.type);
    expect(androidPushes).toEqual(["call.ring", "call.end"]);
    expect(push.fcm.for(IPHONE.fcmToken).map((r) => r.message.data?.type)).toEqual(["call.end"]);
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
  });
});

describe("crashes and leases", () => {
  const ANDROID_2 = { deviceId: "tablet", platform: "android", fcmToken: "fcm-android-000002" };

  it("takes over a ring whose instance died right after claiming, once its lease expires, and rings", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    const { claimRing } = await import("../../src/calls/ring-claim");
    expect(await claimRing(db, guid, { now: time.now(), ringWindowMs: 40_000 })).toMatchObject({ kind: "ring" });

    // The retried trigger waits for the dead instance's lease (no one renews it), then rings.
    await expect(ringCall(guid, push.deps(db, time))).resolves.toMatchObject({ state: "rung", sent: 2 });
    expect(time.moved()).toBeGreaterThanOrEqual(LEASE_MS - 1000);
    expect(push.pushesTo(ANDROID)).toEqual(["ring"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring"]);
    expect((await storedCall(db, guid)).delivery).not.toHaveProperty("ringLease");
  });

  it("takes over a ring killed after its pushes (trigger timeout): rings again, and the stop reaches every device", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE, IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    const killed = hangingGateway(push, db);
    const dead = ringCall(guid, push.deps(db, { ...time, gateway: killed.gateway })).catch(() => undefined);
    await waitFor(async () => (push.fcm.requests.length === 2 && push.apns.requests.length === 1) || undefined, "the killed ring's pushes");

    time.advance(LEASE_MS + 1);
    await expect(ringCall(guid, push.deps(db, time))).resolves.toMatchObject({ state: "rung", devices: 3, sent: 3 });
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "canceled");
    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 3 });
    push.expectStoppedEverywhere([ANDROID, IPHONE, IPAD_FCM_ONLY], endedAt);

    // The killed instance comes back to life late: it records its devices but no longer owns the summary.
    killed.release();
    await dead;
    expect((await storedCall(db, guid)).delivery.stop?.devices).toBe(6);
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", devices: 3, sent: 3 });
    push.expectStoppedEverywhere([ANDROID, IPHONE, IPAD_FCM_ONLY], endedAt);
  });

  it("takes over the stop a ring claimed in its record, when that instance died before recording the stops", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    let open!: () => void;
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: new Promise<void>((resolve) => (open = resolve)) });
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    // Commits: the ring's claim; its record on the call as claimed (refused: the call ended since); its record on the
    // call as read again (which claims the stop); then nothing more.
    const dying = ringCall(guid, push.deps(commitsFailAfter(db, 3), time));
    await waitFor(async () => push.fcm.for(ANDROID.fcmToken)[0], "the ring at FCM (held there)");
    await endCall(db, guid, "canceled");
    open();
    await expect(dying).rejects.toThrow("injected commit failure");
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "rung", stop: { state: "stopping" } });

    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 2 });
    expect(time.moved()).toBeGreaterThanOrEqual(LEASE_MS - 1000);
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
    expect(push.pushesTo(ANDROID)).toEqual(["ring", "end", "end"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring", "end", "end"]);
  });

  it("takes over a ring that failed while recording, re-sending only to devices without a record", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    await expect(ringCall(guid, push.deps(commitsFailAfter(db, 1), time))).rejects.toThrow("injected commit failure");
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "ringing" });

    time.advance(LEASE_MS + 1);
    await expect(ringCall(guid, push.deps(db, time))).resolves.toMatchObject({ state: "rung", sent: 2 });
    expect(push.pushesTo(ANDROID)).toEqual(["ring", "ring"]);
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "connecting_sip");
    await stopCall(guid, push.deps(db, time));
    push.expectStoppedEverywhere([ANDROID, IPHONE], endedAt);
  });

  it("takes over at once a ring that failed while pruning (its lease lapses on the way out)", async () => {
    await seedResident(db, "alice", [ANDROID, ANDROID_2]);
    push.fcm.replyAlways(ANDROID_2.fcmToken, { error: "UNREGISTERED" });
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    await expect(ringCall(guid, push.deps(transactionsFail(db), time))).rejects.toThrow("injected transaction failure");

    await expect(ringCall(guid, push.deps(db, time))).resolves.toMatchObject({ state: "rung", sent: 1, pruned: 1 });
    expect(time.moved()).toBeLessThan(LEASE_MS);
    expect(await deviceDoc("alice", "tablet")).toBeUndefined();
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "canceled");
    await stopCall(guid, push.deps(db, time));
    push.expectStoppedEverywhere([ANDROID], endedAt);
  });

  it("stops every current device of the recipients when the ring died unrecorded and the call ended", async () => {
    await seedResident(db, "alice", [ANDROID, IPHONE]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    const killed = hangingGateway(push, db);
    const dead = ringCall(guid, push.deps(db, { ...time, gateway: killed.gateway })).catch(() => undefined);
    await waitFor(async () => (push.fcm.requests.length === 1 && push.apns.requests.length === 1) || undefined, "the killed ring's pushes");
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "timeout_online_signal");

    time.advance(LEASE_MS + 1);
    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 2 });
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", allDevices: true });
    push.expectStoppedEverywhere([ANDROID, IPHONE], endedAt);
    // The ring's retried trigger closes the dead ring and rings nobody.
    await expect(ringCall(guid, push.deps(db, time))).resolves.toEqual({ skipped: "ring_interrupted" });
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "failed", reason: "ring_interrupted", interrupted: true });
    push.expectStoppedEverywhere([ANDROID, IPHONE], endedAt);
    killed.release();
    await dead;
  });

  it("stops the devices of a ring that died after the stop ran (its retried trigger stops them)", async () => {
    await seedResident(db, "alice", [ANDROID, IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    const killed = hangingGateway(push, db);
    const dead = ringCall(guid, push.deps(db, { ...time, gateway: killed.gateway })).catch(() => undefined);
    await waitFor(async () => push.fcm.requests.length === 2 || undefined, "the killed ring's pushes");
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "canceled");
    // The ring still looks alive: the stop finds nothing recorded to stop.
    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 0 });

    time.advance(LEASE_MS + 1);
    await expect(ringCall(guid, push.deps(db, time))).resolves.toEqual({ skipped: "ring_interrupted" });
    push.expectStoppedEverywhere([ANDROID, IPAD_FCM_ONLY], endedAt);
    killed.release();
    await dead;
  });

  it("stops the devices of a ring that recorded after the stop ran and died before stopping them", async () => {
    await seedResident(db, "alice", [ANDROID, IPAD_FCM_ONLY]);
    let open!: () => void;
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: new Promise<void>((resolve) => (open = resolve)) });
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    // This instance dies as it is about to send its stops: they never leave.
    let die!: () => void;
    const death = new Promise<void>((resolve) => (die = resolve));
    const real = push.deps(db).gateway();
    const dying = {
      sendFcm: async (messages: Parameters<typeof real.sendFcm>[0]) => {
        if (messages.some((m) => m.data?.type === "call.end")) await death;
        return real.sendFcm(messages);
      },
      sendApns: real.sendApns,
    };
    const dead = ringCall(guid, push.deps(db, { ...time, gateway: () => dying })).catch(() => undefined);
    await waitFor(async () => push.fcm.for(ANDROID.fcmToken)[0], "the ring at FCM (held there)");
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "canceled");
    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 0 });
    open();
    await waitFor(async () => ((await storedCall(db, guid)).delivery.devices === 2 ? true : undefined), "the ring's record");
    expect((await storedCall(db, guid)).delivery).toMatchObject({ state: "ringing", ringLease: expect.anything() });

    time.advance(LEASE_MS + 1);
    await expect(ringCall(guid, push.deps(db, time))).resolves.toEqual({ skipped: "ring_interrupted" });
    push.expectStoppedEverywhere([ANDROID, IPAD_FCM_ONLY], endedAt);
    die();
    await dead;
  });

  it("takes over a stop whose instance died after its pushes, and stops every device at least once", async () => {
    await seedResident(db, "alice", [ANDROID, IPAD_FCM_ONLY]);
    const guid = await seedRingingCall(db, ["alice"]);
    const time = testClock();
    await ringCall(guid, push.deps(db, time));
    const endedAt = performance.timeOrigin + performance.now();
    await endCall(db, guid, "canceled");
    const killed = hangingGateway(push, db);
    const dead = stopCall(guid, push.deps(db, { ...time, gateway: killed.gateway })).catch(() => undefined);
    await waitFor(async () => push.fcm.requests.filter((r) => r.message.data?.type === "call.end").length === 2 || undefined, "the killed stop's pushes");
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopping" });

    // Retried before the lease expired, it waits for it, then takes over.
    await expect(stopCall(guid, push.deps(db, time))).resolves.toEqual({ stopped: 2 });
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
    push.expectStoppedEverywhere([ANDROID, IPAD_FCM_ONLY], endedAt);
    killed.release();
    await dead;
  });

  it("rings a recipient added while the ring was sending, and one added after it finished", async () => {
    await seedResident(db, "alice", [ANDROID]);
    await seedResident(db, "bob", [IPAD_FCM_ONLY]);
    await seedResident(db, "carol", [ANDROID_2]);
    let open!: () => void;
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: new Promise<void>((resolve) => (open = resolve)) });
    const guid = await seedRingingCall(db, ["alice"]);
    const ringing = ringCall(guid, push.deps(db));
    await waitFor(async () => push.fcm.for(ANDROID.fcmToken)[0], "alice's ring at FCM");
    await db.doc(`calls/${guid}`).update({ recipients: ["alice", "bob"] });
    open();
    await expect(ringing).resolves.toMatchObject({ state: "rung", recipients: { alice: "rung", bob: "rung" }, devices: 2, sent: 2 });
    expect(push.pushesTo(IPAD_FCM_ONLY)).toEqual(["ring"]);

    await db.doc(`calls/${guid}`).update({ recipients: ["alice", "bob", "carol"] });
    await expect(ringCall(guid, push.deps(db), { whenHeld: "skip" })).resolves.toMatchObject({ recipients: { alice: "rung", bob: "rung", carol: "rung" }, devices: 3 });
    expect(push.pushesTo(ANDROID)).toEqual(["ring"]);
    expect(push.pushesTo(IPAD_FCM_ONLY)).toEqual(["ring"]);
    expect(push.pushesTo(ANDROID_2)).toEqual(["ring"]);
  });
});

describe("pushes under load", () => {
  it("bounds one attempt: a stalled APNs stream is retried on a fresh session within the window, and says why", async () => {
    await seedResident(db, "alice", [IPHONE]);
    push.apns.script(IPHONE.voipToken, { status: 200, delayMs: 3000 });
    const guid = await seedRingingCall(db, ["alice"]);
    await expect(ringCall(guid, push.deps(db, { attemptTimeoutMs: 300 }))).resolves.toMatchObject({ state: "rung", sent: 1 });
    const [stalled, retried] = push.apns.for(IPHONE.voipToken);
    expect(retried).toBeDefined();
    expect(retried.session).not.toBe(stalled.session);
    expect(retried.receivedAt - stalled.receivedAt).toBeLessThan(2000);
    expect(await readDeviceRecord(db, guid, "iphone"))!.toMatchObject({ ring: { outcome: "sent", attempts: 2, retriedOn: ["timeout"] } });
  });

  it("keeps at most 50 FCM requests of one ring in flight, so that another call's pushes never queue behind it", async () => {
    const residents = Array.from({ length: 12 }, (_, r) => `load-${r}`);
    for (const uid of residents) {
      const devices = Array.from({ length: 10 }, (_, d) => ({ deviceId: `${uid}-d${d}`, platform: "android", fcmToken: `fcm-${uid}-device-${d}` }));
      await seedResident(db, uid, devices);
      for (const device of devices) push.fcm.replyAlways(device.fcmToken, { ok: true, delayMs: 30 });
    }
    const guid = await seedRingingCall(db, residents);
    await expect(ringCall(guid, push.deps(db))).resolves.toMatchObject({ state: "rung", devices: 120, sent: 120 });
    expect(push.fcm.maxInFlight).toBeLessThanOrEqual(50);
    expect(push.fcm.maxInFlight).toBeGreaterThan(1);
  });
});
