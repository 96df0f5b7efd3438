import functionsTest from "firebase-functions-test";
import { linkAccount } from "../../src/accounts/link-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { isolatedProjectId, snapshotDatabase, testFirestore } from "../helpers/emulators";

/**
 * The deployed onUserDeleted (1st-gen Auth trigger), run by firebase-functions-test `wrap()` with a real user
 * record, configured as the emulator configures it: params and secrets from the environment, ButterflyMX at the
 * local fake (BUTTERFLYMX_*_ORIGIN, honoured only when FUNCTIONS_EMULATOR is true).
 */
const projectId = isolatedProjectId(__filename);
const firestore = testFirestore(projectId);
const db = firestore.db;
const fft = functionsTest({ projectId });
let fake: ButterflyMxFake;
let onUserDeleted: typeof import("../../src/accounts/on-user-deleted.function").onUserDeleted;

beforeAll(async () => {
  fake = await ButterflyMxFake.start();
  Object.assign(process.env, {
    FUNCTIONS_EMULATOR: "true",
    GCLOUD_PROJECT: projectId,
    BUTTERFLYMX_ACCOUNTS_ORIGIN: fake.origins.accounts,
    BUTTERFLYMX_API_ORIGIN_NA: fake.origins.na,
    BUTTERFLYMX_API_ORIGIN_EU: fake.origins.eu,
    BUTTERFLYMX_CLIENT_ID: fake.clientId,
    BUTTERFLYMX_CLIENT_SECRET: fake.clientSecret,
  });
  ({ onUserDeleted } = await import("../../src/accounts/on-user-deleted.function"));
});
afterAll(async () => {
  fft.cleanup();
  await Promise.all([fake.close(), firestore.close()]);
});

describe("onUserDeleted (wrapped)", () => {
  it("deletes everything keyed by the uid, at ButterflyMX too, and is idempotent", async () => {
    fake.addUser(resident("601"));
    await linkAccount(accountDeps(db, fake), "gone", signInAtButterflyMx(fake, "601"));
    await db.doc("users/gone/devices/pixel").set({ uid: "gone", platform: "android", fcmToken: "fcm-token-gone-0001" });
    await db.doc("calls/c1").set({ recipients: ["gone"], status: "missed" });
    const wrapped = fft.wrap(onUserDeleted);
    const user = fft.auth.makeUserRecord({ uid: "gone", email: "gone@example.com" });

    await wrapped(user);

    expect(await snapshotDatabase(db)).toEqual({});
    expect(fake.integrationsOf({ kind: "tenant", id: "t-601-1" })).toEqual([]);
    expect(fake.liveGrants("601")).toEqual([]);

    await wrapped(user);
    expect(await snapshotDatabase(db)).toEqual({});
  });
});
