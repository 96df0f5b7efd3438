// Summary statistics of the benchmarks, and their stopwatch, in plain JavaScript so that cold-load.mjs (plain Node) and the Jest
// benchmarks (TypeScript) share them.

/**
 * The nearest-rank percentile: the smallest value with at least p % of the values at or below it.
 * @param {number[]} values
 * @param {number} p 0 < p ≤ 100
 * @returns {number}
 */
function percentile(values, p) {
  if (values.length === 0) throw new Error("no values");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * @param {number[]} values
 * @returns {number}
 */
function median(values) {
  return percentile(values, 50);
}

/**
 * How long `work` takes, in milliseconds (the performance clock).
 * @param {() => Promise<unknown>} work
 * @returns {Promise<number>}
 */
async function time(work) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

module.exports = { percentile, median, time };
