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

  it("covers all eight states", () => {
    expect(pairs).toHaveLength(64);
    expect(CALL_STATUSES.filter(isTerminal)).toHaveLength(7);
  });
});
