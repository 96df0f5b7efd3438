import { HttpsError } from "firebase-functions/v2/https";
import { redirectUris, webhookBaseUrl } from "../../src/accounts/account-deps";
import { linkAccountSchema } from "../../src/accounts/link-schemas";
import { acknowledgeDeliverySchema } from "../../src/calls/acknowledgement-schemas";
import { updatePreferencesSchema } from "../../src/accounts/preference-schemas";
import { BmxError } from "../../src/butterflymx/butterflymx-errors";
import { bmxEndpoints, runtimeBmxEndpoints } from "../../src/butterflymx/butterflymx-hosts";
import { Conflict, LimitReached, NotAllowed, parseInput, PreconditionFailed, toHttpsError } from "../../src/shared/errors";
import { newWebhookSecret, secretInUrl, webhookUrl } from "../../src/links/webhook-secrets";
import { captureLogs } from "../helpers/log-capture";

/** The callable an unexpected error is reported for. */
const CONTEXT = { function: "getCallHistory", uid: "alice" };

describe("ButterflyMX hosts", () => {
  it("routes production by region and sandbox to its one host", () => {
    expect(bmxEndpoints("production")).toEqual({
      accounts: "https://accounts.butterflymx.com",
      api: { na: "https://api.butterflymx.com", eu: "https://eu.api.butterflymx.com" },
    });
    expect(bmxEndpoints("sandbox").api.na).toBe("https://api.na.sandbox.butterflymx.com");
  });

  it("honours local origins only inside the Functions emulator", () => {
    const local = { BUTTERFLYMX_ACCOUNTS_ORIGIN: "http://127.0.0.1:1", BUTTERFLYMX_API_ORIGIN_NA: "http://127.0.0.1:2", BUTTERFLYMX_API_ORIGIN_EU: "http://127.0.0.1:3" };
    expect(runtimeBmxEndpoints("production", local)).toEqual(bmxEndpoints("production"));
    expect(runtimeBmxEndpoints("production", { ...local, FUNCTIONS_EMULATOR: "true" })).toEqual({
      accounts: "http://127.0.0.1:1",
      api: { na: "http://127.0.0.1:2", eu: "http://127.0.0.1:3" },
    });
  });
});

describe("redirect URIs", () => {
  it("lists the configured ones; with none, accepts any in the emulator and none deployed", () => {
    expect(redirectUris(" com.example.app:/cb , https://example.com/cb ,", {})).toEqual(["com.example.app:/cb", "https://example.com/cb"]);
    expect(redirectUris("", { FUNCTIONS_EMULATOR: "true" })).toBe("any");
    expect(redirectUris("", {})).toEqual([]);
  });
});

describe("webhook URLs", () => {
  it("derives the deployed URL, the emulator URL, or uses the configured one", () => {
    expect(webhookBaseUrl("", undefined, { GCLOUD_PROJECT: "acme" })).toBe("https://us-central1-acme.cloudfunctions.net/butterflymxWebhook");
    expect(webhookBaseUrl("", "127.0.0.1:5012", { GCLOUD_PROJECT: "demo-x", FUNCTIONS_EMULATOR: "true" })).toBe("http://127.0.0.1:5012/demo-x/us-central1/butterflymxWebhook");
    expect(webhookBaseUrl("", "evil.example.com", { GCLOUD_PROJECT: "acme" })).toBe("https://us-central1-acme.cloudfunctions.net/butterflymxWebhook");
    expect(webhookBaseUrl("https://hooks.example.com/bmx/", undefined, {})).toBe("https://hooks.example.com/bmx");
  });

  it("finds our secret in a registered URL and nothing in others", () => {
    const base = "https://us-central1-acme.cloudfunctions.net/butterflymxWebhook";
    const secret = newWebhookSecret();
    expect(secretInUrl(base, webhookUrl(base, secret))).toBe(secret);
    expect(secretInUrl(`${base}/`, `${webhookUrl(base, secret)}?x=1`)).toBe(secret);
    expect(secretInUrl(base, `https://elsewhere.example.com/butterflymxWebhook/${secret}`)).toBeUndefined();
    expect(secretInUrl(base, `${base}/short`)).toBeUndefined();
    expect(secretInUrl(base, undefined)).toBeUndefined();
  });
});

describe("linkButterflyMxAccount input", () => {
  const valid = { code: "abc123", codeVerifier: "a".repeat(43), redirectUri: "com.example.intercom:/oauth/butterflymx" };

  it("accepts the PKCE triple and takeOver", () => {
    expect(parseInput(linkAccountSchema, { ...valid, takeOver: true })).toEqual({ ...valid, takeOver: true });
  });

  it.each([
    [{ ...valid, code: "" }, "code"],
    [{ ...valid, codeVerifier: "too-short" }, "codeVerifier"],
    [{ ...valid, codeVerifier: `${"a".repeat(42)}!` }, "codeVerifier"],
    [{ ...valid, redirectUri: "not a uri" }, "redirectUri"],
    [{ ...valid, takeOver: "yes" }, "takeOver"],
    [{ code: "abc" }, "codeVerifier"],
    [{ ...valid, clientSecret: "x" }, "(data)"],
  ])("names the bad field in %j", (data, field) => {
    try {
      parseInput(linkAccountSchema, data);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(HttpsError);
      expect((error as HttpsError).details).toEqual({ fields: expect.arrayContaining([expect.objectContaining({ field })]) });
    }
  });
});

describe("ButterflyMX and domain errors as HttpsError", () => {
  it.each([
    ["invalid_grant", "failed-precondition"],
    ["unauthorized", "failed-precondition"],
    ["rejected", "failed-precondition"],
    ["unavailable", "unavailable"],
    ["timeout", "unavailable"],
    ["bad_response", "unavailable"],
  ] as const)("%s → %s, naming the operation and no token", (kind, code) => {
    const error = toHttpsError(new BmxError(kind, "GET /v3/me", "details", 500), CONTEXT);
    expect(error.code).toBe(code);
    expect(error.details).toMatchObject({ butterflymx: { kind, operation: "GET /v3/me" } });
  });

  it("answers an unexpected error internal with an error id, and logs it at error level with the function, the uid and that id", async () => {
    let error: ReturnType<typeof toHttpsError> | undefined;
    const logged = await captureLogs(async () => {
      error = toHttpsError(new TypeError("Cannot read properties of undefined (reading 'x')"), CONTEXT);
    });
    const errorId = (error!.details as { errorId: string }).errorId;
    expect(error).toMatchObject({ code: "internal", message: expect.stringContaining(errorId) });
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    const line = JSON.parse(logged.split("\n").find((l) => l.includes(errorId))!);
    expect(line).toMatchObject({ severity: "ERROR", function: "getCallHistory", uid: "alice", errorId, error: { name: "TypeError" } });
  });

  it("maps a link conflict to already-exists", () => {
    expect(toHttpsError(new Conflict("linked elsewhere"), CONTEXT).code).toBe("already-exists");
  });

  it("maps a reached limit to resource-exhausted and missing configuration to failed-precondition, with their messages", () => {
    expect(toHttpsError(new LimitReached("too many devices"), CONTEXT)).toMatchObject({ code: "resource-exhausted", message: "too many devices" });
    expect(toHttpsError(new PreconditionFailed("no redirect URIs"), CONTEXT)).toMatchObject({ code: "failed-precondition", message: "no redirect URIs" });
    expect(toHttpsError(new NotAllowed("not a recipient"), CONTEXT)).toMatchObject({ code: "permission-denied", message: "not a recipient" });
  });
});

describe("updatePreferences input", () => {
  it("takes one or both settings", () => {
    expect(parseInput(updatePreferencesSchema, { doNotDisturb: true })).toEqual({ doNotDisturb: true });
    expect(parseInput(updatePreferencesSchema, { doNotDisturb: false, contactPreference: "phone_call" })).toEqual({ doNotDisturb: false, contactPreference: "phone_call" });
  });

  it.each([
    [{}, "(data) must name doNotDisturb or contactPreference (or both)"],
    [undefined, "(data) must name doNotDisturb or contactPreference (or both)"],
    [{ doNotDisturb: "yes" }, "doNotDisturb must be true or false"],
    [{ contactPreference: "email" }, "contactPreference must be mobile_app or phone_call"],
    [{ doNotDisturb: true, volume: 3 }, "(data) has unknown field(s): volume"],
  ])("refuses %j, naming the problem", (data, message) => {
    expect(() => parseInput(updatePreferencesSchema, data)).toThrow(message);
  });
});

describe("acknowledgeDelivery input", () => {
  it.each([
    [{ guid: "nope", deviceId: "pixel", event: "received" }, "guid must be the call's guid"],
    [{ guid: "ba17520f-8768-4723-88f9-5eaa2c35171a", deviceId: "a/b", event: "received" }, "deviceId must be 1 to 128"],
    [{ guid: "ba17520f-8768-4723-88f9-5eaa2c35171a", deviceId: "pixel", event: "seen" }, "event must be received, displayed, answered or declined"],
    [{ guid: "ba17520f-8768-4723-88f9-5eaa2c35171a", deviceId: "pixel", event: "received", at: 1 }, "has unknown field(s): at"],
  ])("refuses %j, naming the problem", (data, message) => {
    expect(() => parseInput(acknowledgeDeliverySchema, data)).toThrow(message);
  });

  it("takes a guid in any case, filed lowercase", () => {
    expect(parseInput(acknowledgeDeliverySchema, { guid: "BA17520F-8768-4723-88F9-5EAA2C35171A", deviceId: "pixel", event: "displayed" })).toEqual({
      guid: "ba17520f-8768-4723-88f9-5eaa2c35171a",
      deviceId: "pixel",
      event: "displayed",
    });
  });
});
