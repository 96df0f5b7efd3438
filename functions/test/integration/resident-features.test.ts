import { linkAccount } from "../../src/accounts/link-service";
import { updatePreferences } from "../../src/accounts/preferences-service";
import { AccountDeps } from "../../src/accounts/account-deps";
import { ringCall } from "../../src/calls/ring-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { PushHarness, seedResident, seedRingingCall, startPushHarness } from "../helpers/push-harness";

/** Door release, histories and preferences against the local ButterflyMX and the Firestore emulator. */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
let fake: ButterflyMxFake;
let push: PushHarness;

const deps = (overrides: Partial<AccountDeps> = {}) => accountDeps(db, fake, overrides);
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
