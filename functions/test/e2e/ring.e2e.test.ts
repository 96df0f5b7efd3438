import { ApnsFake } from "../fakes/apns-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { callFunction } from "../helpers/callables";
import { fakePort, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";
import { ANDROID, IPHONE, readCall, registeredResident, VOIP_TOKEN } from "../helpers/fixtures";

/**
 * The whole loop in the emulators: the app registers devices through the callables, ButterflyMX posts to the
 * webhook, the triggers ring and stop through the functions' own FCM and APNs clients, and the local fakes
 * (on the ports `npm test` gives the functions) receive the pushes. Each test has a resident and devices of its own.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
let fcm: FcmFake;
let apns: ApnsFake;

const until = <T>(probe: () => T | undefined, what: string) => waitFor(async () => probe(), what, 20_000);
/** Registers each device through the callable, as the app does. */
async function register(idToken: string, ...devices: Array<Record<string, unknown> & { deviceId: string }>): Promise<void> {
  for (const device of devices) {
    const response = await callFunction("registerDevice", device, idToken);
    expect(response).toEqual({ status: 200, body: { result: { deviceId: device.deviceId, moved: 0 } } });
  }
}

beforeAll(async () => {
  [fcm, apns] = await Promise.all([FcmFake.start(fakePort("PUSH_FCM_ORIGIN")), ApnsFake.start(fakePort("PUSH_APNS_ORIGIN"))]);
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
    const resident = await registeredResident(db, 4240);
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
  it("rings every device at the providers before the webhook answers, and stops them before it answers the status", async () => {
    const resident = await registeredResident(db, 4241);
    const android = { ...ANDROID, fcmToken: "fcm-e2e-android-01" };
    const iphone = { ...IPHONE, voipToken: VOIP_TOKEN(5), fcmToken: "fcm-e2e-iphone-001", apnsEnvironment: "sandbox" };
    await register(resident.idToken, android, iphone);

    const body = createBody({ user: { id: 4241 } });
    expect((await resident.post(body)).status).toBe(200);
    const [ring] = fcm.for(android.fcmToken);
    expect(ring.message.data).toMatchObject({ type: "call.ring", guid: body.guid });
    const [voip] = apns.for(iphone.voipToken);
    expect(voip.headers).toMatchObject({ "apns-push-type": "voip", "apns-topic": "com.example.intercom.voip" });
    const rung = await waitFor(async () => {
      const call = await readCall(db, body.guid as string);
      return call?.delivery.state === "rung" ? call : undefined;
    }, "the ring summary");
    expect(rung.delivery).toMatchObject({ devices: 2, sent: 2, recipients: { [resident.uid]: "rung" } });

    expect((await resident.post(statusBody(body, "connecting_sip"))).status).toBe(200);
    const stop = fcm.for(android.fcmToken)[1];
    expect(stop.message.data).toEqual({ type: "call.end", guid: body.guid, callStatus: "connecting_sip", reason: "answered" });
    const [iosStop] = fcm.for(iphone.fcmToken);
    expect(iosStop.message.apns?.headers).toMatchObject({ "apns-push-type": "background" });
    expect(apns.for(iphone.voipToken)).toHaveLength(1); // the ring only: never a VoIP push to stop
  }, 60_000);

  it("reaches nothing on a device after it is unregistered", async () => {
    const resident = await registeredResident(db, 4242);
    const gone = { ...ANDROID, deviceId: "e2e-gone-pixel", fcmToken: "fcm-e2e-gone-0001" };
    const kept = { ...IPHONE, deviceId: "e2e-kept-iphone", voipToken: VOIP_TOKEN(6), fcmToken: "fcm-e2e-kept-0001" };
    await register(resident.idToken, gone, kept);
    expect((await callFunction("unregisterDevice", { deviceId: gone.deviceId }, resident.idToken)).body).toEqual({
      result: { deviceId: gone.deviceId, removed: true },
    });

    const body = createBody({ user: { id: 4242 } });
    expect((await resident.post(body)).status).toBe(200);
    await until(() => apns.for(kept.voipToken).find((r) => r.payload.guid === body.guid), "the iPhone ring");
    const settled = await waitFor(async () => {
      const call = await readCall(db, body.guid as string);
      return call && call.delivery.state !== "pending" && call.delivery.state !== "ringing" ? call : undefined;
    }, "the ring summary");
    expect(settled.delivery).toMatchObject({ state: "rung", devices: 1 });
    expect(fcm.for(gone.fcmToken)).toEqual([]);
  }, 60_000);
});
