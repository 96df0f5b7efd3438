// `npm test`: every suite, in three steps whose phases run at the same time: the build beside the type check; the
// unit suites beside the emulator suites (integration, rules, e2e inside `firebase emulators:exec` on the test ports);
// then the console's browser suite, inside emulators of its own (console ports, with Hosting). Phases that run at
// the same time keep their output to themselves (streamed to .emulators/test-logs/) and print it whole when they end,
// so that it never interleaves. Each phase's duration is printed at the end, passed or failed.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromiumPath } from "./lib/chromium.mjs";
import { fakeEndpoints, firebaseBin, prepareEmulators, ROOT, SetupError, TEST_PROJECT_ID } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";

const LOGS = join(ROOT, ".emulators", "test-logs");

class PhaseFailed extends Error {
  constructor(name, status) {
    super(`${name} failed (exit code ${status})`);
    this.status = status;
  }
}

const durations = [];

/** One phase: a command, timed, its output in its own log file, printed whole when it ends. */
function phase(name, command, args, env = process.env) {
  const startedAt = Date.now();
  const logFile = join(LOGS, `${name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase()}.log`);
  const log = createWriteStream(logFile);
  console.log(`▶ ${name}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      log.end(() => {
        const ms = Date.now() - startedAt;
        durations.push({ name, ms, ok: code === 0 });
        console.log(`\n──── ${name}: ${code === 0 ? "passed" : "FAILED"} in ${(ms / 1000).toFixed(1)} s (${logFile}) ────`);
        process.stdout.write(readFileSync(logFile));
        if (code === 0) resolve();
        else reject(new PhaseFailed(name, code ?? (signal ? 1 : 0)));
      });
    });
  });
}

/** Waits for every phase, then fails with the first failure: a failing phase never cuts another one's output short. */
async function together(...phases) {
  const results = await Promise.allSettled(phases);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

function printDurations(totalMs) {
  const width = Math.max(...durations.map(({ name }) => name.length), "total".length);
  const line = (name, ms, mark) => `  ${mark} ${name.padEnd(width)} ${(ms / 1000).toFixed(1).padStart(6)} s`;
  console.log(`\nnpm test, phase by phase (phases in one group run at the same time):\n${durations.map(({ name, ms, ok }) => line(name, ms, ok ? "✔" : "✘")).join("\n")}\n${line("total", totalMs, " ")}`);
}

async function emulatorSuites() {
  const emulated = await prepareEmulators({ profile: "test" });
  await phase(
    "emulators: integration, rules, e2e",
    process.execPath,
    [firebaseBin(), "emulators:exec", ...emulated.configArgs, "--project", TEST_PROJECT_ID, "--only", "auth,firestore,functions",
      "node scripts/emulated-suites.mjs"],
    { ...emulated.env, ...fakeEndpoints() },
  );
}

async function browserSuite(chromium) {
  const browser = await prepareEmulators({ profile: "console" });
  const stack = localStack("console");
  await stack.buildConsole();
  await phase(
    "emulators + hosting: console in Chromium",
    process.execPath,
    [firebaseBin(), "emulators:exec", ...browser.configArgs, "--project", stack.projectId, "--only", "auth,firestore,functions,hosting",
      "node scripts/console-suite.mjs"],
    { ...browser.env, ...stack.env, CHROMIUM_PATH: chromium },
  );
}

const startedAt = Date.now();
let status = 0;
try {
  mkdirSync(LOGS, { recursive: true });
  // The browser suite is part of the tests: no browser is a failure now, not a skip later.
  const chromium = chromiumPath();
  // ts-jest only transpiles (tsconfig.jest.json): the types of the functions, their tests and the benchmarks are checked here.
  await together(phase("build (functions)", "npm", ["run", "build", "-w", "functions"]), phase("types (functions, tests, benchmarks)", "npm", ["run", "typecheck", "-w", "functions"]));
  await together(
    phase("unit (functions)", "npm", ["run", "test:unit", "-w", "functions"], { ...process.env, METADATA_SERVER_DETECTION: "none" }),
    phase("unit (console: types, both builds)", "npm", ["run", "test:unit", "-w", "console"]),
    emulatorSuites(),
  );
  await browserSuite(chromium);
} catch (error) {
  if (error instanceof SetupError) console.error(`\nCannot run the tests: ${error.message}`);
  else if (!(error instanceof PhaseFailed)) throw error;
  status = error.status ?? 1;
}
if (durations.length > 0) printDurations(Date.now() - startedAt);
process.exit(status);
