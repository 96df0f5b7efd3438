// Cold load: how long a fresh Node process takes to load each deployed entry point, against loading the bare
// SDKs every function needs (firebase-admin app + Firestore, firebase-functions v2). Prints medians and ratios,
// and which heavy modules each entry point pulls in (they should load only where used).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import stats from "./stats.js";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const LIB = join(ROOT, "functions", "lib");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const HEAVY = {
  "firebase-admin/messaging": /firebase-admin[\\/]lib[\\/]messaging[\\/]/,
  "firebase-admin/auth": /firebase-admin[\\/]lib[\\/]auth[\\/]/,
  jose: /[\\/]node_modules[\\/]jose[\\/]/,
  zod: /[\\/]node_modules[\\/]zod[\\/]/,
  "APNs client": /lib[\\/]push[\\/]apns-client\.js$/,
  "ButterflyMX client": /lib[\\/]butterflymx[\\/]butterflymx-client\.js$/,
};

const INDEX = join(LIB, "index.js");
const BARE = ["firebase-admin/app", "firebase-admin/firestore", "firebase-functions/v2/https", "firebase-functions/v2/firestore"];
const FUNCTIONS = ["butterflymxWebhook", "onCallCreated", "onCallUpdated", "registerDevice", "linkButterflyMxAccount", "onUserDeleted"];

// Each entry: modules to require, then exports of the last one to read. A deployed instance requires index.js and
// reads the export its runtime serves (FUNCTION_TARGET); discovery reads them all.
const ENTRIES = {
  "bare SDK (firebase-admin/app + firestore, firebase-functions v2 https + firestore)": { modules: BARE, read: [] },
  "index.js, every export read (deploy discovery; every instance before lazy exports)": { modules: [INDEX], read: "*" },
  ...Object.fromEntries(FUNCTIONS.map((name) => [`index.js → ${name} (an instance serving it)`, { modules: [INDEX], read: [name] }])),
  // What the webhook's first event loads besides, to ring: the push clients (beside its first Firestore round trip).
  "index.js → butterflymxWebhook, then its push clients (its first event)": {
    modules: [INDEX],
    read: ["butterflymxWebhook"],
    then: ["firebase-admin/messaging", join(LIB, "push", "apns-client.js"), "jose"],
  },
};

/** One fresh process: load the modules (and `then` after the read), report elapsed ms and the heavy modules now in require.cache. */
function measure({ modules, read, then = [] }) {
  const script = `
    const start = process.hrtime.bigint();
    let last;
    for (const m of ${JSON.stringify(modules)}) last = require(m);
    const read = ${JSON.stringify(read)};
    for (const name of read === "*" ? Object.keys(last) : read) last[name];
    for (const m of ${JSON.stringify(then)}) require(m);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const loaded = Object.keys(require.cache);
    const heavy = ${JSON.stringify(Object.fromEntries(Object.entries(HEAVY).map(([k, v]) => [k, v.source])))};
    console.log(JSON.stringify({ ms, heavy: Object.keys(heavy).filter((k) => loaded.some((f) => new RegExp(heavy[k]).test(f))) }));`;
  const env = { ...process.env, METADATA_SERVER_DETECTION: "none", GCLOUD_PROJECT: "demo-intercom-relay" };
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: join(ROOT, "functions"), env }).toString());
}

const results = {};
for (const [name, entry] of Object.entries(ENTRIES)) {
  measure(entry); // warm the OS file cache
  const runs = Array.from({ length: RUNS }, () => measure(entry));
  results[name] = { ms: stats.median(runs.map((r) => r.ms)), heavy: runs[0].heavy };
}
const floor = results[Object.keys(ENTRIES)[0]].ms;
console.log(`\nCold load, median of ${RUNS} fresh processes (node ${process.version})`);
console.log(`${"entry point".padEnd(88)} ${"ms".padStart(7)} ${"× bare".padStart(7)}  heavy modules loaded`);
for (const [name, { ms, heavy }] of Object.entries(results)) {
  console.log(`${name.padEnd(88)} ${ms.toFixed(1).padStart(7)} ${(ms / floor).toFixed(2).padStart(7)}  ${heavy.join(", ") || "-"}`);
}
