import { MAX_RING_WINDOW_SECONDS, ringWindowMs } from "../../src/calls/push-deps";
import { CALL_TRIGGER_OPTIONS } from "../../src/calls/call-trigger-options";

describe("RING_WINDOW_SECONDS as used", () => {
  it("never lets a ring outlast its trigger: at most the trigger's timeout less 30 s for pruning and recording", () => {
    expect(MAX_RING_WINDOW_SECONDS).toBe((CALL_TRIGGER_OPTIONS.timeoutSeconds as number) - 30);
    expect(ringWindowMs(40)).toBe(40_000);
    expect(ringWindowMs(MAX_RING_WINDOW_SECONDS)).toBe(MAX_RING_WINDOW_SECONDS * 1000);
    expect(ringWindowMs(3600)).toBe(MAX_RING_WINDOW_SECONDS * 1000);
    expect(ringWindowMs(0)).toBe(1000);
    expect(ringWindowMs(-5)).toBe(1000);
  });
});
