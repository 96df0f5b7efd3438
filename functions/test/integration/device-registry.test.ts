import { Timestamp } from "firebase-admin/firestore";
import { devicesOf, MAX_DEVICES_PER_USER, pruneToken, registerDevice, unregisterDevice } from "../../src/devices/device-registry";
import { RegisterDeviceInput } from "../../src/devices/device-schemas";
import { Conflict, InvalidInput, LimitReached } from "../../src/shared/errors";
import { isolatedProjectId, testFirestore } from "../helpers/emulators";
import { VOIP_TOKEN } from "../helpers/fixtures";

const firestore = testFirestore(isolatedProjectId(__filename));
const db = firestore.db;
const T1 = Timestamp.fromMillis(Date.UTC(2026, 10, 22, 12));
const T2 = Timestamp.fromMillis(Date.UTC(2026, 10, 22, 13));
const defaults = { apnsEnvironment: "production" as const, bundleId: "com.example.intercom" };
const register = (uid: string, input: RegisterDeviceInput, now = T1, d = defaults) => registerDevice(db, uid, input, { now, defaults: d });
const device = async (uid: string, deviceId: string) => (await db.doc(`users/${uid}/devices/${deviceId}`).get()).data();

beforeEach(() => firestore.clear());
afterAll(() => firestore.close());

describe("registerDevice", () => {
  it("stores an Android device", async () => {
    await expect(register("alice", { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001", appVersion: "1.2.3" })).resolves.toEqual({
      deviceId: "a1",
      moved: 0,
    });
    expect(await device("alice", "a1")).toEqual({
      deviceId: "a1",
      uid: "alice",
      platform: "android",
      fcmToken: "fcm-alice-0000000001",
      appVersion: "1.2.3",
      createdAt: T1,
      updatedAt: T1,
    });
  });

  it("stores an iOS device with the configured defaults for environment and bundle ID", async () => {
    await register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(1), fcmToken: "fcm-alice-ios-00001" });
    expect(await device("alice", "i1")).toMatchObject({ apnsEnvironment: "production", bundleId: "com.example.intercom", voipToken: VOIP_TOKEN(1) });
  });

  it("refuses a VoIP token without a bundle ID when no default is configured", async () => {
    const attempt = register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(1) }, T1, { ...defaults, bundleId: "" });
    await expect(attempt).rejects.toThrow(InvalidInput);
    await expect(attempt).rejects.toThrow("bundleId is required with a voipToken");
    expect(await device("alice", "i1")).toBeUndefined();
  });

  it("is idempotent and keeps the first registration time", async () => {
    const input: RegisterDeviceInput = { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001" };
    await register("alice", input, T1);
    await register("alice", input, T2);
    expect(await device("alice", "a1")).toMatchObject({ createdAt: T1, updatedAt: T2 });
    expect((await db.collection("users/alice/devices").get()).size).toBe(1);
  });

  it("replaces the tokens of a re-registration (a dropped token is gone)", async () => {
    await register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(1), fcmToken: "fcm-alice-ios-00001" });
    await register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(2) }, T2);
    expect(await device("alice", "i1")).not.toHaveProperty("fcmToken");
    expect(await device("alice", "i1")).toMatchObject({ voipToken: VOIP_TOKEN(2) });
  });

  it("moves a token registered by another user, never sharing it", async () => {
    await register("alice", { deviceId: "shared-phone", platform: "android", fcmToken: "fcm-shared-00000001" });
    const result = await register("bob", { deviceId: "bobs-install", platform: "android", fcmToken: "fcm-shared-00000001" }, T2);
    expect(result).toEqual({ deviceId: "bobs-install", moved: 1 });
    expect(await device("alice", "shared-phone")).toBeUndefined();
    expect(await device("bob", "bobs-install")).toMatchObject({ fcmToken: "fcm-shared-00000001" });
  });

  it("moves a VoIP token and an install id between users when the install's token comes with the id", async () => {
    await register("alice", { deviceId: "ipad", platform: "ios", voipToken: VOIP_TOKEN(3) });
    await register("alice", { deviceId: "phone", platform: "android", fcmToken: "fcm-alice-phone-001" });
    await register("bob", { deviceId: "ipad", platform: "ios", voipToken: VOIP_TOKEN(3) }, T2);
    await register("bob", { deviceId: "phone", platform: "android", fcmToken: "fcm-alice-phone-001" }, T2);
    expect((await db.collection("users/alice/devices").get()).size).toBe(0);
    expect((await db.collection("users/bob/devices").get()).docs.map((d) => d.id).sort()).toEqual(["ipad", "phone"]);
  });

  it("refuses an install id held by another user when the caller does not present that install's token", async () => {
    await register("alice", { deviceId: "phone", platform: "android", fcmToken: "fcm-alice-phone-001" });
    const attempt = register("mallory", { deviceId: "phone", platform: "android", fcmToken: "fcm-mallory-00001" }, T2);
    await expect(attempt).rejects.toThrow(Conflict);
    await expect(attempt).rejects.toThrow("deviceId phone is registered to another account");
    expect(await device("alice", "phone")).toMatchObject({ fcmToken: "fcm-alice-phone-001", updatedAt: T1 });
    expect(await device("mallory", "phone")).toBeUndefined();
  });

  it(`caps a user at ${MAX_DEVICES_PER_USER} devices with a clear error, and lets a registered one re-register`, async () => {
    for (let n = 0; n < MAX_DEVICES_PER_USER; n++) await register("alice", { deviceId: `d${n}`, platform: "android", fcmToken: `fcm-alice-cap-${String(n).padStart(4, "0")}` });
    const attempt = register("alice", { deviceId: "one-too-many", platform: "android", fcmToken: "fcm-alice-cap-extra" });
    await expect(attempt).rejects.toThrow(LimitReached);
    await expect(attempt).rejects.toThrow(`already has ${MAX_DEVICES_PER_USER} devices`);
    expect(await device("alice", "one-too-many")).toBeUndefined();
    await expect(register("alice", { deviceId: "d0", platform: "android", fcmToken: "fcm-alice-cap-renewed" }, T2)).resolves.toEqual({ deviceId: "d0", moved: 0 });
    // A reinstall that takes over its previous install's token replaces it rather than counting twice.
    await expect(register("alice", { deviceId: "d1-reinstalled", platform: "android", fcmToken: "fcm-alice-cap-0001" }, T2)).resolves.toEqual({ deviceId: "d1-reinstalled", moved: 1 });
    expect((await db.collection("users/alice/devices").get()).size).toBe(MAX_DEVICES_PER_USER);
  });

  it("drops this user's previous install that held the same token (reinstall)", async () => {
    await register("alice", { deviceId: "old-install", platform: "android", fcmToken: "fcm-alice-0000000009" });
    await expect(register("alice", { deviceId: "new-install", platform: "android", fcmToken: "fcm-alice-0000000009" })).resolves.toEqual({
      deviceId: "new-install",
      moved: 1,
    });
    expect((await db.collection("users/alice/devices").get()).docs.map((d) => d.id)).toEqual(["new-install"]);
  });

  it("leaves one holder when two users race for the same token", async () => {
    await Promise.all([
      register("alice", { deviceId: "a", platform: "android", fcmToken: "fcm-contested-0001" }),
      register("bob", { deviceId: "b", platform: "android", fcmToken: "fcm-contested-0001" }),
    ]);
    const holders = await db.collectionGroup("devices").where("fcmToken", "==", "fcm-contested-0001").get();
    expect(holders.size).toBe(1);
  });
});

describe("unregisterDevice", () => {
  it("removes the device and is idempotent", async () => {
    await register("alice", { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001" });
    await expect(unregisterDevice(db, "alice", "a1")).resolves.toEqual({ deviceId: "a1", removed: true });
    await expect(unregisterDevice(db, "alice", "a1")).resolves.toEqual({ deviceId: "a1", removed: false });
    expect(await device("alice", "a1")).toBeUndefined();
  });

  it("never removes another user's device", async () => {
    await register("alice", { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001" });
    await unregisterDevice(db, "bob", "a1");
    expect(await device("alice", "a1")).toBeDefined();
  });
});

describe("pruneToken", () => {
  beforeEach(() => register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(1), fcmToken: "fcm-alice-ios-00001" }, T1));

  it("removes only the dead token, then the device when none is left", async () => {
    await expect(pruneToken(db, { uid: "alice", deviceId: "i1" }, "voipToken", VOIP_TOKEN(1))).resolves.toBe("pruned");
    expect(await device("alice", "i1")).toMatchObject({ fcmToken: "fcm-alice-ios-00001" });
    expect(await device("alice", "i1")).not.toHaveProperty("voipToken");
    await expect(pruneToken(db, { uid: "alice", deviceId: "i1" }, "fcmToken", "fcm-alice-ios-00001")).resolves.toBe("removed");
    expect(await device("alice", "i1")).toBeUndefined();
  });

  it("keeps a token that was replaced meanwhile", async () => {
    await expect(pruneToken(db, { uid: "alice", deviceId: "i1" }, "voipToken", VOIP_TOKEN(9))).resolves.toBe("kept");
    expect(await device("alice", "i1")).toMatchObject({ voipToken: VOIP_TOKEN(1) });
  });

  it("keeps a token re-registered after APNs said it became invalid (410 timestamp)", async () => {
    await expect(pruneToken(db, { uid: "alice", deviceId: "i1" }, "voipToken", VOIP_TOKEN(1), T1.toMillis() - 1000)).resolves.toBe("kept");
    await expect(pruneToken(db, { uid: "alice", deviceId: "i1" }, "voipToken", VOIP_TOKEN(1), T1.toMillis() + 1000)).resolves.toBe("pruned");
  });
});

describe("devicesOf (what the ring reads)", () => {
  it("returns what a push needs from every registered device", async () => {
    await register("alice", { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001", appVersion: "1.2.3", locale: "en-US" });
    await register("alice", { deviceId: "i1", platform: "ios", voipToken: VOIP_TOKEN(1), fcmToken: "fcm-alice-ios-00001" }, T2);
    expect(await devicesOf(db, "alice")).toEqual([
      { deviceId: "a1", uid: "alice", platform: "android", fcmToken: "fcm-alice-0000000001", updatedAt: T1 },
      {
        deviceId: "i1",
        uid: "alice",
        platform: "ios",
        fcmToken: "fcm-alice-ios-00001",
        voipToken: VOIP_TOKEN(1),
        apnsEnvironment: "production",
        bundleId: "com.example.intercom",
        updatedAt: T2,
      },
    ]);
  });

  it.each([
    ["an unknown platform", { platform: "windows", fcmToken: "fcm-0000000000000001" }],
    ["no platform", { fcmToken: "fcm-0000000000000001" }],
    ["a token that is not text", { platform: "android", fcmToken: 12345 }],
    ["a VoIP token that is not text", { platform: "ios", voipToken: ["abc"] }],
    ["a bundle ID that is not text", { platform: "ios", voipToken: VOIP_TOKEN(2), bundleId: null }],
    ["an unknown APNs environment", { platform: "ios", voipToken: VOIP_TOKEN(2), apnsEnvironment: "development" }],
  ])("skips a document with %s, written some other way, and keeps the others", async (_, data) => {
    await register("alice", { deviceId: "a1", platform: "android", fcmToken: "fcm-alice-0000000001" });
    await db.doc("users/alice/devices/bad").set(data);
    expect((await devicesOf(db, "alice")).map((d) => d.deviceId)).toEqual(["a1"]);
  });
});
