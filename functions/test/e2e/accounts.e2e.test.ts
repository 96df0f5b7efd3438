import { getAuth } from "firebase-admin/auth";
import { ButterflyMxFake, FakeHost } from "../fakes/butterflymx-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { resident as bmxResident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { createBody } from "../helpers/butterflymx-payloads";
import { callFunction, signUp } from "../helpers/callables";
import { fakePort, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";

/**
 * Linking in the emulators: the app's callables exchange a code at the local ButterflyMX, which then delivers
 * calls to the webhook it was given; the functions ring through their FCM client at the local FCM. Unlinking and
 * deleting the Auth user undo everything.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
let bmx: ButterflyMxFake;
let fcm: FcmFake;

// Cold function instances in the emulator take a few seconds each, more on a loaded machine: a test here links,
// rings and unlinks through several of them, so it has three times the default.
jest.setTimeout(180_000);

const ORIGINS: Record<FakeHost, string> = {
  accounts: "BUTTERFLYMX_ACCOUNTS_ORIGIN",
  na: "BUTTERFLYMX_API_ORIGIN_NA",
  eu: "BUTTERFLYMX_API_ORIGIN_EU",
};

beforeAll(async () => {
  [bmx, fcm] = await Promise.all([
    ButterflyMxFake.start({ accounts: fakePort(ORIGINS.accounts), na: fakePort(ORIGINS.na), eu: fakePort(ORIGINS.eu) }),
    FcmFake.start(fakePort("PUSH_FCM_ORIGIN")),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([bmx.close(), fcm.close(), firestore.close()]);
});

describe("linkButterflyMxAccount", () => {
  it("requires a signed-in user", async () => {
    const response = await callFunction("linkButterflyMxAccount", { code: "x", codeVerifier: "v".repeat(43), redirectUri: "com.example.intercom:/oauth/butterflymx" });
    expect(response.body.error).toMatchObject({ status: "UNAUTHENTICATED" });
  });

  it("names every invalid field", async () => {
    const app = await signUp(`invalid-${Date.now()}@example.com`);
    const response = await callFunction("linkButterflyMxAccount", { code: "", codeVerifier: "short", extra: 1 }, app.idToken);
    expect(response.status).toBe(400);
    const fields = (response.body.error?.details as { fields: Array<{ field: string }> }).fields.map((f) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["code", "codeVerifier", "redirectUri", "(data)"]));
  });

  it("answers invalid-argument on code for an expired code", async () => {
    const app = await signUp(`expired-${Date.now()}@example.com`);
    bmx.addUser(bmxResident("7100"));
    const response = await callFunction("linkButterflyMxAccount", signInAtButterflyMx(bmx, "7100", { ttlMs: -1 }), app.idToken);
    expect(response.body.error).toMatchObject({ status: "INVALID_ARGUMENT", details: { fields: [expect.objectContaining({ field: "code" })] } });
  });
});

describe("link → call → ring → unlink → call → no ring", () => {
  it("rings through the registered webhook until the resident unlinks", async () => {
    const app = await signUp(`linker-${Date.now()}@example.com`);
    bmx.addUser(bmxResident("7001", { tenants: [tenant("t-e2e-1")] }));

    const linked = await callFunction("linkButterflyMxAccount", signInAtButterflyMx(bmx, "7001"), app.idToken);
    expect(linked.body.result).toMatchObject({ bmxUserId: "7001", region: "na", tenants: [{ tenantId: "t-e2e-1", webhook: "created" }] });
    const [integration] = bmx.integrationsOf({ kind: "tenant", id: "t-e2e-1" });
    expect(integration.url.startsWith(`${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/`)).toBe(true);

    const device = { deviceId: "e2e-link-pixel", platform: "android", fcmToken: "fcm-e2e-linked-0001" };
    expect((await callFunction("registerDevice", device, app.idToken)).status).toBe(200);

    const first = createBody({ user: { id: 7001 } });
    const delivered = await bmx.placeCall("t-e2e-1", first);
    expect(delivered).toEqual([expect.objectContaining({ status: 200 })]);
    const ring = await waitFor(async () => fcm.for(device.fcmToken)[0], "the ring at the FCM fake", 20_000);
    expect(ring.message.data).toMatchObject({ type: "call.ring", guid: first.guid });

    const unlinked = await callFunction("unlinkButterflyMxAccount", {}, app.idToken);
    expect(unlinked.body.result).toEqual({ wasLinked: true, integrationsDeleted: 1, integrationsLeft: 0, devicesRemoved: 1 });
    expect(bmx.integrationsOf({ kind: "tenant", id: "t-e2e-1" })).toEqual([]);

    // ButterflyMX has no webhook left to call; a delivery to the old URL (a stale integration) is refused.
    const second = createBody({ user: { id: 7001 } });
    expect(await bmx.placeCall("t-e2e-1", second)).toEqual([]);
    const stale = await fetch(integration.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(second) });
    expect(stale.status).toBe(404);
    expect((await db.doc(`calls/${second.guid}`).get()).exists).toBe(false);
    expect(fcm.for(device.fcmToken)).toHaveLength(1);
  });
});

describe("link → call rings → releaseDoor on it → access log and call updated → both histories show it", () => {
  it("opens the door from the call through the callables, once per requestId", async () => {
    const app = await signUp(`door-${Date.now()}@example.com`);
    bmx.addUser(bmxResident("7003", { tenants: [tenant("t-e2e-3", { unitId: "u-e2e-3", panels: ["28516"], accessPoints: ["842395203"] })] }));
    expect((await callFunction("linkButterflyMxAccount", signInAtButterflyMx(bmx, "7003"), app.idToken)).status).toBe(200);
    const device = { deviceId: "e2e-door-pixel", platform: "android", fcmToken: "fcm-e2e-door-00001" };
    expect((await callFunction("registerDevice", device, app.idToken)).status).toBe(200);

    const call = createBody({ user: { id: 7003 }, unit: { id: "u-e2e-3", label: "12A" } });
    expect(await bmx.placeCall("t-e2e-3", call)).toEqual([expect.objectContaining({ status: 200 })]);
    await waitFor(async () => fcm.for(device.fcmToken)[0], "the ring at the FCM fake", 20_000);

    const request = { requestId: `e2e-door-${Date.now()}`, callGuid: call.guid };
    const opened = await callFunction("releaseDoor", request, app.idToken);
    expect(opened.body.result).toMatchObject({ requestId: request.requestId, result: "released", accessLogId: expect.any(String) });
    expect((await callFunction("releaseDoor", request, app.idToken)).body.result).toEqual(opened.body.result);
    expect(bmx.doorReleases.filter((r) => r.userId === "7003")).toHaveLength(1);
    expect(bmx.panelNotifications).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "open_door" })]));
    const accessLogId = (opened.body.result as { accessLogId: string }).accessLogId;
    expect((await db.doc(`accessLogs/${accessLogId}`).get()).data()).toMatchObject({ uid: app.uid, callGuid: call.guid, path: "/v3/notifications/open_door", result: "released" });
    expect((await db.doc(`calls/${call.guid}`).get()).get("doorRelease")).toMatchObject({ result: "released", by: app.uid });

    bmx.addCallLogs("7003", { id: "990001", guid: call.guid as string, loggedAt: new Date().toISOString(), panelId: "28516", panelName: "Front Door", status: "initializing" });
    const calls = await callFunction("getCallHistory", { limit: 5 }, app.idToken);
    expect(calls.body.result).toMatchObject({ calls: [expect.objectContaining({ guid: call.guid, source: "both", rang: { devices: 1, sent: 1 } })] });
    const releases = await callFunction("getAccessHistory", {}, app.idToken);
    expect(releases.body.result).toMatchObject({ entries: [expect.objectContaining({ id: accessLogId, callGuid: call.guid, result: "released", source: "both" })] });

    const malformed = await callFunction("getCallHistory", { from: "last week" }, app.idToken);
    expect(malformed.body.error).toMatchObject({ status: "INVALID_ARGUMENT", message: expect.stringMatching(/^from must be an ISO 8601 date-time/) });
    const stranger = await signUp(`stranger-${Date.now()}@example.com`);
    const refused = await callFunction("releaseDoor", { requestId: `e2e-door-x-${Date.now()}`, callGuid: call.guid }, stranger.idToken);
    expect(refused.body.error).toMatchObject({ status: "FAILED_PRECONDITION", message: expect.stringMatching(/^Link your ButterflyMX account first/) });
    expect(bmx.doorReleases.filter((r) => r.userId === "7003")).toHaveLength(1);
  });
});

describe("diagnose", () => {
  it("answers the signed-in resident's own checklist, and refuses anonymous callers and bad input", async () => {
    expect((await callFunction("diagnose", {})).body.error).toMatchObject({ status: "UNAUTHENTICATED" });
    const app = await signUp(`diagnose-${Date.now()}@example.com`);
    const bad = await callFunction("diagnose", { calls: 0, extra: true }, app.idToken);
    expect(bad.body.error).toMatchObject({ status: "INVALID_ARGUMENT", message: expect.stringContaining("calls must be at least 1") });

    bmx.addUser(bmxResident("7004"));
    expect((await callFunction("linkButterflyMxAccount", signInAtButterflyMx(bmx, "7004"), app.idToken)).status).toBe(200);
    const diagnosis = await callFunction("diagnose", {}, app.idToken);
    const checks = (diagnosis.body.result as { checks: Array<{ id: string; ok: boolean }> }).checks;
    expect(checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(["has_device"]);
    expect(diagnosis.body.result).toMatchObject({ uid: app.uid, calls: [] });
  });
});

describe("signOut", () => {
  it("removes this install only", async () => {
    const app = await signUp(`signout-${Date.now()}@example.com`);
    for (const deviceId of ["phone-a", "phone-b"]) {
      await callFunction("registerDevice", { deviceId, platform: "android", fcmToken: `fcm-signout-${deviceId}-01` }, app.idToken);
    }
    const response = await callFunction("signOut", { deviceId: "phone-a" }, app.idToken);
    expect(response.body.result).toEqual({ deviceId: "phone-a", removed: true });
    const devices = await db.collection(`users/${app.uid}/devices`).listDocuments();
    expect(devices.map((d) => d.id)).toEqual(["phone-b"]);
  });
});

describe("onUserDeleted", () => {
  it("removes the deleted user's link, grant, registrations and integrations", async () => {
    const app = await signUp(`deleted-${Date.now()}@example.com`);
    bmx.addUser(bmxResident("7002", { tenants: [tenant("t-e2e-2")] }));
    expect((await callFunction("linkButterflyMxAccount", signInAtButterflyMx(bmx, "7002"), app.idToken)).status).toBe(200);
    expect(bmx.integrationsOf({ kind: "tenant", id: "t-e2e-2" })).toHaveLength(1);

    await getAuth(firestore.app).deleteUser(app.uid);

    await waitFor(async () => ((await db.doc(`oauthGrants/${app.uid}`).get()).exists ? undefined : true), "the grant to be deleted", 20_000);
    await waitFor(async () => ((await db.doc(`users/${app.uid}`).get()).exists ? undefined : true), "the user document to be deleted", 20_000);
    expect((await db.doc("bmxUsers/7002").get()).exists).toBe(false);
    expect((await db.collection("webhookRegistrations").where("uid", "==", app.uid).get()).empty).toBe(true);
    expect(bmx.integrationsOf({ kind: "tenant", id: "t-e2e-2" })).toEqual([]);

    // The deleted user's ID token is still valid for up to an hour: it must bring nothing back.
    const registered = await callFunction("registerDevice", { deviceId: "late-pixel", platform: "android", fcmToken: "fcm-e2e-deleted-0001" }, app.idToken);
    expect(registered).toMatchObject({ status: 401, body: { error: { status: "UNAUTHENTICATED", message: expect.stringContaining("deleted") } } });
    const preferences = await callFunction("updatePreferences", { doNotDisturb: true }, app.idToken);
    expect(preferences).toMatchObject({ status: 401, body: { error: { status: "UNAUTHENTICATED" } } });
    expect((await db.doc(`users/${app.uid}`).get()).exists).toBe(false);
    expect((await db.collection(`users/${app.uid}/devices`).get()).empty).toBe(true);
  });
});
