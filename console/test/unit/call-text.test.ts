import { Timestamp } from "firebase/firestore";
import { ackWords, badgeFor, endWords, outcomeWords, ringingFor, ringWords, statusWords, stopWords } from "../../src/call-text";
import { evidenceLines } from "../../src/diagnose-text";
import type { Call, DeviceRecord } from "../../src/contract";

const at = (ms: number) => Timestamp.fromMillis(ms);
const call = (delivery: Call["delivery"], status: Call["status"] = "ringing"): Call => ({
  guid: "g",
  status,
  bmxStatus: "initializing",
  recipients: ["me", "other"],
  createdAt: at(1_000),
  history: [],
  delivery,
});

describe("ringWords", () => {
  it("says why this user was not rung, before the call's overall state", () => {
    expect(ringWords(call({ state: "rung", recipients: { me: "do_not_disturb", other: "rung" } }), "me")).toBe("Not rung: Do Not Disturb was on.");
    expect(ringWords(call({ state: "undeliverable", reason: "phone_call", recipients: { me: "phone_call" } }), "me")).toMatch(/contact preference is a phone call/);
  });
  it("counts this user's devices and the first ring's latency", () => {
    const rung = call({ state: "rung", recipients: { me: "rung" }, recipientDevices: { me: { devices: 2, sent: 1 } }, firstRingMs: 80 });
    expect(ringWords(rung, "me")).toBe("Rang 1 of your 2 device(s); the first ring was accepted 80 ms after the call arrived.");
  });
  it("explains the call-wide reasons and never leaves a state unexplained", () => {
    expect(ringWords(call({ state: "pending" }), "me")).toBe("Ringing your devices…");
    expect(ringWords(call({ state: "not_rung", reason: "reconciled" }), "me")).toMatch(/never delivered this call/);
    expect(ringWords(call({ state: "failed", reason: "no_push_accepted" }), "me")).toMatch(/neither FCM nor APNs/);
    expect(ringWords(call({ state: "weird", reason: "new_reason" }), "me")).toBe("Not rung (weird: new_reason).");
  });
});

describe("stopWords", () => {
  it("is silent before a stop, then says where the ringing stopped", () => {
    expect(stopWords(call({ state: "rung" }), "me")).toBeUndefined();
    expect(stopWords(call({ state: "rung", stop: { state: "stopping" } }, "answered"), "me")).toMatch(/Stopping/);
    expect(stopWords(call({ state: "rung", stop: { state: "stopped", devices: 2, sent: 1, unreachable: 1 } }, "answered"), "me")).toBe(
      "Ringing stopped on 1 of 2 device(s) (1 could not be reached by a stop push).",
    );
  });
  it("says nothing of a stop when nothing rang for this user, or nothing rang at all", () => {
    expect(stopWords(call({ state: "rung", recipients: { me: "do_not_disturb", other: "rung" }, stop: { state: "stopped", devices: 2, sent: 2 } }, "missed"), "me")).toBeUndefined();
    expect(stopWords(call({ state: "undeliverable", stop: { state: "stopped", devices: 0, sent: 0 } }, "missed"), "me")).toBeUndefined();
  });
});

describe("badgeFor and endWords", () => {
  it("does not call a call ringing for a user it is not ringing for", () => {
    const skipped = call({ state: "undeliverable", reason: "do_not_disturb", recipients: { me: "do_not_disturb" } });
    expect(badgeFor(skipped, "me")).toEqual({ status: "not_rung", words: "Not ringing for you" });
    expect(badgeFor(call({ state: "rung", recipients: { me: "rung" } }), "me")).toEqual({ status: "ringing", words: "Ringing" });
    expect(badgeFor({ ...skipped, status: "missed" }, "me")).toEqual({ status: "missed", words: "Missed" });
  });
  it("says how a call ended in plain words", () => {
    expect(endWords("butterflymx")).toBe("as ButterflyMX reported");
    expect(endWords("ring_timeout")).toBe("nobody answered in time");
    expect(endWords("reconciled")).toBe("found afterwards in ButterflyMX's call log");
    expect(endWords(undefined)).toBeUndefined();
  });
});

describe("evidenceLines", () => {
  it("spells out each field, its lists and records", () => {
    expect(evidenceLines({ devices: [{ deviceId: "a", platform: "ios" }, { deviceId: "b", platform: "android" }], linked: true, since: null, none: [] })).toEqual([
      "devices: deviceId a, platform ios; deviceId b, platform android",
      "linked: true",
      "since: none",
      "none: none",
    ]);
  });
});

describe("device words", () => {
  it("describes push outcomes and acknowledgements in order", () => {
    expect(outcomeWords(undefined)).toBe("—");
    expect(outcomeWords({ channel: "fcm_android", outcome: "sent", latencyMs: 12 })).toBe("sent via fcm_android in 12 ms");
    expect(outcomeWords({ channel: "apns_voip", outcome: "prune", errorCode: "BadDeviceToken", unacknowledged: true })).toBe(
      "prune via apns_voip: BadDeviceToken (never acknowledged)",
    );
    const record: DeviceRecord = { uid: "me", deviceId: "d", platform: "android", ack: { displayed: at(3_000), received: at(2_000) } };
    expect(ackWords(record)).toBe("received → displayed");
    expect(ackWords({ ...record, ack: undefined })).toBe("—");
  });
  it("words statuses, raw ones as they are, and counts ringing seconds", () => {
    expect(statusWords("canceled")).toBe("Cancelled by the visitor");
    expect(statusWords("something_new")).toBe("something_new");
    expect(ringingFor(1_000, 13_999)).toBe("ringing for 12 s");
    expect(ringingFor(5_000, 1_000)).toBe("ringing for 0 s");
  });
});
