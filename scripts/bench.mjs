// `npm run bench [-- <name>…]`: benchmarks that print figures (never timed assertions), all of them or the ones
// named. Cold load runs in fresh processes; ring latency (with its floor, a bare trigger codebase in bench/floor),
// fan-out and Firestore cost run in the emulators (the test ports, and a project of their own with the deployed ring
// window; see `benchParams` in lib/emulator-env.mjs).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fakeEndpoints, firebaseCli, prepareEmulators, profileProjectId, ROOT, SetupError } from "./lib/emulator-env.mjs";
import { buildFunctions } from "./lib/functions-build.mjs";

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const BENCHES = ["cold-load", "ring-latency", "load", "fan-out", "lifecycle-cost", "history", "quota"];
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !BENCHES.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}: choose from ${BENCHES.join(", ")} (none: all of them).`);
  process.exit(2);
}
const chosen = asked.length > 0 ? asked : BENCHES;
const emulated = chosen.filter((name) => name !== "cold-load");

try {
  buildFunctions();
  if (chosen.includes("cold-load")) {
    run(process.execPath, [join(ROOT, "bench", "cold-load.mjs")], { ...process.env, METADATA_SERVER_DETECTION: "none" });
  }
  if (emulated.length > 0) {
    const { env, configArgs } = await prepareEmulators({ profile: "bench" });
    run(
      process.execPath,
      [...firebaseCli(), "emulators:exec", ...configArgs, "--project", profileProjectId("bench"), "--only", "auth,firestore,functions",
        `npm run bench -w functions -- ${emulated.map((name) => `${name}.bench.ts`).join(" ")}`],
      { ...env, ...fakeEndpoints() },
    );
  }
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot run the benchmarks: ${error.message}`);
  process.exit(1);
}
