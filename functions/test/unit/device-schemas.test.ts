import { HttpsError } from "firebase-functions/v2/https";
import { registerDeviceSchema, unregisterDeviceSchema } from "../../src/devices/device-schemas";
import { parseInput } from "../../src/shared/errors";

const VOIP = "AB".repeat(32);
const android = { deviceId: "3f1c-install", platform: "android", fcmToken: "fcm-token-0123456789" };

function rejection(data: unknown): { message: string; fields: Array<{ field: string; message: string }> } {
  try {
    parseInput(registerDeviceSchema, data);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpsError);
    expect((error as HttpsError).code).toBe("invalid-argument");
    return { message: (error as HttpsError).message, fields: ((error as HttpsError).details as { fields: never }).fields };
  }
  throw new Error("expected invalid-argument");
}

describe("registerDevice input", () => {
  it("accepts an Android device and an iOS device, lowercasing the VoIP token", () => {
    expect(parseInput(registerDeviceSchema, android)).toEqual(android);
    expect(parseInput(registerDeviceSchema, { deviceId: "ios-1", platform: "ios", voipToken: VOIP, apnsEnvironment: "sandbox", bundleId: "com.example.app", appVersion: "2.1.0 (45)", locale: "en-US" }))
      .toMatchObject({ voipToken: VOIP.toLowerCase(), apnsEnvironment: "sandbox" });
  });

  it.each([
    [{}, "deviceId", "is required"],
    [{ ...android, deviceId: "a/b" }, "deviceId", "must be 1 to 128"],
    [{ ...android, deviceId: "__name__" }, "deviceId", "reserved"],
    [{ ...android, deviceId: ".." }, "deviceId", "reserved"],
    [{ ...android, platform: "windows" }, "platform", "must be android or ios"],
    [{ ...android, fcmToken: undefined }, "fcmToken", "or voipToken is required"],
    [{ ...android, fcmToken: "short" }, "fcmToken", "FCM registration token"],
    [{ ...android, voipToken: VOIP }, "voipToken", "only for iOS"],
    [{ ...android, bundleId: "com.example.app" }, "bundleId", "only for iOS"],
    [{ deviceId: "i", platform: "ios", voipToken: "xyz" }, "voipToken", "PushKit token in hex"],
    [{ deviceId: "i", platform: "ios", voipToken: VOIP, apnsEnvironment: "dev" }, "apnsEnvironment", "production or sandbox"],
    [{ deviceId: "i", platform: "ios", voipToken: VOIP, bundleId: "nodots" }, "bundleId", "bundle ID"],
    [{ ...android, locale: "english please" }, "locale", "locale"],
    [{ ...android, fcm_token: "x" }, "(data)", "unknown field(s): fcm_token"],
  ])("names the problem in %j", (data, field, message) => {
    const { fields } = rejection(data);
    expect(fields).toContainEqual({ field, message: expect.stringContaining(message) });
  });

  it("rejects input that is not an object", () => {
    expect(rejection("phone").fields).toEqual([{ field: "(data)", message: "must be an object" }]);
  });

  it("validates unregisterDevice input", () => {
    expect(parseInput(unregisterDeviceSchema, { deviceId: "abc" })).toEqual({ deviceId: "abc" });
    expect(() => parseInput(unregisterDeviceSchema, {})).toThrow("deviceId is required");
  });
});
