// Cold load: how long a fresh Node process takes to load each deployed entry point, against loading the bare
// SDKs every function needs (firebase-admin app + Firestore, firebase-functions v2). Prints medians and ratios,
// and which heavy modules each entry point pulls in (they should load only where used).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const LIB = join(ROOT, "functions", "lib");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const HEAVY = {
  "firebase-admin/messaging": /firebase-admin[\\/]lib[\\/]messaging[\\/]/,
  "firebase-admin/auth": /firebase-admin[\\/]lib[\\/]auth[\\/]/,
  jose: /[\\/]node_modules[\\/]jose[\\/]/,
  "APNs client": /lib[\\/]push[\\/]apns-client\.js$/,
  "ButterflyMX client": /lib[\\/]butterflymx[\\/]butterflymx-client\.js$/,
};

const ENTRIES = {
  "bare SDK (firebase-admin/app + firestore, firebase-functions v2 https + firestore)": [
    "firebase-admin/app", "firebase-admin/firestore", "firebase-functions/v2/https", "firebase-functions/v2/firestore",
  ],
  "index.js (what every deployed function loads)": [join(LIB, "index.js")],
  "butterflymxWebhook": [join(LIB, "webhook/butterflymx-webhook.function.js")],
  "onCallCreated": [join(LIB, "calls/on-call-created.function.js")],
  "onCallUpdated": [join(LIB, "calls/on-call-updated.function.js")],
  "registerDevice": [join(LIB, "accounts/register-device.function.js")],
  "linkButterflyMxAccount": [join(LIB, "accounts/link-butterflymx-account.function.js")],
  "onUserDeleted": [join(LIB, "accounts/on-user-deleted.function.js")],
};

/** One fresh process: load the modules, report elapsed ms and the heavy modules now in require.cache. */
function measure(modules) {
  const script = `
    const start = process.hrtime.bigint();
    for (const m of ${JSON.stringify(modules)}) require(m);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const loaded = Object.keys(require.cache);
    const heavy = ${JSON.stringify(Object.fromEntries(Object.entries(HEAVY).map(([k, v]) => [k, v.source])))};
    console.log(JSON.stringify({ ms, heavy: Object.keys(heavy).filter((k) => loaded.some((f) => new RegExp(heavy[k]).test(f))) }));`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: join(ROOT, "functions"), env: { ...process.env, METADATA_SERVER_DETECTION: "none" } }).toString());
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {};
for (const [name, modules] of Object.entries(ENTRIES)) {
  measure(modules); // warm the OS file cache
  const runs = Array.from({ length: RUNS }, () => measure(modules));
  results[name] = { ms: median(runs.map((r) => r.ms)), heavy: runs[0].heavy };
}
const floor = results[Object.keys(ENTRIES)[0]].ms;
console.log(`\nCold load, median of ${RUNS} fresh processes (node ${process.version})`);
console.log(`${"entry point".padEnd(84)} ${"ms".padStart(7)} ${"× bare".padStart(7)}  heavy modules loaded`);
for (const [name, { ms, heavy }] of Object.entries(results)) {
  console.log(`${name.padEnd(84)} ${ms.toFixed(1).padStart(7)} ${(ms / floor).toFixed(2).padStart(7)}  ${heavy.join(", ") || "-"}`);
}
