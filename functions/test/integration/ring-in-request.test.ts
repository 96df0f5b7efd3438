import { Timestamp } from "firebase-admin/firestore";
import { PushDeps } from "../../src/calls/push-deps";
import { ringCall } from "../../src/calls/ring-service";
import { stopCall } from "../../src/calls/stop-service";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { handleWebhook, WebhookResponse } from "../../src/webhook/webhook-service";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { commitsNeverLand, failingAfterSend, frozen, testClock } from "../helpers/failures";
import { ANDROID, claimedVersion, IPHONE, readDeviceRecord, seedResident, seenCall, storedCall } from "../helpers/fixtures";
import { PushHarness, startPushHarness } from "../helpers/push-harness";
import { preciseNow } from "../fakes/server-lifecycle";

// The webhook rings a call it creates and stops a call it ends before it answers; the triggers are the net that
// finishes what a request could not. Driven through the webhook's handler with the real Firestore emulator and the
// local FCM and APNs servers.

const firestore = testFirestore(isolatedProjectId(__filename));
const db = firestore.db;
const SECRET = newWebhookSecret();
const BMX_USER = 777;
const DEVICES = [ANDROID, IPHONE];
let push: PushHarness;

const post = (body: unknown, pushes: Partial<PushDeps> = {}, firestoreBudgetMs?: number): Promise<WebhookResponse> =>
  handleWebhook(
    { method: "POST", path: `/${SECRET}`, contentType: "application/json", rawBody: Buffer.from(JSON.stringify(body)) },
    { db, operatorSecret: "", retentionDays: 30, now: Date.now, pushes: push.deps(db, pushes), firestoreBudgetMs },
  );

/** A promise the test resolves: a provider's answer held until then. */
function gate() {
  let open!: () => void;
  const closed = new Promise<void>((resolve) => (open = resolve));
  return { closed, open };
}

beforeAll(async () => {
  push = await startPushHarness(firestore.projectId);
});
beforeEach(async () => {
  await firestore.clear();
  push.reset();
  await db.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({
    uid: "alice",
    tenantId: "tenant-1",
    bmxIntegrationId: "integration-1",
    bmxUserId: String(BMX_USER),
    region: "na",
    createdAt: Timestamp.now(),
  });
  await db.doc(`bmxUsers/${BMX_USER}`).set({ uids: ["alice"] });
  await seedResident(db, "alice", DEVICES);
});
afterAll(async () => {
  await push.close();
  await firestore.close();
});

describe("ring and stop in the webhook's request", () => {
  it("rings every device before it answers; the ring trigger then finds it recorded and sends nothing", async () => {
    const body = createBody({ user: { id: BMX_USER } });
    const guid = body.guid as string;
    expect((await post(body)).status).toBe(200);

    expect(push.pushesTo(ANDROID)).toEqual(["ring"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring"]);
    const { delivery } = await storedCall(db, guid);
    expect(delivery).toMatchObject({ state: "rung", devices: 2, sent: 2, recipients: { alice: "rung" } });
    expect(delivery).not.toHaveProperty("ringLease");
    expect(await readDeviceRecord(db, guid, ANDROID.deviceId)).toMatchObject({ ring: { channel: "fcm_android", outcome: "sent", attempts: 1 } });
    expect(await readDeviceRecord(db, guid, IPHONE.deviceId)).toMatchObject({ ring: { channel: "apns_voip", outcome: "sent", attempts: 1 } });

    const time = testClock();
    const before = time.now();
    await expect(ringCall(guid, push.deps(db, time), { seen: await claimedVersion(db, guid, "ring") })).resolves.toEqual({ skipped: "delivery_rung" });
    expect(time.now()).toBe(before);
    expect(push.fcm.requests).toHaveLength(1);
    expect(push.apns.requests).toHaveLength(1);
  });

  it("stops every rung device before it answers the status that ends the call (the iPhone through its FCM alert); the stop trigger sends nothing", async () => {
    const body = createBody({ user: { id: BMX_USER } });
    const guid = body.guid as string;
    await post(body);
    expect((await post(statusBody(body, "connecting_sip"))).status).toBe(200);

    expect(push.pushesTo(ANDROID)).toEqual(["ring", "end"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring", "end"]);
    expect(push.fcm.for(IPHONE.fcmToken)).toHaveLength(1);
    expect(await readDeviceRecord(db, guid, IPHONE.deviceId)).toMatchObject({ stop: { channel: "fcm_ios", outcome: "sent" } });
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });

    await expect(stopCall(guid, push.deps(db), { seen: await claimedVersion(db, guid, "stop") })).resolves.toEqual({ skipped: "stop_claimed" });
    expect(push.fcm.requests).toHaveLength(3);
  });

  it("rings only the first of 100 identical creates racing each other, once per device", async () => {
    const body = createBody({ user: { id: BMX_USER } });
    // Each of the 100 reads the audience beside its commit; the emulator serves them one after another while the
    // other suites run, which can outlast the 4.5 s budget. What is under test here is who rings, so the budget is
    // the emulator's, not ButterflyMX's (the load benchmark measures bursts against the budget).
    const answers = await Promise.all(Array.from({ length: 100 }, () => post(body, {}, 30_000)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
    expect(answers.filter((a) => a.body.ok && !a.body.duplicate)).toHaveLength(1);
    expect(push.pushesTo(ANDROID)).toEqual(["ring"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring"]);
  });

  it("ends ringing on every device whichever of a create and its status lands first", async () => {
    for (let i = 0; i < 10; i++) {
      push.reset();
      const body = createBody({ user: { id: BMX_USER } });
      const answers = await Promise.all([post(body), post(statusBody(body, "connecting_sip"))]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      const call = await storedCall(db, body.guid as string);
      expect(call.status).toBe("answered");
      // Whatever a trigger would still find to do, it does here: then every rung device must have been stopped.
      await stopCall(call.guid, push.deps(db), {});
      push.expectStoppedEverywhere(DEVICES, Infinity);
      for (const device of DEVICES) expect(push.pushesTo(device).filter((p) => p === "ring").length).toBeLessThanOrEqual(1);
    }
  });
});

describe("a stalled provider", () => {
  it("answers after one attempt per device, leaves the unanswered device to the ring trigger, which rings it at once", async () => {
    const held = gate();
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: held.closed });
    const body = createBody({ user: { id: BMX_USER } });
    const guid = body.guid as string;

    expect((await post(body)).status).toBe(200);
    // Answered while FCM still held the Android ring.
    expect(push.fcm.for(ANDROID.fcmToken)).toHaveLength(1);
    expect(push.fcm.inFlight).toBe(1);
    expect(await readDeviceRecord(db, guid, ANDROID.deviceId)).toBeUndefined();
    expect(await readDeviceRecord(db, guid, IPHONE.deviceId)).toMatchObject({ ring: { outcome: "sent" } });
    const left = (await storedCall(db, guid)).delivery;
    expect(left).toMatchObject({ state: "ringing", devices: 1, sent: 1 });
    expect(left.ringLease!.until.toMillis()).toBeLessThanOrEqual(Date.now());
    held.open();

    const time = testClock();
    const before = time.now();
    await expect(ringCall(guid, push.deps(db, time), { seen: await claimedVersion(db, guid, "ring") })).resolves.toMatchObject({
      state: "rung",
      devices: 2,
      sent: 2,
      recipients: { alice: "rung" },
    });
    expect(time.now()).toBe(before);
    expect(push.pushesTo(ANDROID)).toEqual(["ring", "ring"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring"]);
  });

  it("answers a status after one attempt per device, and the stop trigger stops the devices left unanswered", async () => {
    const body = createBody({ user: { id: BMX_USER } });
    const guid = body.guid as string;
    await post(body);
    const held = gate();
    push.fcm.script(ANDROID.fcmToken, { ok: true, gate: held.closed });

    // Both stops go through FCM, whose answers one attempt awaits together: neither is recorded.
    expect((await post(statusBody(body, "connecting_sip"))).status).toBe(200);
    expect(push.fcm.inFlight).toBe(1);
    for (const device of DEVICES) expect(await readDeviceRecord(db, guid, device.deviceId)).not.toHaveProperty("stop");
    const stop = (await storedCall(db, guid)).delivery.stop!;
    expect(stop).toMatchObject({ state: "stopping", devices: 0 });
    expect(stop.lease!.until.toMillis()).toBeLessThanOrEqual(Date.now());
    held.open();

    await expect(stopCall(guid, push.deps(db), { seen: await seenCall(db, guid) })).resolves.toEqual({ stopped: 2 });
    expect(push.pushesTo(ANDROID)).toEqual(["ring", "end", "end"]);
    expect(push.pushesTo(IPHONE)).toEqual(["ring", "end", "end"]);
    expect((await storedCall(db, guid)).delivery.stop).toMatchObject({ state: "stopped", devices: 2, sent: 2 });
  });
});

describe("a webhook that fails or dies while it rings", () => {
  const FAILURES: Record<string, () => Partial<PushDeps>> = {
    // Nothing after the create's commit completes: no read, no push, no record; the lease expires by itself.
    "dies right after its claim": () => ({ db: frozen(db) }),
    // The pushes reached the phones, then the request failed: its lease lapses at once.
    "fails after its pushes": () => ({ gateway: failingAfterSend(push, db) }),
    // The pushes reached the phones; the record never lands, and the lease expires by itself.
    "dies before its record": () => ({ db: commitsNeverLand(db) }),
  };

  for (const [failure, inject] of Object.entries(FAILURES)) {
    for (const order of ["the trigger takes over, then the call ends", "the call ends, then the trigger takes over"] as const) {
      it(`${failure}: ${order}; every rung device is stopped after its last ring, and nothing rings after the end`, async () => {
        const body = createBody({ user: { id: BMX_USER } });
        const guid = body.guid as string;
        expect((await post(body, inject(), 1_000)).status).toBe(200);
        const seen = await claimedVersion(db, guid, "ring");
        const trigger = () => ringCall(guid, push.deps(db, testClock()), { seen });
        let endedAt = Infinity;
        const end = async () => {
          expect((await post(statusBody(body, "connecting_sip"))).status).toBe(200);
          endedAt = preciseNow();
        };

        if (order === "the trigger takes over, then the call ends") {
          await expect(trigger()).resolves.toMatchObject({ state: "rung", devices: 2, sent: 2 });
          for (const device of DEVICES) expect(push.pushesTo(device)).toContain("ring");
          await end();
        } else {
          await end();
          await trigger();
        }
        await stopCall(guid, push.deps(db, testClock()), { seen: await seenCall(db, guid) });
        push.expectStoppedEverywhere(DEVICES, endedAt);
        const { delivery } = await storedCall(db, guid);
        expect(delivery.stop).toMatchObject({ state: "stopped" });
        expect(delivery).not.toHaveProperty("ringLease");
      });
    }
  }
});
