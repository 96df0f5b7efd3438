import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { getAuth } from "firebase-admin/auth";
import { Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { checkDeliveryHealth } from "../../src/health/delivery-health";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { readCall, seedResident } from "../helpers/fixtures";

/**
 * `npm run diagnose` and `npm run reconcile` as support runs them, as processes: inside the emulators they find the
 * emulated project (GCLOUD_PROJECT) and the local ButterflyMX the functions use (BUTTERFLYMX_*_ORIGIN).
 */
const run = promisify(execFile);
const SCRIPTS = join(__dirname, "../../../scripts");
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
const auth = getAuth(firestore.app);
let fake: ButterflyMxFake;

const command = (script: string, args: string[]) =>
  run(process.execPath, [join(SCRIPTS, script), ...args], {
    env: {
      ...process.env,
      GCLOUD_PROJECT: projectId,
      BUTTERFLYMX_ACCOUNTS_ORIGIN: fake.origins.accounts,
      BUTTERFLYMX_API_ORIGIN_NA: fake.origins.na,
      BUTTERFLYMX_API_ORIGIN_EU: fake.origins.eu,
    },
  });
const failure = (script: string, args: string[]) => command(script, args).then(
  () => {
    throw new Error(`${script} ${args.join(" ")} succeeded`);
  },
  (error: { code: number; stdout: string; stderr: string }) => error,
);

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

describe("support commands", () => {
  jest.setTimeout(120_000);

  it("diagnose names the call ButterflyMX never delivered, reconcile records it, and diagnose then lists it (text and JSON)", async () => {
    const email = `support.${Date.now()}@example.com`;
    const { uid } = await auth.createUser({ email, password: "test-password" });
    await seedResident(db, uid, [{ deviceId: "pixel", platform: "android", fcmToken: "fcm-support-android-01" }]);
    fake.addUser(resident("901"));
    await linkAccount(accountDeps(db, fake), uid, signInAtButterflyMx(fake, "901"));
    await db.doc(`users/${uid}`).update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 3_600_000) });
    const guid = randomUUID();
    fake.addCallLogs("901", { id: "1", guid, loggedAt: new Date(Date.now() - 600_000).toISOString(), panelId: "28516", panelName: "Lobby", status: "canceled" });

    const before = await command("diagnose.mjs", ["--email", email]);
    expect(before.stdout).toContain(`${uid} (s…@example.com) on the emulators`);
    expect(before.stdout).not.toContain(email);
    expect(before.stdout).toMatch(/✘ webhook_received +ButterflyMX logged 1 call\(s\) since linking/);
    expect(before.stdout).toMatch(/✔ webhook_registered/);
    expect(before.stdout).toContain("1 check(s) failed.");

    const reconciled = await command("reconcile.mjs", ["--uid", uid]);
    expect(reconciled.stdout).toContain(`${uid}  1 recorded, 0 ended, 0 final status(es)`);
    expect(reconciled.stderr).toContain(`call reconciled with ButterflyMX's call log (guid=${guid}`);
    expect(await readCall(db, guid)).toMatchObject({ status: "canceled", endReason: "reconciled", recipients: [uid] });

    const after = JSON.parse((await command("diagnose.mjs", ["--uid", uid, "--json"])).stdout) as { checks: Array<{ id: string; ok: boolean }>; calls: unknown[] };
    expect(after.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(["webhook_received", "recent_calls"]);
    expect(after.calls).toEqual([expect.objectContaining({ guid, received: "reconciled", problem: "ButterflyMX's webhook never delivered this call" })]);
  });

  it("diagnose --building answers one, several or all; health shows the window and the incidents", async () => {
    for (const [uid, bmxUserId] of [["nia", "911"], ["oli", "912"]]) {
      await seedResident(db, uid, [{ deviceId: `pixel-${uid}`, platform: "android", fcmToken: `fcm-support-${uid}-01` }]);
      fake.addUser(resident(bmxUserId, { tenants: [tenant(`t-${bmxUserId}`, { buildingId: "b-91", buildingName: "Cedar Hall", unitLabel: `${bmxUserId}B` })] }));
      await linkAccount(accountDeps(db, fake), uid, signInAtButterflyMx(fake, bmxUserId));
    }
    await db.doc("users/oli").update({ "preferences.doNotDisturb": true });
    const text = (await command("diagnose.mjs", ["--building", "Cedar Hall"])).stdout;
    expect(text).toContain("Building Cedar Hall (b-91) on the emulators");
    expect(text).toContain("Verdict: One resident is affected: oli (912B), by do_not_disturb; the others pass.");
    expect(text).toMatch(/✔ nia \(911B\) +linked: yes · webhook: registered/);
    expect(text).toMatch(/✔ building_webhook_silent/);
    const json = JSON.parse((await command("diagnose.mjs", ["--building", "t-911", "--json"])).stdout) as { verdict: { scope: string; residents: string[] } };
    expect(json.verdict).toMatchObject({ scope: "one", residents: ["oli"] });

    // A ring APNs refused for our credentials, and the incident the watch opened for it.
    const guid = randomUUID();
    const now = Timestamp.now();
    await db.doc(`calls/${guid}/deliveries/iphone-nia`).set({
      uid: "nia", deviceId: "iphone-nia", platform: "ios", ring: { channel: "apns_voip", outcome: "credentials", errorCode: "InvalidProviderToken", attempts: 1, at: now }, expireAt: now,
    });
    await checkDeliveryHealth({ db, now: Date.now, thresholds: { failureRate: 0.5, minRings: 10 } });
    const health = (await command("health.mjs", [])).stdout;
    expect(health).toMatch(/APNS UNHEALTHY 1 ring\(s\), 1 failed \(credentials 1\)/);
    expect(health).toMatch(/FCM +no ring/);
    expect(health).toMatch(/✘ open +apns-credentials +opened /);
  });

  it("refuses an unknown resident and bad arguments, saying why", async () => {
    await expect(failure("diagnose.mjs", ["--uid", "nobody-here"])).resolves.toMatchObject({ code: 1, stderr: expect.stringContaining("No user has the uid nobody-here.") });
    await expect(failure("diagnose.mjs", ["--email", "nobody@example.com"])).resolves.toMatchObject({ code: 1, stderr: expect.stringContaining("No user has the email nobody@example.com.") });
    await expect(failure("diagnose.mjs", [])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining("exactly one of --uid, --email or --building") });
    await expect(failure("diagnose.mjs", ["--building", "Nowhere House"])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining('building matches no tenant, building id or building name of a linked resident ("Nowhere House")') });
    await expect(failure("diagnose.mjs", ["--building", "b-1", "--days", "90"])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining("--days must be a whole number from 1 to 30") });
    await expect(failure("diagnose.mjs", ["--uid", "a", "--calls", "99"])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining("--calls must be a whole number from 1 to 25") });
    await expect(failure("reconcile.mjs", ["--lookback-hours", "zero"])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining("--lookback-hours must be a whole number") });
    await expect(failure("reconcile.mjs", ["--bogus"])).resolves.toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
  });
});
