import { Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { ringCall } from "../../src/calls/ring-service";
import { checkDeliveryHealth, HEALTH_WINDOW_MS } from "../../src/health/delivery-health";
import { diagnoseBuilding } from "../../src/support/building-diagnosis";
import { useFeatureFakes } from "../helpers/feature-fakes";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { ANDROID, IPHONE, seedResident, seedRingingCall, VOIP_TOKEN } from "../helpers/fixtures";
import { captureLogs } from "../helpers/log-capture";

/**
 * "One resident, several, or all?" for a building, and the delivery-health watch, on the Firestore emulator with the
 * local FCM, APNs and ButterflyMX servers.
 */
const fakes = useFeatureFakes(__filename);
const db = fakes.db;
const THRESHOLDS = { failureRate: 0.5, minRings: 2 };
const BUILDING = "b-77";

/** A resident of the building: phones registered, account linked (its webhook registered at ButterflyMX). */
async function neighbour(uid: string, bmxUserId: string, devices = [ANDROID, IPHONE]): Promise<void> {
  // Each resident's own tokens: the local FCM and APNs answer per token.
  await seedResident(db, uid, devices.map((d) => ({ ...d, deviceId: `${d.deviceId}-${uid}`, fcmToken: `${d.fcmToken}-${uid}`, ...("voipToken" in d ? { voipToken: VOIP_TOKEN(Number(bmxUserId) % 200 + 10) } : {}) })));
  fakes.fake.addUser(resident(bmxUserId, { tenants: [tenant(`t-${bmxUserId}`, { buildingId: BUILDING, buildingName: "Birch Court", unitLabel: `${bmxUserId}A` })] }));
  await linkAccount(accountDeps(db, fakes.fake), uid, signInAtButterflyMx(fakes.fake, bmxUserId));
}

/** A call to the resident that the webhook recorded and rang, at `at`. */
async function rung(uid: string, at = Date.now()): Promise<string> {
  const guid = await seedRingingCall(db, [uid], { createdAt: at });
  await ringCall(guid, fakes.push.deps(db, { now: () => at + 100 }));
  return guid;
}

const building = (now = Date.now) => diagnoseBuilding({ db, bmx: accountDeps(db, fakes.fake).bmx, now }, { building: "Birch Court", windowMs: 7 * 86_400_000, thresholds: THRESHOLDS });

describe("the building view", () => {
  it("passes every check of a healthy building, with each resident's last ring per platform, and the watch opens nothing", async () => {
    await neighbour("ann", "771");
    await neighbour("bo", "772");
    await rung("ann");
    await rung("bo");
    const view = await building();
    expect(view.building).toEqual({ id: BUILDING, name: "Birch Court" });
    expect(view.checks.map((c) => [c.id, c.ok])).toEqual([["building_webhook_silent", true], ["building_webhook_binding", true], ["provider_credentials", true], ["ring_success_rate", true], ["ring_latency", true]]);
    expect(view.verdict).toMatchObject({ scope: "none" });
    expect(view.residents).toEqual([
      expect.objectContaining({ uid: "ann", unit: "771A", linked: true, webhookRegistered: true, failing: [], lastRing: { android: expect.objectContaining({ outcome: "sent" }), ios: expect.objectContaining({ channel: "apns_voip", outcome: "sent" }) } }),
      expect.objectContaining({ uid: "bo", failing: [] }),
    ]);
    await expect(checkDeliveryHealth({ db, now: Date.now, thresholds: THRESHOLDS })).resolves.toMatchObject({ opened: [], closed: [] });
    expect((await db.collection("healthIncidents").get()).empty).toBe(true);
  });

  it("says 'one resident' for one with Do Not Disturb among healthy neighbours", async () => {
    await neighbour("cy", "773");
    await neighbour("di", "774");
    await db.doc("users/di").update({ "preferences.doNotDisturb": true });
    await rung("cy");
    await rung("di");
    const view = await building();
    expect(view.verdict).toMatchObject({ scope: "one", residents: ["di"], summary: expect.stringContaining("do_not_disturb") });
    expect(view.checks.every((c) => c.ok)).toBe(true);
  });

  it("names the building's webhook silent when ButterflyMX's log has calls that reached nobody", async () => {
    await neighbour("ed", "775");
    await neighbour("flo", "776");
    // Linked an hour ago; ButterflyMX logged a call for each since, which no webhook delivered.
    for (const uid of ["ed", "flo"]) await db.doc(`users/${uid}`).update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 3_600_000) });
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    fakes.fake.addCallLogs("775", { id: "1", guid: "7a7a7a7a-0000-4000-8000-000000000775", loggedAt: tenMinutesAgo, panelId: "28516", status: "timeout_online_signal" });
    fakes.fake.addCallLogs("776", { id: "2", guid: "7a7a7a7a-0000-4000-8000-000000000776", loggedAt: tenMinutesAgo, panelId: "28516", status: "canceled" });
    const view = await building();
    expect(view.checks.find((c) => c.id === "building_webhook_silent")).toMatchObject({ ok: false, evidence: { residents: 2, silent: [{ uid: "ed", neverReceived: 1 }, { uid: "flo", neverReceived: 1 }] } });
    expect(view.verdict).toMatchObject({ scope: "all", sharedCause: "building_webhook_silent" });
  });

  it("says when ButterflyMX bound the building-wide webhook to create alone: answers and hang-ups never arrive", async () => {
    await neighbour("kit", "781");
    await db.doc(`buildingWebhooks/${BUILDING}`).set({ integrationId: "1001", actions: ["create"], webhookBaseUrl: "https://example.com/w", registeredAt: Timestamp.now() });
    const view = await building();
    expect(view.checks.find((c) => c.id === "building_webhook_binding")).toMatchObject({ ok: false, summary: expect.stringContaining("to create alone"), advice: expect.stringContaining("ring timeout") });
    expect(view.verdict).toMatchObject({ scope: "all", sharedCause: "building_webhook_binding" });
  });

  it("refuses a building no linked resident is in, naming the input", async () => {
    await expect(building()).rejects.toThrow('building matches no tenant, building id or building name of a linked resident ("Birch Court")');
  });
});

describe("the delivery-health watch", () => {
  it("opens an APNs credentials incident within one run, logs it once at error level, and closes it after recovery", async () => {
    await neighbour("gus", "777");
    await neighbour("hal", "778");
    const voip = async (uid: string) => ((await db.doc(`users/${uid}/devices/${IPHONE.deviceId}-${uid}`).get()).get("voipToken") as string);
    for (const uid of ["gus", "hal"]) fakes.push.apns.replyAlways(await voip(uid), { status: 403, reason: "InvalidProviderToken" });
    const t0 = Date.now();
    await rung("gus", t0);
    await rung("hal", t0);

    let first: Awaited<ReturnType<typeof checkDeliveryHealth>> | undefined;
    const logged = await captureLogs(async () => {
      first = await checkDeliveryHealth({ db, now: () => t0 + 60_000, thresholds: THRESHOLDS });
      await checkDeliveryHealth({ db, now: () => t0 + 120_000, thresholds: THRESHOLDS });
    });
    expect(first!.opened).toEqual(expect.arrayContaining([{ provider: "apns", kind: "credentials" }]));
    expect(first!.window.providers.apns).toEqual({ total: 2, failed: 2, byReason: { credentials: 2 } });
    expect(first!.window.providers.fcm).toMatchObject({ total: 2, failed: 0 });
    // One line per incident, however many runs see it: credentials, and (2 of 2 rings failed) the failure rate.
    const opened = logged.split("\n").filter((line) => line.includes('"alert":"delivery_health_incident_opened"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(opened).toEqual([
      expect.objectContaining({ severity: "ERROR", message: expect.stringMatching(/^Error: delivery health incident opened/), provider: "apns", kind: "credentials" }),
      expect.objectContaining({ severity: "ERROR", provider: "apns", kind: "failure_rate" }),
    ]);
    expect((await db.doc("healthIncidents/apns-credentials").get()).data()).toMatchObject({ state: "open", opened: 1, evidence: { total: 2, failed: 2 } });
    // The building says so too, for every resident at once.
    expect((await building(() => t0 + 60_000)).checks.find((c) => c.id === "provider_credentials")).toMatchObject({ ok: false, summary: expect.stringContaining("APNS refused our credentials for 2 of 2 ring(s)") });

    // APNs takes the key again; a later window holds only healthy rings.
    fakes.push.apns.reset();
    const t1 = t0 + HEALTH_WINDOW_MS + 60_000;
    await rung("gus", t1);
    const recovered = await checkDeliveryHealth({ db, now: () => t1 + 60_000, thresholds: THRESHOLDS });
    expect(recovered.closed).toEqual(expect.arrayContaining([{ provider: "apns", kind: "credentials" }]));
    expect((await db.doc("healthIncidents/apns-credentials").get()).data()).toMatchObject({ state: "closed" });
  });

  it("opens a failure-rate incident past the threshold, and leaves a provider without rings alone", async () => {
    await neighbour("ida", "779", [ANDROID]);
    await neighbour("jo", "780", [ANDROID]);
    for (const uid of ["ida", "jo"]) fakes.push.fcm.replyAlways(`${ANDROID.fcmToken}-${uid}`, { error: "QUOTA_EXCEEDED" });
    const t0 = Date.now();
    await rung("ida", t0);
    await rung("jo", t0);
    const run = await checkDeliveryHealth({ db, now: () => t0 + 60_000, thresholds: THRESHOLDS });
    expect(run.window.providers.fcm).toMatchObject({ total: 2, failed: 2 });
    expect(run.opened).toEqual([{ provider: "fcm", kind: "failure_rate" }]);
    expect(run.window.providers.apns.total).toBe(0);
  });
});
