import { classifyApnsResponse, classifyFcmError } from "../../src/push/push-outcomes";

const fcmError = (code: string, message = "") => Object.assign(new Error(message), { code });

describe("classifyFcmError", () => {
  it.each([
    ["messaging/registration-token-not-registered", "", "prune"],
    ["messaging/invalid-registration-token", "", "prune"],
    ["messaging/mismatched-credential", "SenderId mismatch", "prune"],
    ["messaging/mismatched-credential", "Permission 'cloudmessaging.messages.create' denied", "credentials"],
    ["messaging/invalid-argument", "The registration token is not a valid FCM registration token", "prune"],
    ["messaging/invalid-argument", "Invalid value at 'message.android.ttl'", "payload"],
    ["messaging/server-unavailable", "", "retry"],
    ["messaging/internal-error", "", "retry"],
    ["app/network-error", "", "retry"],
    ["app/network-timeout", "", "retry"],
    ["messaging/message-rate-exceeded", "", "throttled"],
    ["messaging/third-party-auth-error", "", "credentials"],
    ["app/invalid-credential", "", "credentials"],
    ["messaging/payload-size-limit-exceeded", "", "payload"],
    ["messaging/unknown-error", "", "failed"],
  ])("%s (%s) → %s", (code, message, outcome) => {
    expect(classifyFcmError(fcmError(code, message))).toEqual({ outcome, errorCode: code });
  });

  it("reads firebase-admin's errorInfo and survives non-errors", () => {
    expect(classifyFcmError({ errorInfo: { code: "messaging/server-unavailable" } })).toMatchObject({ outcome: "retry" });
    expect(classifyFcmError("boom")).toEqual({ outcome: "failed", errorCode: "unknown" });
  });
});

describe("classifyApnsResponse", () => {
  it.each([
    [200, undefined, "sent"],
    [400, "BadDeviceToken", "prune"],
    [400, "DeviceTokenNotForTopic", "prune"],
    [410, "Unregistered", "prune"],
    [410, "ExpiredToken", "prune"],
    [400, "BadCollapseId", "failed"],
    [403, "ExpiredProviderToken", "credentials"],
    [403, "InvalidProviderToken", "credentials"],
    [429, "TooManyRequests", "throttled"],
    [429, "TooManyProviderTokenUpdates", "credentials"],
    [413, "PayloadTooLarge", "payload"],
    [500, "InternalServerError", "retry"],
    [503, "ServiceUnavailable", "retry"],
    [undefined, "timeout", "retry"],
  ])("%s %s → %s", (status, reason, outcome) => {
    expect(classifyApnsResponse(status, reason).outcome).toBe(outcome);
  });

  it("keeps the apns-id of a sent push and the invalidation time of a 410", () => {
    expect(classifyApnsResponse(200, undefined, "apns-1")).toEqual({ outcome: "sent", providerId: "apns-1" });
    expect(classifyApnsResponse(410, "Unregistered", undefined, 1700000000000)).toEqual({
      outcome: "prune",
      errorCode: "Unregistered",
      invalidSince: 1700000000000,
    });
  });
});
