import { both } from "../../src/shared/concurrency";

describe("both", () => {
  it("returns both results in order", async () => {
    await expect(both(Promise.resolve(1), Promise.resolve("two"))).resolves.toEqual([1, "two"]);
  });

  it("reports a failure only once the other piece of work has settled", async () => {
    let finishOther!: () => void;
    let otherSettled = false;
    const other = new Promise<void>((resolve) => (finishOther = resolve)).then(() => {
      otherSettled = true;
    });
    const outcome = both(Promise.reject(new Error("read failed")), other).then(
      () => "resolved",
      (error: Error) => `rejected after the other settled: ${otherSettled} (${error.message})`,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(otherSettled).toBe(false);
    finishOther();
    await expect(outcome).resolves.toBe("rejected after the other settled: true (read failed)");
  });

  it("reports the first argument's failure when both fail", async () => {
    await expect(both(Promise.reject(new Error("first")), Promise.reject(new Error("second")))).rejects.toThrow("first");
  });
});
