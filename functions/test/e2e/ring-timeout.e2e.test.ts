import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { CallDocument } from "../../src/calls/call-document";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { FcmFake } from "../fakes/fcm-fake";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { callFunction, signUp } from "../helpers/callables";
import { fakePort, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";

/**
 * The missed-call timeout through the emulators' Cloud Tasks: the ring trigger schedules `ringTimeout` for the end
 * of the ring window (RING_WINDOW_SECONDS, 40 s, plus 3 s), and the emulated queue runs it then. A call whose final
 * status never arrives ends as missed and stops ringing; a call that ended in time is left as it ended.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
const SECRET = newWebhookSecret();
const BMX_USER = 4343;
let fcm: FcmFake;

const callDoc = async (guid: string) => (await db.doc(`calls/${guid}`).get()).data() as CallDocument | undefined;

beforeAll(async () => {
  fcm = await FcmFake.start(fakePort("PUSH_FCM_ORIGIN"));
  const resident = await signUp(`timeout-${Date.now()}@example.com`);
  await db.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({ uid: resident.uid, tenantId: "tenant-timeout", bmxUserId: String(BMX_USER), createdAt: Timestamp.now() });
  await db.doc(`bmxUsers/${BMX_USER}`).set({ uids: [resident.uid] });
  const device = { deviceId: "timeout-pixel", platform: "android", fcmToken: "fcm-e2e-timeout-0001" };
  expect((await callFunction("registerDevice", device, resident.idToken)).status).toBe(200);
}, 30_000);
afterAll(async () => {
  await Promise.all([fcm.close(), firestore.close()]);
});

it("ends a call whose final status never arrives as missed and stops it; leaves an answered call alone", async () => {
  const webhook = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook/${SECRET}`;
  const post = (body: unknown) => fetch(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const lost = createBody({ user: { id: BMX_USER } });
  const answered = createBody({ user: { id: BMX_USER } });
  expect((await post(lost)).status).toBe(200);
  expect((await post(answered)).status).toBe(200);
  const types = (guid: unknown) => fcm.requests.filter((r) => r.message.data?.guid === guid).map((r) => r.message.data?.type);
  await waitFor(async () => (types(lost.guid).includes("call.ring") && types(answered.guid).includes("call.ring") ? true : undefined), "both rings at the FCM fake", 20_000);
  expect((await post(statusBody(answered, "connecting_sip"))).status).toBe(200);
  await waitFor(async () => (types(answered.guid).includes("call.end") ? true : undefined), "the answered call's stop", 20_000);

  const missed = await waitFor(async () => {
    const call = await callDoc(lost.guid as string);
    return call?.status === "missed" ? call : undefined;
  }, "the ring timeout (40 s window + 3 s)", 75_000);
  expect(missed).toMatchObject({ endReason: "ring_timeout", bmxStatus: "initializing" });
  await waitFor(async () => (types(lost.guid).includes("call.end") ? true : undefined), "the stop after the timeout", 20_000);
  expect(types(lost.guid)).toEqual(["call.ring", "call.end"]);

  // The answered call's own timeout found it over: nothing changed, nothing more was sent.
  expect(await callDoc(answered.guid as string)).toMatchObject({ status: "answered", endReason: "butterflymx" });
  expect(types(answered.guid)).toEqual(["call.ring", "call.end"]);
}, 120_000);
