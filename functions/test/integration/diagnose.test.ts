import { randomUUID } from "node:crypto";
import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { acknowledgeDelivery } from "../../src/calls/acknowledgements";
import { reconcileCalls } from "../../src/calls/reconcile-service";
import { ringCall } from "../../src/calls/ring-service";
import { ringTimedOut } from "../../src/calls/ring-timeout-service";
import { stopCall } from "../../src/calls/stop-service";
import { GrantSession } from "../../src/links/grant-store";
import { Check, CheckId, CHECK_IDS } from "../../src/support/diagnose-checks";
import { diagnose, Diagnosis } from "../../src/support/diagnose-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { useFeatureFakes } from "../helpers/feature-fakes";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { PushHarness } from "../helpers/push-harness";
import { ANDROID, endCall, IPHONE, IPHONE_VOIP_ONLY, seedResident, seedRingingCall } from "../helpers/fixtures";

/**
 * `diagnose` answers "why didn't my phone ring?": one seeded scenario per cause in the troubleshooting guide that the
 * backend can see, each failing its own check, and all-pass for a healthy resident. Real Firestore emulator, the
 * ButterflyMX fake, the local FCM and APNs servers.
 */
const fakes = useFeatureFakes(__filename);
const db = fakes.db;
let fake: ButterflyMxFake;
let push: PushHarness;
beforeAll(() => void ({ fake, push } = fakes));

const deps = () => ({ db, bmx: accountDeps(db, fake).bmx, now: Date.now });
const run = (uid: string) => diagnose(deps(), uid);
const byId = (diagnosis: Diagnosis) => Object.fromEntries(diagnosis.checks.map((c) => [c.id, c])) as Record<CheckId, Check>;
const failing = (diagnosis: Diagnosis) => diagnosis.checks.filter((c) => !c.ok).map((c) => c.id);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** A resident as a healthy setup leaves them: phones registered, account linked (webhook registered at ButterflyMX). */
async function healthyResident(uid: string, bmxUserId: string, devices: Array<Record<string, unknown> & { deviceId: string }> = [ANDROID, IPHONE]): Promise<void> {
  await seedResident(db, uid, devices);
  fake.addUser(resident(bmxUserId, { contactPreference: "mobile_app" }));
  await linkAccount(accountDeps(db, fake), uid, signInAtButterflyMx(fake, bmxUserId));
}

/** A call that came through the webhook and rang the resident; ButterflyMX logs it too. */
async function rungCall(uid: string, bmxUserId: string): Promise<string> {
  const guid = await seedRingingCall(db, [uid]);
  await ringCall(guid, push.deps(db));
  fake.addCallLogs(bmxUserId, { id: guid.slice(0, 8), guid, loggedAt: new Date().toISOString(), panelId: "28516", status: "connecting_sip" });
  return guid;
}


describe("a healthy resident", () => {
  it("passes every check, in order, and reports each device's steps on each call", async () => {
    await healthyResident("ada", "701");
    const guid = await rungCall("ada", "701");
    for (const event of ["received", "displayed", "answered"] as const) {
      await acknowledgeDelivery(db, "ada", { guid, deviceId: ANDROID.deviceId, event }, Timestamp.now());
    }
    await endCall(db, guid, "connecting_sip");
    await stopCall(guid, push.deps(db));

    const diagnosis = await run("ada");
    expect(diagnosis.checks.map((c) => c.id)).toEqual([...CHECK_IDS]);
    expect(failing(diagnosis)).toEqual([]);
    expect(diagnosis.checks.every((c) => c.advice === null && c.summary.length > 0)).toBe(true);
    expect(byId(diagnosis).webhook_registered.evidence).toEqual({ tenants: [{ tenantId: "t-701-1", unit: "Unit t-701-1", registered: true, atButterflyMx: "present" }] });
    expect(byId(diagnosis).webhook_received.evidence).toMatchObject({ lastGuid: guid, neverReceived: [] });

    const [call] = diagnosis.calls;
    expect(call).toMatchObject({ guid, status: "answered", received: "webhook", delivery: { state: "rung", resident: "rung" } });
    expect(call).not.toHaveProperty("problem");
    const pixel = call.devices.find((d) => d.deviceId === ANDROID.deviceId)!;
    expect(pixel).toMatchObject({ channel: "fcm_android", accepted: true, stopped: "sent" });
    expect(Object.keys(pixel)).toEqual(expect.arrayContaining(["ringAt", "received", "displayed", "answered"]));
    expect(call.devices.find((d) => d.deviceId === IPHONE.deviceId)).toMatchObject({ channel: "apns_voip", accepted: true });
  });

  it("reports rung devices only, when a stop also reached a device the ring never recorded", async () => {
    await healthyResident("al", "700", [ANDROID]);
    const guid = await rungCall("al", "700");
    await seedResident(db, "al", [ANDROID, { ...ANDROID, deviceId: "tablet", fcmToken: "fcm-diagnose-tablet-01" }]);
    await db.doc(`calls/${guid}`).update({ "delivery.interrupted": true });
    await endCall(db, guid, "canceled");
    await stopCall(guid, push.deps(db));
    expect((await db.doc(`calls/${guid}/deliveries/tablet`).get()).data()).toMatchObject({ stop: { outcome: "sent" } });

    const [call] = (await run("al")).calls;
    expect(call.devices.map((d) => d.deviceId)).toEqual([ANDROID.deviceId]);
  });
});

describe("each cause the backend can see fails its own check", () => {
  it("account_linked: never linked (and so nothing is registered)", async () => {
    await seedResident(db, "bo", [ANDROID]);
    const diagnosis = await run("bo");
    expect(failing(diagnosis)).toEqual(["account_linked", "webhook_registered"]);
    expect(byId(diagnosis).account_linked).toMatchObject({ evidence: { linked: false }, advice: expect.stringContaining("Sign in with ButterflyMX") });
  });

  it("account_linked: ButterflyMX refused the saved sign-in", async () => {
    await healthyResident("cy", "702");
    await db.doc("oauthGrants/cy").update({ accessToken: FieldValue.delete(), refreshToken: FieldValue.delete(), invalidSince: Timestamp.now() });
    const check = byId(await run("cy")).account_linked;
    expect(check).toMatchObject({ ok: false, evidence: { grant: expect.stringMatching(/^refused since /) }, advice: expect.stringContaining("again") });
  });

  it("account_linked: the resident is not (any more) a tenant of a unit in the ButterflyMX OS", async () => {
    await healthyResident("dee", "703");
    fake.updateUser("703", { tenants: [] });
    const diagnosis = await run("dee");
    expect(failing(diagnosis)).toContain("account_linked");
    expect(byId(diagnosis).account_linked).toMatchObject({ summary: "ButterflyMX lists no unit for this account.", advice: expect.stringContaining("Add Tenant") });
  });

  it("webhook_registered: the integration was removed at ButterflyMX, or never registered here", async () => {
    await healthyResident("eli", "704");
    const session = (await GrantSession.open(db, accountDeps(db, fake).bmx, "eli"))!;
    const [integration] = fake.integrationsOf({ kind: "tenant", id: "t-704-1" });
    await accountDeps(db, fake).bmx.deleteIntegration(session, { kind: "tenant", id: "t-704-1" }, integration.id);
    const removed = byId(await run("eli")).webhook_registered;
    expect(removed).toMatchObject({ ok: false, evidence: { tenants: [{ registered: true, atButterflyMx: "missing" }] } });
    expect(removed.summary).toContain("ButterflyMX no longer has it");

    const registrations = await db.collection("webhookRegistrations").where("uid", "==", "eli").get();
    await Promise.all(registrations.docs.map((d) => d.ref.delete()));
    expect(byId(await run("eli")).webhook_registered).toMatchObject({ ok: false, evidence: { tenants: [{ registered: false }] } });
  });

  it("webhook_received: ButterflyMX logged a call that its webhook never delivered, even once reconciliation recorded it", async () => {
    await healthyResident("fay", "705");
    await db.doc("users/fay").update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 3_600_000) });
    const lost = randomUUID();
    fake.addCallLogs("705", { id: "1", guid: lost, loggedAt: ago(10 * 60_000), panelId: "28516", status: "timeout_online_signal" });
    const check = byId(await run("fay")).webhook_received;
    expect(check).toMatchObject({ ok: false, evidence: { lastReceivedAt: null, neverReceived: [{ guid: lost }] } });

    await reconcileCalls({ db, bmx: accountDeps(db, fake).bmx, now: Date.now, ringWindowMs: 40_000, retentionDays: 30 });
    const after = await run("fay");
    expect(byId(after).webhook_received).toMatchObject({ ok: false, evidence: { neverReceived: [{ guid: lost }] } });
    expect(after.calls[0]).toMatchObject({ guid: lost, received: "reconciled", problem: "ButterflyMX's webhook never delivered this call" });
    expect(failing(after)).toEqual(["webhook_received", "recent_calls"]);
  });

  it("has_device: no phone is registered", async () => {
    await healthyResident("gus", "706", []);
    const diagnosis = await run("gus");
    expect(failing(diagnosis)).toEqual(["has_device"]);
    expect(byId(diagnosis).has_device.advice).toContain("allow notifications");
  });

  it("push_tokens_valid: FCM said the token is dead, and it was pruned", async () => {
    await healthyResident("hal", "707", [ANDROID]);
    push.fcm.script(ANDROID.fcmToken, { error: "UNREGISTERED" });
    await rungCall("hal", "707");
    const diagnosis = await run("hal");
    expect(byId(diagnosis).push_tokens_valid).toMatchObject({
      ok: false,
      evidence: { devices: [{ deviceId: ANDROID.deviceId, errorCode: "messaging/registration-token-not-registered", tokenPruned: true, stillRegistered: false }] },
    });
    expect(failing(diagnosis)).toEqual(["has_device", "push_tokens_valid", "recent_calls"]);
  });

  it("apns_environment: APNs refused a VoIP token from the other environment", async () => {
    await healthyResident("ivy", "708", [IPHONE]);
    push.apns.script(IPHONE.voipToken, { status: 400, reason: "BadDeviceToken" });
    await rungCall("ivy", "708");
    const check = byId(await run("ivy")).apns_environment;
    expect(check).toMatchObject({ ok: false, evidence: { refused: [{ deviceId: IPHONE.deviceId, errorCode: "BadDeviceToken" }] } });
    expect(check.advice).toContain("sandbox");
  });

  it("stop_channel: an iPhone registered its VoIP token alone, so it rings but no stop reaches it", async () => {
    await healthyResident("ike", "715", [ANDROID, IPHONE_VOIP_ONLY]);
    const guid = await rungCall("ike", "715");
    await endCall(db, guid, "connecting_sip");
    await stopCall(guid, push.deps(db));
    const diagnosis = await run("ike");
    expect(failing(diagnosis)).toEqual(["stop_channel"]);
    expect(byId(diagnosis).stop_channel).toMatchObject({ evidence: { voipOnly: [IPHONE_VOIP_ONLY.deviceId] }, advice: expect.stringContaining("FCM token") });
    expect(diagnosis.calls[0].devices.find((d) => d.deviceId === IPHONE_VOIP_ONLY.deviceId)).toMatchObject({ accepted: true, stopped: "no_channel" });
  });

  it("do_not_disturb: on, so no device is rung (by the resident's choice)", async () => {
    await healthyResident("jo", "709");
    await db.doc("users/jo").update({ "preferences.doNotDisturb": true });
    const guid = await rungCall("jo", "709");
    const diagnosis = await run("jo");
    expect(failing(diagnosis)).toEqual(["do_not_disturb"]);
    expect(diagnosis.calls[0]).toMatchObject({ guid, delivery: { resident: "do_not_disturb" } });
  });

  it("contact_preference: phone_call here or at ButterflyMX means no push, by design", async () => {
    await healthyResident("kai", "710");
    await db.doc("users/kai").update({ "preferences.contactPreference": "phone_call" });
    expect(byId(await run("kai")).contact_preference).toMatchObject({ ok: false, evidence: { here: "phone_call" }, summary: expect.stringContaining("by design") });

    await db.doc("users/kai").update({ "preferences.contactPreference": "mobile_app" });
    fake.updateUser("710", { contactPreference: "phone_call" });
    expect(byId(await run("kai")).contact_preference).toMatchObject({ ok: false, evidence: { here: "mobile_app", atButterflyMx: "phone_call" } });
  });

  it("recent_calls: the provider took the ring but a device that acknowledges never received it", async () => {
    await healthyResident("lu", "711", [ANDROID]);
    await db.doc(`users/lu/devices/${ANDROID.deviceId}`).update({ acknowledges: true });
    const guid = await rungCall("lu", "711");
    await ringTimedOut({ db, bmx: accountDeps(db, fake).bmx, now: () => Date.now() + 44_000, ringWindowMs: 40_000 }, guid);
    const diagnosis = await run("lu");
    expect(failing(diagnosis)).toEqual(["recent_calls"]);
    expect(diagnosis.calls[0]).toMatchObject({ problem: `the provider took the ring but ${ANDROID.deviceId} never received it`, devices: [{ unacknowledged: true }] });
  });

  it("recent_calls: no provider took the ring", async () => {
    await healthyResident("mo", "712", [ANDROID]);
    push.fcm.replyAlways(ANDROID.fcmToken, { error: "INTERNAL" });
    await rungCall("mo", "712");
    const diagnosis = await run("mo");
    expect(failing(diagnosis)).toEqual(["recent_calls"]);
    expect(diagnosis.calls[0]).toMatchObject({ problem: "no provider took the ring", devices: [{ accepted: false, errorCode: "messaging/internal-error" }] });
  });

  it("ring_timeouts: a call left ringing long after its window says the timeouts do not run (their IAM), one ended by its timeout says they do", async () => {
    await healthyResident("ola", "714", [ANDROID]);
    const ended = await seedRingingCall(db, ["ola"], { createdAt: Date.now() - 10 * 60_000 });
    await ringTimedOut({ db, bmx: accountDeps(db, fake).bmx, now: Date.now, ringWindowMs: 40_000 }, ended);
    expect(byId(await run("ola")).ring_timeouts).toMatchObject({ ok: true, evidence: { stillRinging: [], endedByTimeout: 1 } });

    const stuck = await seedRingingCall(db, ["ola"], { createdAt: Date.now() - 5 * 60_000 });
    const check = byId(await run("ola")).ring_timeouts;
    expect(check).toMatchObject({ ok: false, evidence: { stillRinging: [{ guid: stuck }] }, advice: expect.stringContaining("IAM") });
    await seedRingingCall(db, ["ola"]);
    expect(byId(await run("ola")).ring_timeouts.evidence).toMatchObject({ stillRinging: [{ guid: stuck }] });
  });

  it("says what it could not ask when ButterflyMX is down, failing nothing for it", async () => {
    await healthyResident("ned", "713");
    fake.fail({ method: "GET", path: /^\/v3\// }, { status: 503 }, 50);
    const diagnosis = await run("ned");
    expect(failing(diagnosis)).toEqual([]);
    expect(byId(diagnosis).webhook_registered.evidence).toEqual({ tenants: [expect.objectContaining({ registered: true, atButterflyMx: "unknown (unavailable)" })] });
    expect(byId(diagnosis).webhook_received.evidence).toMatchObject({ butterflyMxLog: "unavailable" });
  });
});
