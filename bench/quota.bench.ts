// What the per-user quota adds to a callable that reaches ButterflyMX: `spendQuota` (a transaction on the user's
// quota document: one read, one commit) against one document read and one document write, on the emulator,
// alternating. Run by `npm run bench -- quota`; prints p50/p95, asserts nothing about time.
import { spendQuota } from "../functions/src/shared/quota";
import { isolatedProjectId, testFirestore } from "../functions/test/helpers/emulators";
import { percentile, time } from "./stats";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const print = (text: string) => process.stdout.write(`${text}\n`);

it("measures the quota's cost against one read and one write", async () => {
  const firestore = testFirestore(isolatedProjectId("quota.bench.ts"));
  const { db } = firestore;
  const quota: number[] = [];
  const read: number[] = [];
  const write: number[] = [];
  try {
    await firestore.clear();
    const ref = db.doc("benchQuota/doc");
    await ref.set({ n: 0 });
    for (let i = 0; i < SAMPLES + 10; i++) {
      // A user well within their limit: each sample counts one use, as a callable does.
      const q = await time(() => spendQuota(db, { uid: `bench-${i % 5}`, callable: "getCallHistory", perWindow: 1_000_000, now: Date.now() }));
      const r = await time(() => ref.get());
      const w = await time(() => ref.set({ n: i }));
      if (i < 10) continue;
      quota.push(q);
      read.push(r);
      write.push(w);
    }
  } finally {
    await firestore.close();
  }
  const row = (name: string, values: number[]) => `${name.padEnd(44)} ${percentile(values, 50).toFixed(1).padStart(6)} ${percentile(values, 95).toFixed(1).padStart(6)}`;
  print(`\nPer-user quota on the emulator, ${SAMPLES} samples (ms)`);
  print(`${"".padEnd(44)} ${"p50".padStart(6)} ${"p95".padStart(6)}`);
  print(row("spendQuota (transaction: read + commit)", quota));
  print(row("one document read", read));
  print(row("one document write", write));
  print(`quota p50 / (read + write) p50: ${(percentile(quota, 50) / (percentile(read, 50) + percentile(write, 50))).toFixed(2)}`);
}, 300_000);
