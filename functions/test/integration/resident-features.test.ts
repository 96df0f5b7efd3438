import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { updatePreferences } from "../../src/accounts/preferences-service";
import { AccountDeps } from "../../src/accounts/account-deps";
import { ringCall } from "../../src/calls/ring-service";
import { DoorDeps } from "../../src/doors/door-deps";
import { PENDING_MS, releaseDoor } from "../../src/doors/door-release-service";
import { AccessHistoryEntry, accessHistory } from "../../src/history/access-history-service";
import { callHistory, CallHistoryEntry } from "../../src/history/call-history-service";
import { historyQuerySchema } from "../../src/history/history-schemas";
import { AnsweredBefore, NotAllowed, parseInput, PreconditionFailed, toHttpsError } from "../../src/shared/errors";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { useFeatureFakes } from "../helpers/feature-fakes";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { createBody } from "../helpers/butterflymx-payloads";
import { PushHarness } from "../helpers/push-harness";
import { ANDROID, endCall, seedResident, seedRingingCall } from "../helpers/fixtures";

/** Door release, histories and preferences against the local ButterflyMX and the Firestore emulator. */
const fakes = useFeatureFakes(__filename);
const db = fakes.db;
let fake: ButterflyMxFake;
let push: PushHarness;
beforeAll(() => void ({ fake, push } = fakes));

const deps = (overrides: Partial<AccountDeps> = {}) => accountDeps(db, fake, overrides);
const doorDeps = (overrides: Partial<DoorDeps> = {}): DoorDeps => ({ db, bmx: deps().bmx, now: Date.now, releaseWindowMs: 300_000, retentionDays: 30, ...overrides });
const docs = async (collection: string) => (await db.collection(collection).get()).docs.map((d) => d.data());
let requestCounter = 0;
const requestId = () => `request-${Date.now()}-${++requestCounter}`;

/** A resident linked to ButterflyMX user `bmxUserId` with one tenancy, as `linkButterflyMxAccount` leaves them. */
async function linked(uid: string, bmxUserId: string, extra: Parameters<typeof tenant>[1] = {}) {
  fake.addUser(resident(bmxUserId, { tenants: [tenant(`t-${bmxUserId}`, { unitId: `u-${bmxUserId}`, buildingId: `b-${bmxUserId}`, ...extra })] }));
  await linkAccount(deps(), uid, signInAtButterflyMx(fake, bmxUserId));
}


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

  it("opens the door of a ringing call as the SDKs do in a call (the panel's open_door notification alone), logs the path and shows it on the call", async () => {
    await dora();
    const guid = await callToDora();
    const id = requestId();
    const answer = await releaseDoor(doorDeps(), DORA.uid, { requestId: id, callGuid: guid });

    expect(answer).toEqual({ requestId: id, accessLogId: expect.stringMatching(/^[0-9a-f]{40}$/), result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ userId: DORA.bmxUserId, path: "/v3/notifications/open_door", panelId: DORA.panelId })]);
    expect(fake.panelNotifications).toEqual([{ kind: "open_door", body: { data: { type: "notifications", id: DORA.panelId, attributes: { panel_id: 28516, call_guid: guid } } } }]);
    expect(fake.requests.filter((r) => r.method === "POST" && r.path === "/v3/me/open_door")).toEqual([]);
    const log = (await db.doc(`accessLogs/${answer.accessLogId}`).get()).data();
    expect(log).toMatchObject({ uid: DORA.uid, requestId: id, method: "in_call", path: "/v3/notifications/open_door", callGuid: guid, panel: { id: DORA.panelId, name: "Front Door" }, result: "released" });
    // Kept as long as the calls are (CALL_RETENTION_DAYS), then removed by the TTL policy.
    expect(log!.expireAt.toMillis()).toBe(log!.requestedAt.toMillis() + 30 * 86_400_000);
    expect((await db.doc(`calls/${guid}`).get()).get("doorRelease")).toMatchObject({ result: "released", by: DORA.uid });
  });

  it("opens the door of a call that is over through the door list's v3 open_door, and a talking call through the notification", async () => {
    await dora();
    const over = await callToDora();
    await endCall(db, over, "canceled");
    const afterwards = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: over });
    expect(afterwards).toMatchObject({ result: "released" });
    expect((await db.doc(`accessLogs/${afterwards.accessLogId}`).get()).data()).toMatchObject({ path: "/v3/me/open_door", bmxId: "1" });

    const talking = await callToDora();
    await endCall(db, talking, "connecting_sip");
    const during = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: talking });
    expect((await db.doc(`accessLogs/${during.accessLogId}`).get()).get("path")).toBe("/v3/notifications/open_door");
    expect(fake.doorReleases.map((r) => r.path)).toEqual(["/v3/me/open_door", "/v3/notifications/open_door"]);
    expect(fake.panelNotifications).toHaveLength(1);
  });

  it("opens only a panel ButterflyMX lists for the caller's unit: a forged panel is refused, a panel added since linking is read again", async () => {
    await dora();
    const forged = await seedRingingCall(db, [DORA.uid], { body: createBody({ user: { id: 777 }, unit: { id: DORA.unitId, label: "4B" }, panel: { id: 99999, name: "Any door" } }) });
    const attempt = releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: forged });
    await expect(attempt).rejects.toThrow(NotAllowed);
    await expect(attempt).rejects.toThrow("ButterflyMX does not list panel 99999 for your unit");
    expect(fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/v3/me?"))).toHaveLength(2);

    fake.updateUser(DORA.bmxUserId, { tenants: [tenant(DORA.tenantId, { unitId: DORA.unitId, buildingId: `b-${DORA.bmxUserId}`, panels: [DORA.panelId, "99999"], accessPoints: [DORA.accessPoint] })] });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: forged })).resolves.toMatchObject({ result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ panelId: "99999" })]);
    expect((await db.doc(`users/${DORA.uid}`).get()).get("butterflymx.tenants")).toEqual([expect.objectContaining({ id: DORA.tenantId, panelIds: [DORA.panelId, "99999"] })]);
    expect(await docs("accessLogs")).toHaveLength(1);
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
    expect((await db.doc(`users/${DORA.uid}`).get()).get("butterflymx.tenants")).toEqual([
      expect.objectContaining({ id: DORA.tenantId, panelIds: [DORA.panelId], accessPoints: [{ id: DORA.accessPoint, name: `Access point ${DORA.accessPoint}` }] }),
    ]);
    const answer = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint });
    expect(answer).toMatchObject({ result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ path: "/v4/door_release_requests", tenantId: DORA.tenantId, accessPointId: DORA.accessPoint })]);
    expect((await db.doc(`accessLogs/${answer.accessLogId}`).get()).get("path")).toBe("/v4/door_release_requests");
    expect(fake.panelNotifications).toEqual([]);
    const attempt = releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: "t-999", accessPointId: DORA.accessPoint });
    await expect(attempt).rejects.toThrow(NotAllowed);
    await expect(attempt).rejects.toThrow("Tenant t-999 is not one of your ButterflyMX tenancies");
    expect(fake.doorReleases).toHaveLength(1);
  });

  it("opens only an access point of the tenancy's own building: another building's is refused before any release, one added since linking is read again", async () => {
    await dora();
    fake.addUser(resident("899", { tenants: [tenant("t-899", { buildingId: "b-elsewhere", accessPoints: ["555"] })] }));
    const attempt = releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: "555" });
    await expect(attempt).rejects.toThrow(NotAllowed);
    await expect(attempt).rejects.toThrow(`ButterflyMX does not list access point 555 in the building of tenant ${DORA.tenantId}`);
    expect(fake.requests.filter((r) => r.path === "/v4/door_release_requests")).toEqual([]);

    fake.updateUser(DORA.bmxUserId, { tenants: [tenant(DORA.tenantId, { unitId: DORA.unitId, buildingId: `b-${DORA.bmxUserId}`, panels: [DORA.panelId], accessPoints: [DORA.accessPoint, "556"] })] });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: "556" })).resolves.toMatchObject({ result: "released" });
    expect(fake.doorReleases).toEqual([expect.objectContaining({ accessPointId: "556" })]);
  });

  it("reads the doors at the first release when linking could not, and refuses a door when ButterflyMX turned door release off since", async () => {
    fake.fail({ method: "GET", path: /^\/v4\/access_points$/ }, { status: 503 });
    await dora();
    expect((await db.doc(`users/${DORA.uid}`).get()).get("butterflymx.tenants")[0].accessPoints).toBeUndefined();
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint })).resolves.toMatchObject({ result: "released" });

    fake.updateUser(DORA.bmxUserId, { tenants: [tenant(DORA.tenantId, { unitId: DORA.unitId, buildingId: `b-${DORA.bmxUserId}`, buildingName: "Maple Court", panels: [DORA.panelId], accessPoints: [DORA.accessPoint, "557"], doorReleaseEnabled: false })] });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: "557" })).rejects.toThrow("Maple Court does not let residents open its doors");
    expect(fake.doorReleases).toHaveLength(1);
  });

  it("refuses a caller the call did not ring for, and a call that ended too long ago, before asking ButterflyMX", async () => {
    await dora();
    await linked("eve", "802");
    const guid = await callToDora();
    const notMine = releaseDoor(doorDeps(), "eve", { requestId: requestId(), callGuid: guid });
    await expect(notMine).rejects.toThrow(NotAllowed);
    await expect(notMine).rejects.toThrow("did not ring for you");

    await endCall(db, guid, "canceled");
    const later = Date.now() + 301_000;
    const stale = releaseDoor(doorDeps({ now: () => later }), DORA.uid, { requestId: requestId(), callGuid: guid });
    await expect(stale).rejects.toThrow(PreconditionFailed);
    await expect(stale).rejects.toThrow("ended more than 5 minute(s) ago");
    expect(fake.doorReleases).toEqual([]);
    expect(await docs("accessLogs")).toEqual([]);
  });

  it("keeps a conversation's door open while it lasts: from its real end for the window, never past 30 minutes from the call", async () => {
    await dora();
    const talking = await callToDora();
    await endCall(db, talking, "connecting_sip");
    const at = (minutes: number) => doorDeps({ now: () => Date.now() + minutes * 60_000 });
    await expect(releaseDoor(at(10), DORA.uid, { requestId: requestId(), callGuid: talking })).resolves.toMatchObject({ result: "released" });
    await expect(releaseDoor(at(31), DORA.uid, { requestId: requestId(), callGuid: talking })).rejects.toThrow("more than 30 minutes ago");

    // ButterflyMX reports the end after the answer: the window runs from there.
    const ended = await callToDora();
    await endCall(db, ended, "connecting_sip");
    await endCall(db, ended, "canceled");
    await expect(releaseDoor(at(4), DORA.uid, { requestId: requestId(), callGuid: ended })).resolves.toMatchObject({ result: "released" });
    await expect(releaseDoor(at(6), DORA.uid, { requestId: requestId(), callGuid: ended })).rejects.toThrow("ended more than 5 minute(s) ago");
  });

  it("opens no door from a call of another unit, of no unit, or one that never rang (reconciled), before asking ButterflyMX", async () => {
    await dora();
    const forged = await seedRingingCall(db, [DORA.uid], { body: createBody({ user: { id: 777 }, unit: { id: "u-somewhere-else", label: "9Z" }, panel: { id: Number(DORA.panelId), name: "Front Door" } }) });
    // A call recorded for a resident of several tenancies carries no unit id.
    const noUnit = await callToDora();
    await db.doc(`calls/${noUnit}`).update({ "unit.id": "" });
    for (const guid of [forged, noUnit]) {
      await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: guid })).rejects.toThrow("not one of your ButterflyMX tenancies");
    }
    const reconciled = await callToDora();
    await db.doc(`calls/${reconciled}`).update({ status: "missed", endReason: "reconciled", endedAt: Timestamp.now(), delivery: { state: "not_rung", reason: "reconciled" } });
    await expect(releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), callGuid: reconciled })).rejects.toThrow("never rang");
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
    fake.fail({ method: "POST", path: /^\/v4\/door_release_requests$/ }, { status: 422, body: { errors: [{ field: "base", code: "closed", message: "is outside its open hours" }] } });
    const refused = await releaseDoor(doorDeps(), DORA.uid, { requestId: requestId(), tenantId: DORA.tenantId, accessPointId: DORA.accessPoint });
    expect(refused).toMatchObject({ result: "refused", message: "base is outside its open hours" });

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

describe("getCallHistory", () => {
  const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
  const minute = (n: number) => T0 + n * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const historyDeps = () => ({ db, bmx: deps().bmx, now: Date.now });
  /** A call this backend recorded for `uid` at `at` (as the webhook does). */
  const ourCall = (uid: string, at: number) => seedRingingCall(db, [uid], { createdAt: at, body: createBody({ user: { id: 777 }, image_url: "https://s3.example.com/ours.jpg" }) });
  const bmxCall = (n: number, at: number, guid: string = randomUUID()) => ({ id: String(900_000 + n), guid, loggedAt: iso(at), panelId: "28516", panelName: "Lobby", status: "canceled", mediumUrl: "https://s3.example.com/bmx.jpg" });
  /** Every page, following nextCursor, with `between` run before each next page. */
  async function allPages(uid: string, limit: number, between: () => Promise<void> = async () => undefined) {
    const seen: CallHistoryEntry[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await callHistory(historyDeps(), uid, { limit, ...(cursor ? { cursor } : {}) });
      seen.push(...page.calls);
      if (!page.nextCursor) return seen;
      cursor = page.nextCursor;
      await between();
    }
    throw new Error("more than 20 pages");
  }

  it("merges our calls with ButterflyMX's log, one entry per call, newest first, with what rang on my devices", async () => {
    await seedResident(db, "gil", [ANDROID]);
    await linked("gil", "811");
    const both = await ourCall("gil", minute(3));
    await ringCall(both, push.deps(db, { now: () => minute(3) + 100, ringWindowMs: 40_000 }));
    const relayOnly = await ourCall("gil", minute(1));
    fake.addCallLogs("811", bmxCall(1, minute(3) + 1000, both), bmxCall(2, minute(2)));

    const page = await callHistory(historyDeps(), "gil", {});
    expect(page).toEqual({
      calls: [
        expect.objectContaining({ guid: both, at: iso(minute(3)), source: "both", panel: { name: "Front Door" }, unit: { label: "4B" }, status: "ringing", visitorImageUrl: "https://s3.example.com/ours.jpg", rang: { devices: 1, sent: 1 } }),
        expect.objectContaining({ at: iso(minute(2)), source: "butterflymx", panel: { name: "Lobby" }, status: "canceled", visitorImageUrl: "https://s3.example.com/bmx.jpg" }),
        expect.objectContaining({ guid: relayOnly, at: iso(minute(1)), source: "relay" }),
      ],
    });
  });

  it("pages through both sources without repeating or dropping a call, even while new calls arrive", async () => {
    await linked("hal", "812");
    const expected: string[] = [];
    for (let n = 0; n < 7; n++) expected.push(await ourCall("hal", minute(10 + 2 * n)));
    for (let n = 0; n < 7; n++) {
      const call = bmxCall(n, minute(11 + 2 * n));
      fake.addCallLogs("812", call);
      expected.push(call.guid);
    }
    // Two calls at the same instant: the key splits them across pages, never repeats them.
    expected.push(await ourCall("hal", minute(5)), await ourCall("hal", minute(5)));
    let arrivals = 0;
    const seen = await allPages("hal", 3, async () => {
      arrivals++;
      await ourCall("hal", minute(100 + arrivals));
      fake.addCallLogs("812", bmxCall(50 + arrivals, minute(100 + arrivals)));
    });
    const guids = seen.map((c) => c.guid!);
    expect(new Set(guids).size).toBe(guids.length);
    expect([...guids].sort()).toEqual([...expected].sort());
    const times = seen.map((c) => Date.parse(c.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("filters by date itself, and refuses malformed filters, limits and cursors", async () => {
    await linked("ida", "813");
    await ourCall("ida", minute(1));
    const inside = await ourCall("ida", minute(5));
    fake.addCallLogs("813", bmxCall(1, minute(9)));
    const page = await callHistory(historyDeps(), "ida", parseInput(historyQuerySchema, { from: iso(minute(4)), to: iso(minute(6)) }));
    expect(page.calls.map((c) => c.guid)).toEqual([inside]);

    for (const [data, message] of [
      [{ from: "yesterday" }, "from must be an ISO 8601 date-time"],
      [{ to: "2026-11-28" }, "to must be an ISO 8601 date-time"],
      [{ from: iso(minute(6)), to: iso(minute(4)) }, "from must not be after to"],
      [{ limit: 0 }, "limit must be at least 1"],
      [{ limit: 51 }, "limit must be at most 50"],
      [{ limit: 2.5 }, "limit must be a whole number"],
      [{ page: 2 }, "has unknown field(s): page"],
    ] as const) {
      expect(() => parseInput(historyQuerySchema, data)).toThrow(message);
    }
    await expect(callHistory(historyDeps(), "ida", { cursor: "not-a-cursor" })).rejects.toThrow("cursor must be a cursor this function returned");
  });

  it("refuses dates and cursors Firestore cannot store, naming the field, in both histories (never an internal error)", async () => {
    await linked("ivo", "819", { accessPoints: ["842395203"] });
    for (const [data, field] of [
      [{ from: "0000-01-01T00:00:00Z" }, "from"],
      [{ to: "9999-12-31T23:59:30Z" }, "to"],
    ] as const) {
      expect(() => parseInput(historyQuerySchema, data)).toThrow(expect.objectContaining({ code: "invalid-argument", message: expect.stringContaining(`${field} must be between`) }));
    }
    for (const at of [1e20, -1e20, 253_402_300_799_999]) {
      const cursor = Buffer.from(JSON.stringify([at, "x"]), "utf8").toString("base64url");
      for (const list of [callHistory, accessHistory]) {
        const refused = await list(historyDeps(), "ivo", { cursor }).catch((error: unknown) => toHttpsError(error, { function: "history", uid: "ivo" }));
        expect(refused).toMatchObject({ code: "invalid-argument", message: expect.stringContaining("cursor must be a cursor this function returned") });
      }
    }
  });

  it("lists our own calls and says the list is partial when ButterflyMX is down", async () => {
    await linked("jon", "814");
    const ours = await ourCall("jon", minute(1));
    fake.addCallLogs("814", bmxCall(1, minute(2)));
    fake.fail({ method: "GET", path: /^\/v3\/me\/calls$/ }, { status: 503 });
    await expect(callHistory(historyDeps(), "jon", {})).resolves.toEqual({ calls: [expect.objectContaining({ guid: ours, source: "relay" })], partial: true });
  });

  it("reads ButterflyMX's v3 log by following links.next as given, never building page parameters", async () => {
    await linked("kai", "815");
    fake.callLogPageSize = 2;
    const calls = [1, 2, 3, 4, 5].map((n) => bmxCall(n, minute(10 - n)));
    fake.addCallLogs("815", ...calls);
    const page = await callHistory(historyDeps(), "kai", { limit: 10 });
    expect(page.calls.map((c) => c.guid)).toEqual(calls.map((c) => c.guid));
    expect(page.partial).toBeUndefined();
    expect(fake.requests.filter((r) => r.path.startsWith("/v3/me/calls")).map((r) => r.path)).toEqual([
      "/v3/me/calls",
      "/v3/me/calls?page%5Bnumber%5D=2&page%5Bsize%5D=2",
      "/v3/me/calls?page%5Bnumber%5D=3&page%5Bsize%5D=2",
    ]);
  });

  it("ends the read as partial when ButterflyMX answers the same page again, instead of looping to the cap", async () => {
    await linked("lou", "816");
    fake.callLogPageSize = 2;
    fake.v3IgnoresPaging = true;
    const calls = [1, 2, 3, 4].map((n) => bmxCall(n, minute(10 - n)));
    fake.addCallLogs("816", ...calls);
    const page = await callHistory(historyDeps(), "lou", { limit: 10 });
    expect(page).toEqual({ calls: calls.slice(0, 2).map((c) => expect.objectContaining({ guid: c.guid, source: "butterflymx" })), partial: true });
    expect(fake.requests.filter((r) => r.path.startsWith("/v3/me/calls"))).toHaveLength(2);
  });
});

describe("getAccessHistory", () => {
  const historyDeps = () => ({ db, bmx: deps().bmx, now: Date.now });
  const KAI = { uid: "kai", bmxUserId: "821", tenantId: "t-821", buildingId: "b-821", accessPoint: "842395203" };
  const bmxEntry = (at: number, method: unknown, extra: Record<string, unknown> = {}) => ({
    buildingId: KAI.buildingId, logged_at: new Date(at).toISOString().replace(/\.\d+Z$/, "Z"), access_point: 22177636, release_status: "Unlocked",
    name: "Kai", release_type: "Tenant", unit: null, tenant_id: KAI.tenantId, entry_method: method, image_url: null, ...extra,
  });

  it("merges our releases with ButterflyMX's access log, one entry per release, in ButterflyMX's words", async () => {
    await linked(KAI.uid, KAI.bmxUserId, { accessPoints: [KAI.accessPoint], accessPointNames: { [KAI.accessPoint]: "Lobby door" } });
    const released = await releaseDoor(doorDeps(), KAI.uid, { requestId: requestId(), tenantId: KAI.tenantId, accessPointId: KAI.accessPoint });
    const now = Date.now();
    fake.addAccessLogs(bmxEntry(now - 60_000 * 5, "Swipe to open"), bmxEntry(now - 60_000 * 10, { access_tool: 8432576 }), bmxEntry(now - 60_000 * 15, "Remote Doorman", { release_status: "Locked" }));
    // Another resident's entry in the same building is not theirs to see.
    fake.addAccessLogs(bmxEntry(now - 60_000, "Swipe to open", { tenant_id: "t-999" }));

    const page = await accessHistory(historyDeps(), KAI.uid, {});
    expect(page.entries).toEqual([
      { id: released.accessLogId, at: expect.any(String), accessPoint: KAI.accessPoint, door: "Lobby door", result: "released", method: "API", source: "both" },
      // A door ButterflyMX does not list for the caller's buildings keeps its id, in words.
      expect.objectContaining({ method: "Swipe to open", result: "released", accessPoint: "22177636", door: "Access point 22177636", source: "butterflymx" }),
      expect.objectContaining({ method: "access_tool", source: "butterflymx" }),
      expect.objectContaining({ method: "Remote Doorman", result: "refused", source: "butterflymx" }),
    ]);

    // A date range is asked of ButterflyMX itself (v4 filters by date), so its page holds only what is in range.
    const ranged = await accessHistory(historyDeps(), KAI.uid, { from: now - 60_000 * 12, to: now - 60_000 * 4 });
    expect(ranged.entries.map((e) => e.method)).toEqual(["Swipe to open", "access_tool"]);
    const asked = fake.requests.filter((r) => r.path.startsWith(`/v4/buildings/${KAI.buildingId}/access_logs`)).at(-1)!.path;
    expect(new URL(asked, "http://x").searchParams.get("q[logged_at_gteq]")).toBe(`${new Date(now - 60_000 * 12).toISOString().slice(0, 19).replace("T", " ")} UTC`);
  });

  it("pairs each release with its own ButterflyMX entry when a page ends between releases a moment apart (ButterflyMX logs whole seconds)", async () => {
    await linked(KAI.uid, KAI.bmxUserId, { accessPoints: [KAI.accessPoint] });
    // Four releases: two late in one second, two early in the next; ButterflyMX logged the second one a moment late,
    // in the next second. The first page (3) ends at the second release, whose own entry is newer than the page's end.
    const second = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const ours = [second + 100, second + 999, second + 1200, second + 1500];
    const logged = [second, second + 1000, second + 1000, second + 1000];
    await Promise.all(
      ours.map((at, n) =>
        db.doc(`accessLogs/release-${n}`).set({ uid: KAI.uid, requestId: `request-${n}`, method: "access_point", tenantId: KAI.tenantId, accessPointId: KAI.accessPoint, requestedAt: Timestamp.fromMillis(at), result: "released" }),
      ),
    );
    fake.addAccessLogs(...logged.map((at) => bmxEntry(at, "API", { access_point: Number(KAI.accessPoint) })));

    const first = await accessHistory(historyDeps(), KAI.uid, { limit: 3 });
    const rest = await accessHistory(historyDeps(), KAI.uid, { limit: 3, cursor: first.nextCursor });
    const entries = [...first.entries, ...rest.entries];
    expect(entries.map((e) => [e.id, e.source])).toEqual([3, 2, 1, 0].map((n) => [`release-${n}`, "both"]));
  });

  it("pages through both sources without repeating or dropping a release, and is partial when ButterflyMX is down", async () => {
    await linked(KAI.uid, KAI.bmxUserId, { accessPoints: [KAI.accessPoint] });
    const ours: string[] = [];
    for (let n = 0; n < 4; n++) ours.push((await releaseDoor(doorDeps(), KAI.uid, { requestId: requestId(), tenantId: KAI.tenantId, accessPointId: KAI.accessPoint })).accessLogId);
    const now = Date.now();
    for (let n = 1; n <= 6; n++) fake.addAccessLogs(bmxEntry(now - n * 120_000, "Swipe to open"));
    const seen: AccessHistoryEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await accessHistory(historyDeps(), KAI.uid, { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.entries);
      cursor = page.nextCursor;
      // A door opened meanwhile (later than everything listed so far) never shifts the pages that follow.
      fake.addAccessLogs(bmxEntry(Date.now() + 60_000, "Swipe to open"));
    } while (cursor);
    const ids = seen.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => ours.includes(id)).sort()).toEqual([...ours].sort());
    expect(seen.filter((e) => e.source === "butterflymx")).toHaveLength(6);
    expect(seen.filter((e) => e.source === "both")).toHaveLength(4);

    fake.fail({ method: "GET", path: /\/access_logs$/ }, { status: 500 });
    const partial = await accessHistory(historyDeps(), KAI.uid, {});
    expect(partial).toMatchObject({ partial: true });
    expect(partial.entries.every((e) => e.source === "relay")).toBe(true);
  });
});
