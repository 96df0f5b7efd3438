import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { CallDocument } from "../../src/calls/call-document";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { ApnsFake } from "../fakes/apns-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { callFunction, signUp } from "../helpers/callables";
import { fakePort, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";
import { VOIP_TOKEN } from "../helpers/push-harness";

/**
 * The whole loop in the emulators: the app registers devices through the callables, ButterflyMX posts to the
 * webhook, the triggers ring and stop through the functions' own FCM and APNs clients, and the local fakes
 * (on the ports `npm test` gives the functions) receive the pushes.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
const SECRET = newWebhookSecret();
const BMX_USER = 4242;
let fcm: FcmFake;
let apns: ApnsFake;
let resident: { uid: string; idToken: string };
let webhook: string;


const post = (body: unknown) =>
  fetch(`${webhook}/${SECRET}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const callDoc = async (guid: string) => (await db.doc(`calls/${guid}`).get()).data() as CallDocument | undefined;
const until = <T>(probe: () => T | undefined, what: string) => waitFor(async () => probe(), what, 20_000);

beforeAll(async () => {
  [fcm, apns] = await Promise.all([FcmFake.start(fakePort("PUSH_FCM_ORIGIN")), ApnsFake.start(fakePort("PUSH_APNS_ORIGIN"))]);
  webhook = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook`;
  resident = await signUp(`resident-${Date.now()}@example.com`);
  await db.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({
    uid: resident.uid,
    tenantId: "tenant-e2e",
    bmxIntegrationId: "integration-e2e",
    region: "na",
    createdAt: Timestamp.now(),
  });
  await db.doc(`bmxUsers/${BMX_USER}`).set({ uids: [resident.uid] });
}, 30_000);
afterAll(async () => {
  await Promise.all([fcm.close(), apns.close(), firestore.close()]);
});

describe("device registration callables", () => {
  it("require a signed-in user", async () => {
    const response = await callFunction("registerDevice", { deviceId: "x", platform: "android", fcmToken: "fcm-e2e-anonymous-1" });
    expect(response.status).toBe(401);
    expect(response.body.error).toMatchObject({ status: "UNAUTHENTICATED" });
  });

  it("name every invalid field", async () => {
    const response = await callFunction("registerDevice", { deviceId: "a/b", platform: "android" }, resident.idToken);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      status: "INVALID_ARGUMENT",
      message: expect.stringContaining("deviceId must be 1 to 128"),
      details: { fields: expect.arrayContaining([expect.objectContaining({ field: "fcmToken" })]) },
    });
  });
});

describe("a call rings, then stops, on the registered devices", () => {
  const android = { deviceId: "e2e-pixel", platform: "android", fcmToken: "fcm-e2e-android-01" };
  const iphone = { deviceId: "e2e-iphone", platform: "ios", voipToken: VOIP_TOKEN(5), fcmToken: "fcm-e2e-iphone-001", apnsEnvironment: "sandbox" };

  it("rings every device at the providers and stops them when the call is answered", async () => {
    for (const device of [android, iphone]) {
      const response = await callFunction("registerDevice", device, resident.idToken);
      expect(response).toEqual({ status: 200, body: { result: { deviceId: device.deviceId, moved: 0 } } });
    }

    const body = createBody({ user: { id: BMX_USER } });
    expect((await post(body)).status).toBe(200);
    const ring = await until(() => fcm.for(android.fcmToken)[0], "the Android ring at the FCM fake");
    expect(ring.message.data).toMatchObject({ type: "call.ring", guid: body.guid });
    const voip = await until(() => apns.for(iphone.voipToken)[0], "the VoIP ring at the APNs fake");
    expect(voip.headers).toMatchObject({ "apns-push-type": "voip", "apns-topic": "com.example.intercom.voip" });
    const rung = await waitFor(async () => ((await callDoc(body.guid as string))?.delivery.state === "rung" ? callDoc(body.guid as string) : undefined), "the ring summary");
    expect(rung?.delivery).toMatchObject({ devices: 2, sent: 2, recipients: { [resident.uid]: "rung" } });

    expect((await post(statusBody(body, "connecting_sip"))).status).toBe(200);
    const stop = await until(() => fcm.for(android.fcmToken)[1], "the Android stop at the FCM fake");
    expect(stop.message.data).toEqual({ type: "call.end", guid: body.guid, callStatus: "connecting_sip", reason: "answered" });
    const iosStop = await until(() => fcm.for(iphone.fcmToken)[0], "the iOS stop at the FCM fake");
    expect(iosStop.message.apns?.headers).toMatchObject({ "apns-push-type": "background" });
    expect(apns.requests).toHaveLength(1); // the ring only: never a VoIP push to stop
  }, 60_000);

  it("reaches nothing on a device after it is unregistered", async () => {
    expect((await callFunction("unregisterDevice", { deviceId: android.deviceId }, resident.idToken)).body).toEqual({
      result: { deviceId: android.deviceId, removed: true },
    });
    const before = fcm.for(android.fcmToken).length;
    const body = createBody({ user: { id: BMX_USER } });
    await post(body);
    await until(() => apns.for(iphone.voipToken).find((r) => r.payload.guid === body.guid), "the iPhone ring");
    const settled = await waitFor(async () => {
      const call = await callDoc(body.guid as string);
      return call && call.delivery.state !== "pending" && call.delivery.state !== "ringing" ? call : undefined;
    }, "the ring summary");
    expect(settled.delivery).toMatchObject({ state: "rung", devices: 1 });
    expect(fcm.for(android.fcmToken)).toHaveLength(before);
  }, 60_000);
});
