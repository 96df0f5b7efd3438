// Compiles functions/src into functions/lib when the compiled code is missing or older than its source, so that the
// commands that load it (start, test, bench, diagnose, reconcile, register-building) pay for tsc only after a change.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./emulator-env.mjs";

const FUNCTIONS = join(ROOT, "functions");
const SOURCES = join(FUNCTIONS, "src");
const COMPILED = join(FUNCTIONS, "lib");
const CONFIGS = ["tsconfig.json", "tsconfig.build.json", "package.json"].map((name) => join(FUNCTIONS, name));

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

/** Whether some source (or the compiler's configuration) is newer than its compiled file. */
function functionsStale() {
  const newestConfig = Math.max(...CONFIGS.map((path) => mtime(path) ?? 0));
  return readdirSync(SOURCES, { recursive: true })
    .filter((file) => file.endsWith(".ts"))
    .some((file) => {
      const compiled = mtime(join(COMPILED, file.replace(/\.ts$/, ".js")));
      return compiled === undefined || compiled < Math.max(mtime(join(SOURCES, file)), newestConfig);
    });
}

/** Builds the functions when stale; exits with tsc's status when the build fails. `quiet` keeps stdout clean. */
export function buildFunctions({ quiet = false } = {}) {
  if (!functionsStale()) return;
  const build = spawnSync("npm", ["run", "build", "-w", "functions"], { cwd: ROOT, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
