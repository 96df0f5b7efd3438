import { FcmFake } from "../fakes/fcm-fake";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { callFunction } from "../helpers/callables";
import { fakePort, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";
import { ANDROID, readCall, readDeviceRecord, registeredResident } from "../helpers/fixtures";

/**
 * The missed-call timeout through the emulators' Cloud Tasks: the ring trigger schedules `ringTimeout` for the end
 * of the ring window (RING_WINDOW_SECONDS, 10 s in the test project, plus 3 s), and the emulated queue runs it then.
 * A call whose final status never arrives ends as missed and stops ringing; a call that ended in time is left as it
 * ended.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
const BMX_USER = 4343;
let fcm: FcmFake;

beforeAll(async () => {
  fcm = await FcmFake.start(fakePort("PUSH_FCM_ORIGIN"));
}, 30_000);
afterAll(async () => {
  await Promise.all([fcm.close(), firestore.close()]);
});

it("ends a call whose final status never arrives as missed and stops it; leaves an answered call alone", async () => {
  const resident = await registeredResident(db, BMX_USER);
  const device = { ...ANDROID, deviceId: "timeout-pixel", fcmToken: "fcm-e2e-timeout-0001" };
  expect((await callFunction("registerDevice", device, resident.idToken)).status).toBe(200);
  const lost = createBody({ user: { id: BMX_USER } });
  const answered = createBody({ user: { id: BMX_USER } });
  expect((await resident.post(lost)).status).toBe(200);
  expect((await resident.post(answered)).status).toBe(200);
  const types = (guid: unknown) => fcm.requests.filter((r) => r.message.data?.guid === guid).map((r) => r.message.data?.type);
  await waitFor(async () => (types(lost.guid).includes("call.ring") && types(answered.guid).includes("call.ring") ? true : undefined), "both rings at the FCM fake", 20_000);
  // The app shows the answered call's ring but never says it received it: the device now acknowledges its pushes, so
  // the answered call's own timeout, when it runs, flags that ring. That flag is how this test sees the timeout ran.
  const shown = await callFunction("acknowledgeDelivery", { guid: answered.guid, deviceId: device.deviceId, event: "displayed" }, resident.idToken);
  expect(shown.body.result).toMatchObject({ recorded: true });
  expect((await resident.post(statusBody(answered, "connecting_sip"))).status).toBe(200);
  await waitFor(async () => (types(answered.guid).includes("call.end") ? true : undefined), "the answered call's stop", 20_000);

  const missed = await waitFor(async () => {
    const call = await readCall(db, lost.guid as string);
    return call?.status === "missed" ? call : undefined;
  }, "the ring timeout (10 s window + 3 s)", 45_000);
  expect(missed).toMatchObject({ endReason: "ring_timeout", bmxStatus: "initializing" });
  await waitFor(async () => (types(lost.guid).includes("call.end") ? true : undefined), "the stop after the timeout", 20_000);
  expect(types(lost.guid)).toEqual(["call.ring", "call.end"]);

  // The answered call's own timeout ran (its unacknowledged ring is flagged), found the call over, changed nothing
  // and sent nothing more.
  await waitFor(async () => ((await readDeviceRecord(db, answered.guid as string, device.deviceId))?.ring.unacknowledged ? true : undefined), "the answered call's own timeout", 45_000);
  expect(await readCall(db, answered.guid as string)).toMatchObject({ status: "answered", endReason: "butterflymx" });
  expect(types(answered.guid)).toEqual(["call.ring", "call.end"]);
}, 120_000);
