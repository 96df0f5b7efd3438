import { REGION } from "../../src/config";
import { ringTimeout } from "../../src/calls/ring-timeout.function";
import { RING_TIMEOUT_FUNCTION, RING_TIMEOUT_QUEUE, ringTimeoutTask } from "../../src/calls/ring-timeout-queue";

/** What the ring enqueues must be what deploy creates: the queue of the exported task function, in its region. */
describe("the ring timeout's queue", () => {
  it("names the deployed task function, in the region it is deployed to", () => {
    const endpoint = (ringTimeout as unknown as { __endpoint: { region?: string[]; taskQueueTrigger?: unknown } }).__endpoint;
    expect(endpoint.taskQueueTrigger).toBeDefined();
    expect(endpoint.region).toEqual([REGION]);
    expect(RING_TIMEOUT_QUEUE).toBe(`locations/${endpoint.region![0]}/functions/${RING_TIMEOUT_FUNCTION}`);
    const index = jest.requireActual<Record<string, unknown>>("../../src/index");
    expect(index[RING_TIMEOUT_FUNCTION]).toBe(ringTimeout);
  });

  it("sends the task where RING_TIMEOUT_URL says, and to firebase-admin's default URL when it is empty", () => {
    const at = Date.UTC(2026, 11, 2, 9, 0, 43);
    expect(ringTimeoutTask("0d8c7f5e-1b2a-4c3d-9e8f-112233445566", at, "")).toEqual({ id: "ring-timeout-0d8c7f5e-1b2a-4c3d-9e8f-112233445566", scheduleTime: new Date(at) });
    expect(ringTimeoutTask("0d8c7f5e-1b2a-4c3d-9e8f-112233445566", at, "https://ringtimeout-123456789.us-central1.run.app")).toMatchObject({ uri: "https://ringtimeout-123456789.us-central1.run.app" });
  });
});
