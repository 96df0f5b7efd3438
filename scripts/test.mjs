// `npm test`: every suite, in phases that run at the same time where they can. First the functions' build, file by
// file without the type check (scripts/emit-functions.mjs). Then the emulator suites (integration, rules, e2e inside
// `firebase emulators:exec` on the test ports), beside the console's stack (emulators of its own on the console
// ports, with Hosting), which starts meanwhile. Once their e2e suite ends (the integration suite, usually longer,
// goes on), the README's walkthrough runs on the console's stack, and beside it the checks that need no emulator: the
// type check of the functions, their tests and the benchmarks, and the unit suites of the functions and of the
// console. Those run at the lowest CPU priority, on what the others leave: beside the emulator suites, the slowest
// phase, they took CPU that it waited for. Once the walkthrough and the checks have ended, the browser suite runs on
// the console's stack. Phases that run at the same time keep their output to themselves (streamed to
// .emulators/test-logs/) and print it whole when they end, so that it never interleaves. Each phase's duration is
// printed at the end, passed or failed, the console's suites each on a line of their own.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { chromiumPath } from "./lib/chromium.mjs";
import { fakeEndpoints, firebaseCli, prepareEmulators, ROOT, SetupError, TEST_PROJECT_ID } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";
import { waitForFile } from "./lib/wait-for-file.mjs";

const LOGS = join(ROOT, ".emulators", "test-logs");

class PhaseFailed extends Error {
  constructor(name, status) {
    super(`${name} failed (exit code ${status})`);
    this.status = status;
  }
}

const durations = [];
/** Written by scripts/emulated-suites.mjs when the e2e suite ends, and by this script when the emulator suites end. */
const E2E_ENDED = join(LOGS, "e2e-suite.ended");
const CHECKS_NICENESS = 19;

/**
 * One phase: a command, timed, its output in its own log file, printed whole when it ends. A `niceness` above 0
 * lowers its CPU priority (and its children's, which inherit it): it then runs on what the other phases leave.
 */
function phase(name, command, args, { env = process.env, niceness = 0 } = {}) {
  const startedAt = Date.now();
  const logFile = join(LOGS, `${name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase()}.log`);
  const log = createWriteStream(logFile);
  console.log(`▶ ${name}`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", reject);
    if (niceness > 0) lowerPriority(child, niceness);
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

/** A child without a pid failed to start ("error" reports it); one already gone needs no priority. */
function lowerPriority(child, niceness) {
  if (child.pid === undefined) return;
  try {
    os.setPriority(child.pid, niceness);
  } catch (error) {
    if (error.info?.code !== "ESRCH") throw error;
  }
}

/** A missing prerequisite ends the run; after a failed suite, the other checks still run. */
function stopOnSetupError(error) {
  if (error instanceof SetupError) throw error;
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
  console.log(`\nnpm test, phase by phase (phases of one step run at the same time):\n${durations.map(({ name, ms, ok }) => line(name, ms, ok ? "✔" : "✘")).join("\n")}\n${line("total", totalMs, " ")}`);
}

async function emulatorSuites() {
  const emulated = await prepareEmulators({ profile: "test" });
  await phase(
    "emulators: integration, rules, e2e",
    process.execPath,
    [...firebaseCli(), "emulators:exec", ...emulated.configArgs, "--project", TEST_PROJECT_ID, "--only", "auth,firestore,functions",
      "node scripts/emulated-suites.mjs"],
    { env: { ...emulated.env, ...fakeEndpoints(), E2E_SUITE_ENDED: E2E_ENDED } },
  );
}

/**
 * The console's stack, started beside the emulator suites: its walkthrough runs once the file `after.walkthrough`
 * exists, its browser suite once `after.browser` does too (scripts/console-suite.mjs). Their durations are listed
 * under the phase.
 */
async function consoleSuites(chromium, after) {
  const times = join(LOGS, "console-suites.jsonl");
  rmSync(times, { force: true });
  const browser = await prepareEmulators({ profile: "console" });
  const stack = localStack("console");
  await stack.buildConsole();
  try {
    await phase(
      "emulators + hosting: walkthrough, console in Chromium",
      process.execPath,
      [...firebaseCli(), "emulators:exec", ...browser.configArgs, "--project", stack.projectId, "--only", "auth,firestore,functions,hosting",
        "node scripts/console-suite.mjs"],
      { env: { ...browser.env, ...stack.env, CHROMIUM_PATH: chromium, WALKTHROUGH_AFTER: after.walkthrough, BROWSER_SUITE_AFTER: after.browser, CONSOLE_SUITE_TIMES: times } },
    );
  } finally {
    const suites = existsSync(times) ? readFileSync(times, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)) : [];
    const labels = { walkthrough: "  └ walkthrough (after the e2e suite)", browser: "  └ console in Chromium (after it and the checks)" };
    durations.push(...suites.map(({ name, ms, ok }) => ({ name: labels[name] ?? `  └ ${name}`, ms, ok })));
  }
}

const startedAt = Date.now();
let status = 0;
try {
  mkdirSync(LOGS, { recursive: true });
  // The browser suite is part of the tests: no browser is a failure now, not a skip later. The packaged one unpacks
  // (first run only) while the emulator suites run.
  const chromium = Promise.resolve(chromiumPath());
  chromium.catch(() => undefined); // a failed unpack is reported with the console's phase, not as unhandled meanwhile
  await phase("build (functions, types checked below)", process.execPath, [join("scripts", "emit-functions.mjs")]);
  // Written when the e2e suite ends (or the emulator suites, if it never ran) and when the checks end, passed or not:
  // the console's suites wait for them.
  const after = { walkthrough: E2E_ENDED, browser: join(LOGS, "checks.ended") };
  for (const path of Object.values(after)) rmSync(path, { force: true });
  const emulated = emulatorSuites().finally(() => writeFileSync(after.walkthrough, ""));
  // Beside the walkthrough and the end of the integration suite, on the CPU they leave: the walkthrough's commands
  // wait on emulated functions, and the checks would otherwise slow them down. The browser suite waits for them, and
  // then, as a rule, runs alone, as it always has.
  const checks = Promise.race([emulated, waitForFile(after.walkthrough)]).catch(stopOnSetupError).then(() =>
    together(
      // ts-jest only transpiles, and so does the build: the types are checked here, once.
      phase("types (functions, tests, benchmarks)", "npm", ["run", "typecheck", "-w", "functions"], { niceness: CHECKS_NICENESS }),
      phase("unit (functions)", "npm", ["run", "test:unit", "-w", "functions"], { env: { ...process.env, METADATA_SERVER_DETECTION: "none" }, niceness: CHECKS_NICENESS }),
      phase("unit (console: types, both builds)", "npm", ["run", "test:unit", "-w", "console"], { niceness: CHECKS_NICENESS }),
    ),
  ).finally(() => writeFileSync(after.browser, ""));
  await together(emulated, chromium.then((path) => consoleSuites(path, after)), checks);
} catch (error) {
  if (error instanceof SetupError) console.error(`\nCannot run the tests: ${error.message}`);
  else if (!(error instanceof PhaseFailed)) throw error;
  status = error.status ?? 1;
}
if (durations.length > 0) printDurations(Date.now() - startedAt);
process.exit(status);
