import { Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { updatePreferences } from "../../src/accounts/preferences-service";
import { AccountDeps } from "../../src/accounts/account-deps";
import { ringCall } from "../../src/calls/ring-service";
import { DoorDeps } from "../../src/doors/door-deps";
import { PENDING_MS, releaseDoor } from "../../src/doors/door-release-service";
import { AnsweredBefore, NotAllowed, PreconditionFailed } from "../../src/shared/errors";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { createBody } from "../helpers/butterflymx-payloads";
import { endCall, PushHarness, seedResident, seedRingingCall, startPushHarness } from "../helpers/push-harness";

/** Door release, histories and preferences against the local ButterflyMX and the Firestore emulator. */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
let fake: ButterflyMxFake;
let push: PushHarness;

const deps = (overrides: Partial<AccountDeps> = {}) => accountDeps(db, fake, overrides);
const doorDeps = (overrides: Partial<DoorDeps> = {}): DoorDeps => ({ db, bmx: deps().bmx, now: Date.now, releaseWindowMs: 300_000, ...overrides });
const docs = async (collection: string) => (await db.collection(collection).get()).docs.map((d) => d.data());
let requestCounter = 0;
const requestId = () => `request-${Date.now()}-${++requestCounter}`;
const ANDROID = { deviceId: "pixel", platform: "android", fcmToken: "fcm-features-android-1" };

/** A resident linked to ButterflyMX user `bmxUserId` with one tenancy, as `linkButterflyMxAccount` leaves them. */
async function linked(uid: string, bmxUserId: string, extra: Parameters<typeof tenant>[1] = {}) {
  fake.addUser(resident(bmxUserId, { tenants: [tenant(`t-${bmxUserId}`, { unitId: `u-${bmxUserId}`, buildingId: `b-${bmxUserId}`, ...extra })] }));
  await linkAccount(deps(), uid, signInAtButterflyMx(fake, bmxUserId));
}

beforeAll(async () => {
  [fake, push] = await Promise.all([ButterflyMxFake.start(), startPushHarness(projectId)]);
});
beforeEach(async () => {
  await firestore.clear();
  fake.reset();
  push.fcm.reset();
});
afterAll(async () => {
  await Promise.all([fake.close(), push.close(), firestore.close()]);
});

describe("updatePreferences", () => {
  it("stores the preference and says not_linked for a resident without ButterflyMX", async () => {
    await expect(updatePreferences(deps(), "zoe", { doNotDisturb: true })).resolves.toEqual({ preferences: { doNotDisturb: true }, butterflymx: "not_linked" });
    expect((await db.doc("users/zoe").get()).get("preferences")).toEqual({ doNotDisturb: true });
    expect(fake.requests).toEqual([]);
  });

  it("applies it to every tenancy at ButterflyMX and keeps the other preference", async () => {
    await linked("amy", "701", { contactPreference: "mobile_app" });
    const result = await updatePreferences(deps(), "amy", { contactPreference: "phone_call" });
    expect(result).toEqual({ preferences: { contactPreference: "phone_call" }, butterflymx: "synced" });
    expect(fake.tenantOf("t-701")).toMatchObject({ contactPreference: "phone_call" });
    await expect(updatePreferences(deps(), "amy", { doNotDisturb: true })).resolves.toEqual({
      preferences: { contactPreference: "phone_call", doNotDisturb: true },
      butterflymx: "synced",
    });
    expect(fake.tenantOf("t-701")).toMatchObject({ doNotDisturb: true, contactPreference: "phone_call" });
  });

  it("keeps the local preference when ButterflyMX refuses or is down, and says which", async () => {
    await linked("ben", "702");
    fake.tenantSettingsAllowed = false;
    await expect(updatePreferences(deps(), "ben", { doNotDisturb: true })).resolves.toMatchObject({ butterflymx: "refused" });
    fake.tenantSettingsAllowed = true;
    fake.fail({ method: "PUT", path: /^\/v4\/tenants\// }, { status: 503 });
    await expect(updatePreferences(deps(), "ben", { doNotDisturb: false, contactPreference: "mobile_app" })).resolves.toEqual({
      preferences: { doNotDisturb: false, contactPreference: "mobile_app" },
      butterflymx: "unavailable",
    });
    expect((await db.doc("users/ben").get()).get("preferences")).toEqual({ doNotDisturb: false, contactPreference: "mobile_app" });
  });

  it("takes effect on the next ring: Do Not Disturb rings nobody, off again rings", async () => {
    await seedResident(db, "cara", [ANDROID]);
    await updatePreferences(deps(), "cara", { doNotDisturb: true });
    const quiet = await seedRingingCall(db, ["cara"]);
    await expect(ringCall(quiet, push.deps(db))).resolves.toMatchObject({ state: "undeliverable", reason: "do_not_disturb" });
    expect(push.fcm.requests).toHaveLength(0);

    await updatePreferences(deps(), "cara", { doNotDisturb: false });
    const loud = await seedRingingCall(db, ["cara"]);
    await expect(ringCall(loud, push.deps(db))).resolves.toMatchObject({ state: "rung", sent: 1 });
  });
});

describe("releaseDoor", () => {
  const DORA = { uid: "dora", bmxUserId: "801", tenantId: "t-801", unitId: "u-801", panelId: "28516", accessPoint: "842395203" };
  /** Dora, linked, whose building has one access point and the panel the visitor calls from. */
  async function dora(extra: Parameters<typeof tenant>[1] = {}) {
    await linked(DORA.uid, DORA.bmxUserId, { panels: [DORA.panelId], accessPoints: [DORA.accessPoint], ...extra });
  }
  /** A call to Dora's unit from the panel, as the webhook records it. */
  const callToDora = (recipients = [DORA.uid]) =>
    seedRingingCall(db, recipients, { body: createBody({ user: { id: 777 }, unit: { id: DORA.unitId, label: "4B" }, panel: { id: Number(DORA.panelId), name: "Front Door" } }) });

  it("opens the door a ringing call came from, tells the panel, logs it and shows it on the call", async () => {
    await dora();
    const guid = await callToDora();
    const id = requestId();
    const answer = await releaseDoor(doorDeps(), DORA.uid, { requestId: id, callGuid: guid });

    expect(answer).toEqual({ requestId: id, accessLogId: expect.stringMatching(/^[0-9a-f]{40}$/), result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ userId: DORA.bmxUserId, path: "/v3/me/open_door", panelId: DORA.panelId, unitId: DORA.unitId })]);
    expect(fake.panelNotifications).toEqual([{ kind: "open_door", body: { data: { type: "notifications", id: DORA.panelId, attributes: { panel_id: 28516, call_guid: guid } } } }]);
    const log = (await db.doc(`accessLogs/${answer.accessLogId}`).get()).data();
    expect(log).toMatchObject({ uid: DORA.uid, requestId: id, method: "in_call", callGuid: guid, panel: { id: DORA.panelId, name: "Front Door" }, result: "released", bmxId: "1", panelSignaled: true });
    expect((await db.doc(`calls/${guid}`).get()).get("doorRelease")).toMatchObject({ result: "released", by: DORA.uid });
  });

  it("answers the same requestId with its first answer and asks ButterflyMX once, even ten times at once", async () => {
    await dora();
    const guid = await callToDora();
    const id = requestId();
    const answers = await Promise.all(Array.from({ length: 10 }, () => releaseDoor(doorDeps(), DORA.uid, { requestId: id, callGuid: guid })));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ result: "released" });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: id, callGuid: guid })).resolves.toEqual(answers[0]);
    expect(fake.doorReleases).toHaveLength(1);
    expect(await docs("accessLogs")).toHaveLength(1);
  });

  it("opens an access point of the caller's own tenancy (v4), and refuses another tenancy", async () => {
    await dora();
    const answer = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint });
    expect(answer).toMatchObject({ result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ path: "/v4/door_release_requests", tenantId: DORA.tenantId, accessPointId: DORA.accessPoint })]);
    expect(fake.panelNotifications).toEqual([]);
    const attempt = releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: "t-999", accessPointId: DORA.accessPoint });
    await expect(attempt).rejects.toThrow(NotAllowed);
    await expect(attempt).rejects.toThrow("Tenant t-999 is not one of your ButterflyMX tenancies");
    expect(fake.doorReleases).toHaveLength(1);
  });

  it("refuses a caller the call did not ring for, and a call that ended too long ago, before asking ButterflyMX", async () => {
    await dora();
    await linked("eve", "802");
    const guid = await callToDora();
    const notMine = releaseDoor(doorDeps(), "eve", { requestId: requestId(), callGuid: guid });
    await expect(notMine).rejects.toThrow(NotAllowed);
    await expect(notMine).rejects.toThrow("did not ring for you");

    await endCall(db, guid, "connecting_sip");
    const later = Date.now() + 301_000;
    const stale = releaseDoor(doorDeps({ now: () => later }), DORA.uid, { requestId: requestId(), callGuid: guid });
    await expect(stale).rejects.toThrow(PreconditionFailed);
    await expect(stale).rejects.toThrow("ended more than 5 minute(s) ago");
    expect(fake.doorReleases).toEqual([]);
    expect(await docs("accessLogs")).toEqual([]);
  });

  it("refuses when the caller is not linked, or the building disables door release", async () => {
    await seedResident(db, "finn", []);
    const guid = await callToDora(["finn"]);
    await expect(releaseDoor(doorDeps(), "finn", { requestId: requestId(), callGuid: guid })).rejects.toThrow("Link your ButterflyMX account first");

    await dora({ doorReleaseEnabled: false, buildingName: "Maple Court" });
    const call = await callToDora();
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: call })).rejects.toThrow("Maple Court does not let residents open its doors from the app");
    expect(fake.doorReleases).toEqual([]);
  });

  it("records ButterflyMX's refusal with its words, a 5xx as failed and no answer as unknown, each asked once", async () => {
    await dora();
    const refused = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: "1" });
    expect(refused).toMatchObject({ result: "refused", message: "access_point_id is not an access point of this tenant's building" });

    fake.fail({ method: "POST", path: /^\/v4\/door_release_requests$/ }, { status: 502 });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint })).resolves.toMatchObject({ result: "failed" });

    fake.fail({ method: "POST", path: /^\/v4\/door_release_requests$/ }, "hang");
    const unknown = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint });
    expect(unknown).toMatchObject({ result: "unknown", message: expect.stringMatching(/no answer/) });

    expect(fake.requests.filter((r) => r.path === "/v4/door_release_requests")).toHaveLength(3);
    expect((await docs("accessLogs")).map((l) => l.result).sort()).toEqual(["failed", "refused", "unknown"]);
  });

  it("answers a dead sign-in with 'link again', and the same error for the same requestId", async () => {
    await dora();
    await db.doc(`oauthGrants/${DORA.uid}`).update({ accessToken: "revoked-access-token", expiresAt: Timestamp.fromMillis(Date.now() + 3_600_000) });
    fake.fail({ host: "accounts", method: "POST", path: /^\/oauth\/token$/ }, { status: 400, body: { error: "invalid_grant" } });
    const id = requestId();
    const first = await releaseDoor(doorDeps(), DORA.uid, { requestId: id, tenantId: DORA.tenantId, accessPointId: DORA.accessPoint }).catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: "invalid_grant" });
    const again = await releaseDoor(doorDeps(), DORA.uid, { requestId: id, tenantId: DORA.tenantId, accessPointId: DORA.accessPoint }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AnsweredBefore);
    expect((again as AnsweredBefore).callableAnswer()).toMatchObject({ code: "failed-precondition", message: expect.stringMatching(/link the ButterflyMX account again/) });
    expect(fake.doorReleases).toEqual([]);
  });

  it("records unknown for a request whose asking instance died, and never asks ButterflyMX again", async () => {
    await dora();
    const id = requestId();
    const { accessLogId } = await import("../../src/doors/access-logs");
    await db.doc(`accessLogs/${accessLogId(DORA.uid, id)}`).create({
      uid: DORA.uid, requestId: id, method: "access_point", tenantId: DORA.tenantId, accessPointId: DORA.accessPoint,
      requestedAt: Timestamp.fromMillis(Date.now() - PENDING_MS - 1000), result: "pending", pendingUntil: Timestamp.fromMillis(Date.now() - 1000),
    });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: id, tenantId: DORA.tenantId, accessPointId: DORA.accessPoint })).resolves.toMatchObject({ result: "unknown" });
    expect(fake.requests.filter((r) => r.path === "/v4/door_release_requests")).toEqual([]);
  });
});
