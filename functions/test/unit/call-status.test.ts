import { CALL_STATUSES, isTerminal, nextStatus, statusFromBmx } from "../../src/calls/call-status";

describe("statusFromBmx", () => {
  it.each([
    ["initializing", "ringing"],
    ["connecting_sip", "answered"],
    ["voip_connected", "answered"],
    ["answered_on_another_device", "answered"],
    ["rejected", "declined"],
    ["canceled", "canceled"],
    ["timeout_online_signal", "missed"],
    ["opened_door", "door_opened"],
    ["voip_rollover", "rolled_over"],
  ])("maps ButterflyMX %s to %s", (bmx, ours) => {
    expect(statusFromBmx(bmx)).toBe(ours);
  });

  it.each(["hung_up", "INITIALIZING", "toString", "constructor", "__proto__", ""])("ends ringing on unknown status %j", (bmx) => {
    expect(statusFromBmx(bmx)).toBe("ended");
  });
});

describe("nextStatus, every pair of states", () => {
  const pairs = CALL_STATUSES.flatMap((current) => CALL_STATUSES.map((incoming) => [current, incoming] as const));

  it.each(pairs)("%s + %s", (current, incoming) => {
    const next = nextStatus(current, incoming);
    if (current === "ringing") {
      expect(next).toBe(incoming);
    } else {
      // A terminal status is final: never back to ringing, never rewritten by a later end.
      expect(next).toBe(current);
    }
  });

  it("has ringing as its only live state: every other status ends the call, whatever comes after it", () => {
    expect(CALL_STATUSES.filter((status) => !isTerminal(status))).toEqual(["ringing"]);
    for (const ended of CALL_STATUSES.filter(isTerminal)) {
      expect(CALL_STATUSES.map((incoming) => nextStatus(ended, incoming))).toEqual(CALL_STATUSES.map(() => ended));
    }
  });

  it("reaches every status from some ButterflyMX status", () => {
    const reached = new Set(["initializing", "connecting_sip", "rejected", "canceled", "timeout_online_signal", "opened_door", "voip_rollover", "hung_up"].map(statusFromBmx));
    expect([...reached].sort()).toEqual([...CALL_STATUSES].sort());
  });
});
