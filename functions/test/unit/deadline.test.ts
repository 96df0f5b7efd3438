import { DeadlineExceeded, withDeadline } from "../../src/shared/deadline";

describe("withDeadline", () => {
  it("settles with the work when it finishes first", async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, "work")).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error("boom")), 1000, "work")).rejects.toThrow("boom");
  });

  it("rejects with DeadlineExceeded when the work outlasts the deadline", async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withDeadline(never, 20, "the lookup")).rejects.toThrow(new DeadlineExceeded("the lookup", 20));
  });

  it("rejects at once when no time is left, without an unhandled rejection from the late work", async () => {
    let fail!: (error: Error) => void;
    const late = new Promise<number>((_, reject) => (fail = reject));
    await expect(withDeadline(late, 0, "work")).rejects.toBeInstanceOf(DeadlineExceeded);
    fail(new Error("late"));
    await expect(late).rejects.toThrow("late");
  });
});
