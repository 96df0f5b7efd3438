import { Timestamp } from "firebase-admin/firestore";
import { getAuth } from "firebase-admin/auth";
import { linkAccount } from "../../src/accounts/link-service";
import { updatePreferences } from "../../src/accounts/preferences-service";
import { AccountDeps } from "../../src/accounts/account-deps";
import { GrantSession } from "../../src/links/grant-store";
import { deleteUserData, unlinkAccount } from "../../src/accounts/unlink-service";
import { registerDevice } from "../../src/devices/device-registry";
import { verifiedUidsForEmail } from "../../src/links/email-recipients";
import { BmxError } from "../../src/butterflymx/butterflymx-errors";
import { AccountDeleted, Conflict, InvalidInput, PreconditionFailed, toHttpsError } from "../../src/shared/errors";
import { hashSecret } from "../../src/links/webhook-secrets";
import { handleWebhook, WebhookDeps } from "../../src/webhook/webhook-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, fakeClient, resident, signInAtButterflyMx, tenant, WEBHOOK_BASE } from "../helpers/accounts-harness";
import { createBody } from "../helpers/butterflymx-payloads";
import { isolatedProjectId, snapshotDatabase, testFirestore, waitFor } from "../helpers/emulators";
import { captureLogs } from "../helpers/log-capture";

const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
const OPERATOR_SECRET = "operator-secret-for-accounts-test-0123456789";
let fake: ButterflyMxFake;

const deps = (overrides: Partial<AccountDeps> = {}) => accountDeps(db, fake, overrides);
const webhookDeps = (extra: Partial<WebhookDeps> = {}): WebhookDeps => ({ db, operatorSecret: OPERATOR_SECRET, retentionDays: 30, now: Date.now, ...extra });
const post = (secret: string, body: unknown, extra: Partial<WebhookDeps> = {}) =>
  handleWebhook({ method: "POST", path: `/${secret}`, contentType: "application/json", rawBody: Buffer.from(JSON.stringify(body)) }, webhookDeps(extra));
const secretOf = (url: string) => url.slice(WEBHOOK_BASE.length + 1);
const docIds = async (collection: string) => (await db.collection(collection).listDocuments()).map((d) => d.id).sort();

beforeAll(async () => {
  fake = await ButterflyMxFake.start();
});
beforeEach(async () => {
  await firestore.clear();
  fake.reset();
});
afterAll(async () => {
  await Promise.all([fake.close(), firestore.close()]);
});

describe("linkAccount", () => {
  it("links a North American resident: grant, link info, bmxUsers and one webhook per tenant", async () => {
    fake.addUser(resident("501", { tenants: [tenant("t1", { unitLabel: "4B" }), tenant("t2", { unitLabel: "9C", buildingId: "b-2", buildingName: "Oak House" })], contactPreference: "mobile_app" }));

    const result = await linkAccount(deps(), "alice", signInAtButterflyMx(fake, "501"));

    expect(result).toEqual({
      bmxUserId: "501",
      region: "na",
      movedFrom: 0,
      tenants: [
        { tenantId: "t1", unitLabel: "4B", buildingName: "Maple Court", webhook: "created" },
        { tenantId: "t2", unitLabel: "9C", buildingName: "Oak House", webhook: "created" },
      ],
    });
    const user = (await db.doc("users/alice").get()).data()!;
    expect(user.butterflymx).toMatchObject({
      userId: "501",
      email: "dana.501@example.com",
      environment: "production",
      region: "na",
      tenants: [
        { id: "t1", unitLabel: "4B", buildingId: "b-1", buildingName: "Maple Court" },
        { id: "t2", unitLabel: "9C", buildingId: "b-2", buildingName: "Oak House" },
      ],
    });
    expect(user.preferences).toEqual({ contactPreference: "mobile_app" });
    expect((await db.doc("bmxUsers/501").get()).get("uids")).toEqual(["alice"]);

    const grant = (await db.doc("oauthGrants/alice").get()).data()!;
    const live = fake.liveGrants("501");
    expect(live).toHaveLength(1);
    expect(grant).toMatchObject({ bmxUserId: "501", region: "na", environment: "production", accessToken: live[0].access, refreshToken: live[0].refresh });
    expect(grant.expiresAt.toMillis()).toBeGreaterThan(Date.now() + 7_100_000);

    for (const tenantId of ["t1", "t2"]) {
      const [integration] = fake.integrationsOf({ kind: "tenant", id: tenantId });
      expect(integration.url.startsWith(`${WEBHOOK_BASE}/`)).toBe(true);
      expect(integration.bindings).toEqual([{ actions: ["create", "status_update"], resource_type: "call" }]);
      const registration = (await db.doc(`webhookRegistrations/${hashSecret(secretOf(integration.url))}`).get()).data();
      expect(registration).toMatchObject({ uid: "alice", tenantId, bmxIntegrationId: integration.id, bmxUserId: "501", region: "na" });
    }
    expect(await docIds("webhookRegistrations")).toHaveLength(2);
    expect(fake.requests.filter((r) => r.host === "eu")).toEqual([]);
    // The client secret and PKCE verifier went to the token endpoint.
    expect(fake.requests.find((r) => r.path === "/oauth/token")?.form).toMatchObject({ client_secret: fake.clientSecret, grant_type: "authorization_code" });
  });

  it("routes a European resident to the EU API host", async () => {
    fake.addUser(resident("502", { region: "eu" }));

    const result = await linkAccount(deps(), "bruno", signInAtButterflyMx(fake, "502"));

    expect(result.region).toBe("eu");
    expect((await db.doc("oauthGrants/bruno").get()).get("region")).toBe("eu");
    expect((await db.doc("users/bruno").get()).get("butterflymx.region")).toBe("eu");
    const apiHosts = new Set(fake.requests.filter((r) => r.host !== "accounts").map((r) => r.host));
    expect([...apiHosts]).toEqual(["eu"]);
    expect(fake.integrationsOf({ kind: "tenant", id: "t-502-1" })).toHaveLength(1);
  });

  it("registers a URL whose deliveries ring the linked resident", async () => {
    fake.addUser(resident("503"));
    await linkAccount(deps(), "carol", signInAtButterflyMx(fake, "503"));
    const [integration] = fake.integrationsOf({ kind: "tenant", id: "t-503-1" });

    const answer = await post(secretOf(integration.url), createBody({ user: { id: 503 } }));

    expect(answer.status).toBe(200);
    const guid = (answer.body as { guid: string }).guid;
    expect((await db.doc(`calls/${guid}`).get()).get("recipients")).toEqual(["carol"]);
  });

  it("is idempotent: linking again reuses the integrations and replaces (and revokes) the old grant", async () => {
    fake.addUser(resident("504", { tenants: [tenant("t1"), tenant("t2")] }));
    await linkAccount(deps(), "dora", signInAtButterflyMx(fake, "504"));
    const firstGrant = (await db.doc("oauthGrants/dora").get()).data()!;
    const registrations = await docIds("webhookRegistrations");
    const integrations = [...fake.integrationsOf({ kind: "tenant", id: "t1" }), ...fake.integrationsOf({ kind: "tenant", id: "t2" })];

    const again = await linkAccount(deps(), "dora", signInAtButterflyMx(fake, "504"));

    expect(again.tenants.map((t) => t.webhook)).toEqual(["reused", "reused"]);
    expect([...fake.integrationsOf({ kind: "tenant", id: "t1" }), ...fake.integrationsOf({ kind: "tenant", id: "t2" })]).toEqual(integrations);
    expect(await docIds("webhookRegistrations")).toEqual(registrations);
    const grant = (await db.doc("oauthGrants/dora").get()).data()!;
    expect(grant.refreshToken).not.toBe(firstGrant.refreshToken);
    expect(fake.liveGrants("504").map((g) => g.refresh)).toEqual([grant.refreshToken]);
    expect((await db.doc("bmxUsers/504").get()).get("uids")).toEqual(["dora"]);
  });

  it("replaces integrations that point at us without a registration, across pages, and leaves foreign ones", async () => {
    fake.addUser(resident("505", { tenants: [tenant("t1")] }));
    const foreign = [fake.seedIntegration({ kind: "tenant", id: "t1" }, "https://elsewhere.example.com/hook/1"), fake.seedIntegration({ kind: "tenant", id: "t1" }, "https://elsewhere.example.com/hook/2")];
    const orphan = fake.seedIntegration({ kind: "tenant", id: "t1" }, `${WEBHOOK_BASE}/orphan-secret-from-an-earlier-install-0123456789`);

    const result = await linkAccount(deps(), "emil", signInAtButterflyMx(fake, "505"));

    expect(result.tenants[0].webhook).toBe("created");
    const remaining = fake.integrationsOf({ kind: "tenant", id: "t1" });
    expect(remaining.map((i) => i.id)).toEqual(expect.arrayContaining(foreign.map((i) => i.id)));
    expect(remaining.map((i) => i.id)).not.toContain(orphan.id);
    expect(remaining).toHaveLength(3);
    // Page 2 was read: the orphan was the third integration with a page size of 2.
    expect(fake.requests.some((r) => r.path === "/v3/tenants/t1/integrations?page%5Bnumber%5D=2&page%5Bsize%5D=2")).toBe(true);
  });

  it("refuses a used or expired code with a field error and stores nothing", async () => {
    fake.addUser(resident("506"));
    const expired = signInAtButterflyMx(fake, "506", { ttlMs: -1 });

    const error = await linkAccount(deps(), "fay", expired).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).field).toBe("code");
    expect(await snapshotDatabase(db)).toEqual({});
    expect(fake.integrationsOf({ kind: "tenant", id: "t-506-1" })).toEqual([]);
  });

  it("leaves exactly one working webhook per tenant when two links of one user race", async () => {
    fake.addUser(resident("518"));
    const creates = () => fake.requests.filter((r) => r.method === "POST" && r.path === "/v3/tenants/t-518-1/integrations");
    // ButterflyMX holds the first link's registration until the second link has registered and committed.
    let secondCommitted!: () => void;
    fake.fail({ method: "POST", path: /^\/v3\/tenants\/t-518-1\/integrations$/ }, { until: new Promise<void>((resolve) => (secondCommitted = resolve)) });
    const first = linkAccount(deps(), "ines", signInAtButterflyMx(fake, "518"));
    await waitFor(async () => (creates().length === 1 ? true : undefined), "the first link's registration at ButterflyMX");
    await linkAccount(deps(), "ines", signInAtButterflyMx(fake, "518"));
    const [secondUrl] = fake.integrationsOf({ kind: "tenant", id: "t-518-1" }).map((i) => i.url);
    expect(await docIds("webhookRegistrations")).toEqual([hashSecret(secretOf(secondUrl))]);
    secondCommitted();
    await first;

    // The first link committed last: it removed the second's registration and deleted its integration at ButterflyMX.
    expect(creates()).toHaveLength(2);
    const integrations = fake.integrationsOf({ kind: "tenant", id: "t-518-1" });
    expect(integrations).toHaveLength(1);
    expect(integrations[0].url).not.toBe(secondUrl);
    expect(await docIds("webhookRegistrations")).toEqual([hashSecret(secretOf(integrations[0].url))]);
    expect((await post(secretOf(integrations[0].url), createBody({ user: { id: 518 } }))).status).toBe(200);
    expect((await post(secretOf(secondUrl), createBody({ user: { id: 518 } }))).status).toBe(404);
    expect(fake.liveGrants("518")).toHaveLength(1);
  });

  it("refuses a redirect URI that is not configured before calling ButterflyMX", async () => {
    fake.addUser(resident("507"));
    const input = { ...signInAtButterflyMx(fake, "507"), redirectUri: "https://attacker.example.com/cb" };

    await expect(linkAccount(deps(), "gus", input)).rejects.toMatchObject({ field: "redirectUri" });
    expect(fake.requests).toEqual([]);
  });

  it("refuses every link when no redirect URI is configured (deployed), and accepts any in the emulator", async () => {
    fake.addUser(resident("517"));
    const attempt = linkAccount(deps({ redirectUris: [] }), "gus", signInAtButterflyMx(fake, "517"));
    await expect(attempt).rejects.toThrow(PreconditionFailed);
    await expect(attempt).rejects.toThrow("BUTTERFLYMX_REDIRECT_URIS lists no redirect URI");
    expect(fake.requests).toEqual([]);
    expect(await snapshotDatabase(db)).toEqual({});

    await expect(linkAccount(deps({ redirectUris: "any" }), "gus", signInAtButterflyMx(fake, "517"))).resolves.toMatchObject({ bmxUserId: "517" });
  });

  it("leaves no half-linked state when ButterflyMX fails mid-link, and keeps the previous link working", async () => {
    fake.addUser(resident("508", { tenants: [tenant("t1"), tenant("t2"), tenant("t3")] }));
    await linkAccount(deps(), "hana", signInAtButterflyMx(fake, "508"));
    fake.updateUser("508", { tenants: [tenant("t1"), tenant("t2"), tenant("t3"), tenant("t4"), tenant("t5")] });
    const before = await snapshotDatabase(db);
    const integrationsBefore = ["t1", "t2", "t3"].flatMap((id) => fake.integrationsOf({ kind: "tenant", id }));
    fake.fail({ method: "POST", path: /^\/v3\/tenants\/t5\/integrations$/ }, { status: 500 });

    const error = await linkAccount(deps(), "hana", signInAtButterflyMx(fake, "508")).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BmxError);
    expect((error as BmxError).kind).toBe("unavailable");
    expect(await snapshotDatabase(db)).toEqual(before);
    expect(["t1", "t2", "t3", "t4", "t5"].flatMap((id) => fake.integrationsOf({ kind: "tenant", id }))).toEqual(integrationsBefore);
    // The new sign-in's tokens were revoked; the previous grant is still the live one.
    expect(fake.liveGrants("508").map((g) => g.refresh)).toEqual([before["oauthGrants/hana"] && (before["oauthGrants/hana"] as { refreshToken: string }).refreshToken]);
  });

  it("gives up on a ButterflyMX that does not answer (timeout) without storing anything", async () => {
    fake.addUser(resident("509"));
    fake.fail({ path: /^\/v3\/me$/ }, "hang");

    const error = await linkAccount(deps({ bmx: fakeClient(fake, 300) }), "ivan", signInAtButterflyMx(fake, "509")).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: "timeout", operation: "GET /v3/me" });
    expect(await snapshotDatabase(db)).toEqual({});
    expect(fake.liveGrants("509")).toEqual([]);
  });

  it("refuses an account linked to another app user, and moves it with takeOver", async () => {
    fake.addUser(resident("510", { tenants: [tenant("t1")] }));
    await linkAccount(deps(), "jo", signInAtButterflyMx(fake, "510"));
    const before = await snapshotDatabase(db);

    await expect(linkAccount(deps(), "kim", signInAtButterflyMx(fake, "510"))).rejects.toBeInstanceOf(Conflict);
    expect(await snapshotDatabase(db)).toEqual(before);
    expect(fake.liveGrants("510")).toHaveLength(1);

    const moved = await linkAccount(deps(), "kim", { ...signInAtButterflyMx(fake, "510"), takeOver: true });

    expect(moved.movedFrom).toBe(1);
    expect((await db.doc("bmxUsers/510").get()).get("uids")).toEqual(["kim"]);
    expect((await db.doc("users/jo").get()).get("butterflymx")).toBeUndefined();
    expect((await db.doc("oauthGrants/jo").get()).exists).toBe(false);
    const registrations = await db.collection("webhookRegistrations").get();
    expect(registrations.docs.map((d) => d.get("uid"))).toEqual(["kim"]);
    const integrations = fake.integrationsOf({ kind: "tenant", id: "t1" });
    expect(integrations).toHaveLength(1);
    expect(registrations.docs[0].id).toBe(hashSecret(secretOf(integrations[0].url)));
    expect(fake.liveGrants("510")).toHaveLength(1);
  });
});

describe("GrantSession (refresh with rotating refresh tokens)", () => {
  it("refreshes once for two concurrent calls after a 401, and the grant stays alive", async () => {
    fake.addUser(resident("520"));
    await linkAccount(deps(), "lea", signInAtButterflyMx(fake, "520"));
    fake.expireAccessTokens("520");
    const bmx = fakeClient(fake);
    fake.requests.length = 0;

    const [first, second] = await Promise.all([GrantSession.open(db, bmx, "lea"), GrantSession.open(db, bmx, "lea")]);
    const profiles = await Promise.all([bmx.me(first!), bmx.me(second!)]);

    expect(profiles.map((p) => p.userId)).toEqual(["520", "520"]);
    expect(fake.requests.filter((r) => r.path === "/oauth/token")).toHaveLength(1);
    const grant = (await db.doc("oauthGrants/lea").get()).data()!;
    expect(fake.liveGrants("520").map((g) => g.refresh)).toEqual([grant.refreshToken]);
    expect(grant.refreshLease).toBeUndefined();
    // And the saved pair works for the next caller.
    expect((await bmx.me((await GrantSession.open(db, bmx, "lea"))!)).userId).toBe("520");
  });

  it("marks the grant dead when ButterflyMX refuses the refresh token", async () => {
    fake.addUser(resident("521"));
    await linkAccount(deps(), "max", signInAtButterflyMx(fake, "521"));
    const bmx = fakeClient(fake);
    await bmx.revoke((await db.doc("oauthGrants/max").get()).get("refreshToken"));

    const error = await bmx.me((await GrantSession.open(db, bmx, "max"))!).catch((e: unknown) => e);

    // ButterflyMX answers a dead refresh token 401 (its docs), not OAuth's usual 400.
    expect(error).toMatchObject({ kind: "invalid_grant", httpStatus: 401 });
    const grant = (await db.doc("oauthGrants/max").get()).data()!;
    expect(grant.accessToken).toBeUndefined();
    expect(grant.refreshToken).toBeUndefined();
    expect(grant.invalidSince).toBeInstanceOf(Timestamp);
  });
});

describe("unlinkAccount", () => {
  it("removes everything; the old URL answers 404 and a building-wide delivery is undeliverable", async () => {
    fake.addUser(resident("530", { tenants: [tenant("t1"), tenant("t2")] }));
    await linkAccount(deps(), "nia", signInAtButterflyMx(fake, "530"));
    await registerDevice(db, "nia", { deviceId: "pixel", platform: "android", fcmToken: "fcm-token-nia-000001" }, { now: Timestamp.now(), defaults: { apnsEnvironment: "production", bundleId: "" } });
    const [integration] = fake.integrationsOf({ kind: "tenant", id: "t1" });

    const result = await unlinkAccount(deps(), "nia");

    expect(result).toEqual({ wasLinked: true, integrationsDeleted: 2, integrationsLeft: 0, devicesRemoved: 1 });
    expect(fake.integrationsOf({ kind: "tenant", id: "t1" })).toEqual([]);
    expect(fake.integrationsOf({ kind: "tenant", id: "t2" })).toEqual([]);
    expect(fake.liveGrants("530")).toEqual([]);
    expect(await snapshotDatabase(db)).toEqual({ "users/nia": { preferences: { contactPreference: "mobile_app" } } });

    expect((await post(secretOf(integration.url), createBody({ user: { id: 530 } }))).status).toBe(404);
    const viaOperator = await post(OPERATOR_SECRET, createBody({ user: { id: 530 } }));
    expect(viaOperator.status).toBe(200);
    const call = (await db.doc(`calls/${(viaOperator.body as { guid: string }).guid}`).get()).data()!;
    expect(call.recipients).toEqual([]);
    expect(call.delivery).toMatchObject({ state: "undeliverable", reason: "no_recipients" });

    expect(await unlinkAccount(deps(), "nia")).toEqual({ wasLinked: false, integrationsDeleted: 0, integrationsLeft: 0, devicesRemoved: 0 });
  });

  it("still unlinks locally when ButterflyMX cannot delete the integrations", async () => {
    fake.addUser(resident("531", { tenants: [tenant("t1"), tenant("t2")] }));
    await linkAccount(deps(), "otto", signInAtButterflyMx(fake, "531"));
    fake.fail({ method: "DELETE", path: /integrations\// }, { status: 503 }, 2);

    const result = await unlinkAccount(deps(), "otto");

    expect(result).toMatchObject({ wasLinked: true, integrationsDeleted: 0, integrationsLeft: 2 });
    expect(await docIds("webhookRegistrations")).toEqual([]);
    expect(await docIds("oauthGrants")).toEqual([]);
    expect(await docIds("bmxUsers")).toEqual([]);
  });

  it("keeps other app users linked to the same ButterflyMX user", async () => {
    fake.addUser(resident("532"));
    await linkAccount(deps(), "pia", signInAtButterflyMx(fake, "532"));
    await db.doc("bmxUsers/532").update({ uids: ["pia", "quinn"] });

    await unlinkAccount(deps(), "pia");

    expect((await db.doc("bmxUsers/532").get()).get("uids")).toEqual(["quinn"]);
  });
});

describe("deleteUserData", () => {
  it("removes the link, devices, access logs and every trace of the user on the calls others keep; idempotent", async () => {
    fake.addUser(resident("540"));
    await linkAccount(deps(), "rosa", signInAtButterflyMx(fake, "540"));
    await registerDevice(db, "rosa", { deviceId: "iphone", platform: "ios", fcmToken: "fcm-token-rosa-000001" }, { now: Timestamp.now(), defaults: { apnsEnvironment: "production", bundleId: "com.example.intercom" } });
    await db.doc("calls/alone").set({ recipients: ["rosa"], status: "missed" });
    await db.doc("calls/alone/deliveries/iphone").set({ uid: "rosa" });
    const opened = Timestamp.now();
    await db.doc("calls/shared").set({
      recipients: ["rosa", "sam"],
      status: "answered",
      delivery: { state: "rung", recipients: { rosa: "rung", sam: "rung" }, recipientDevices: { rosa: { devices: 1, sent: 1 }, sam: { devices: 1, sent: 1 } } },
      doorRelease: { requestedAt: opened, result: "released", by: "rosa" },
    });
    await db.doc("calls/shared/deliveries/iphone").set({ uid: "rosa" });
    await db.doc("calls/shared/deliveries/sams-phone").set({ uid: "sam" });
    await db.doc("calls/other").set({ recipients: ["sam"], status: "missed" });
    await db.doc("accessLogs/a1").set({ uid: "rosa" });
    await db.doc("accessLogs/a2").set({ uid: "sam" });

    const result = await deleteUserData(deps(), "rosa");

    expect(result).toMatchObject({ wasLinked: true, integrationsDeleted: 1, devicesRemoved: 1, callsDeleted: 1, callsLeft: 1 });
    expect(await snapshotDatabase(db)).toEqual({
      "calls/shared": {
        recipients: ["sam"],
        status: "answered",
        delivery: { state: "rung", recipients: { sam: "rung" }, recipientDevices: { sam: { devices: 1, sent: 1 } } },
        doorRelease: { requestedAt: opened, result: "released" },
      },
      "deletedUsers/rosa": { deletedAt: expect.any(Timestamp), expireAt: expect.any(Timestamp) },
      "calls/shared/deliveries/sams-phone": { uid: "sam" },
      "calls/other": { recipients: ["sam"], status: "missed" },
      "accessLogs/a2": { uid: "sam" },
    });
    expect(fake.integrationsOf({ kind: "tenant", id: "t-540-1" })).toEqual([]);
    expect(fake.liveGrants("540")).toEqual([]);

    await expect(deleteUserData(deps(), "rosa")).resolves.toMatchObject({ wasLinked: false, callsDeleted: 0, callsLeft: 0 });
  });

  it("refuses the writes of a deleted user's still-valid token: no device, no preferences, no link, no profile comes back", async () => {
    await registerDevice(db, "tia", { deviceId: "pixel", platform: "android", fcmToken: "fcm-token-tia-0000001" }, { now: Timestamp.now(), defaults: { apnsEnvironment: "production", bundleId: "com.example.intercom" } });
    await deleteUserData(deps(), "tia");

    const register = registerDevice(db, "tia", { deviceId: "pixel", platform: "android", fcmToken: "fcm-token-tia-0000002" }, { now: Timestamp.now(), defaults: { apnsEnvironment: "production", bundleId: "com.example.intercom" } });
    await expect(register.catch((error: unknown) => toHttpsError(error, { function: "registerDevice", uid: "tia" }))).resolves.toMatchObject({ code: "unauthenticated", message: expect.stringContaining("deleted") });
    await expect(updatePreferences(deps(), "tia", { doNotDisturb: true })).rejects.toThrow(AccountDeleted);
    fake.addUser(resident("541"));
    await expect(linkAccount(deps(), "tia", signInAtButterflyMx(fake, "541"))).rejects.toThrow(AccountDeleted);
    expect(fake.integrationsOf({ kind: "tenant", id: "t-541-1" })).toEqual([]);
    const left = Object.keys(await snapshotDatabase(db)).filter((path) => path.startsWith("users/tia"));
    expect(left).toEqual([]);
  });
});

describe("building-wide mode: resolving by email", () => {
  const auth = () => getAuth(firestore.app);

  it("rings the app user whose verified email matches when nobody linked the ButterflyMX user", async () => {
    const email = `verified.${Date.now()}@example.com`;
    const user = await auth().createUser({ email, emailVerified: true });
    const uidsForEmail = (e: string) => verifiedUidsForEmail(e, auth());

    const answer = await post(OPERATOR_SECRET, createBody({ user: { id: 550, email: email.toUpperCase() } }), { uidsForEmail });

    const call = (await db.doc(`calls/${(answer.body as { guid: string }).guid}`).get()).data()!;
    expect(call.recipients).toEqual([user.uid]);
  });

  it("never rings an unverified or unknown email", async () => {
    const email = `unverified.${Date.now()}@example.com`;
    await auth().createUser({ email, emailVerified: false });
    const uidsForEmail = (e: string) => verifiedUidsForEmail(e, auth());

    for (const address of [email, `nobody.${Date.now()}@example.com`]) {
      const answer = await post(OPERATOR_SECRET, createBody({ user: { id: 551, email: address } }), { uidsForEmail });
      expect((await db.doc(`calls/${(answer.body as { guid: string }).guid}`).get()).get("recipients")).toEqual([]);
    }
  });

  it("records an event whose email Firebase Auth refuses as undeliverable and answers 200, as for any unknown resident", async () => {
    const uidsForEmail = (e: string) => verifiedUidsForEmail(e, auth());

    for (const address of ["not-an-email", "a@b@c"]) {
      const answer = await post(OPERATOR_SECRET, createBody({ user: { id: 553, email: address } }), { uidsForEmail });
      expect(answer.status).toBe(200);
      const call = (await db.doc(`calls/${(answer.body as { guid: string }).guid}`).get()).data()!;
      expect(call).toMatchObject({ recipients: [], delivery: { state: "undeliverable", reason: "no_recipients" } });
    }
  });

  it("prefers linked uids over the email", async () => {
    await db.doc("bmxUsers/552").set({ uids: ["linked-user"] });
    const uidsForEmail = jest.fn(async () => ["by-email"]);

    const answer = await post(OPERATOR_SECRET, createBody({ user: { id: 552, email: "x@example.com" } }), { uidsForEmail });

    expect((await db.doc(`calls/${(answer.body as { guid: string }).guid}`).get()).get("recipients")).toEqual(["linked-user"]);
    expect(uidsForEmail).not.toHaveBeenCalled();
  });
});

describe("logs", () => {
  it("carry no token, secret, code or email through link, refresh, failures, webhooks and deletion", async () => {
    const secrets: string[] = [fake.clientSecret, OPERATOR_SECRET];
    const text = await captureLogs(async () => {
      const email = `secret.person.${Date.now()}@example.com`;
      fake.addUser(resident("560", { email, tenants: [tenant("t1"), tenant("t2")] }));
      const first = signInAtButterflyMx(fake, "560");
      secrets.push(first.code, first.codeVerifier);
      await linkAccount(deps(), "una", first);
      fake.fail({ method: "POST", path: /^\/v3\/tenants\/t2\/integrations$/ }, { status: 500 });
      fake.seedIntegration({ kind: "tenant", id: "t2" }, `${WEBHOOK_BASE}/orphan-secret-for-the-log-test-0123456789`);
      await linkAccount(deps(), "una", signInAtButterflyMx(fake, "560")).catch(() => undefined);
      fake.expireAccessTokens("560");
      const bmx = fakeClient(fake);
      await bmx.me((await GrantSession.open(db, bmx, "una"))!);
      for (const integration of fake.integrationsOf({ kind: "tenant", id: "t1" })) {
        secrets.push(secretOf(integration.url));
        await post(secretOf(integration.url), createBody({ user: { id: 560, email } }));
      }
      await post(OPERATOR_SECRET, createBody({ user: { id: 561, email } }), { uidsForEmail: async () => [] });
      await post("x".repeat(40), { not: "a call" });
      fake.fail({ method: "DELETE", path: /integrations\// }, { status: 500 });
      await deleteUserData(deps(), "una");
      secrets.push(...fake.requests.flatMap((r) => [r.bearer ?? "", r.form?.refresh_token ?? "", r.form?.token ?? ""]).filter((t) => t.length > 0));
      secrets.push(email, email.split("@")[0]);
    });

    expect(text).toContain("ButterflyMX account linked");
    expect(text).toContain("ButterflyMX integration could not be deleted");
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
