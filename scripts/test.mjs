// `npm test`: unit tests, then every emulator suite inside `firebase emulators:exec` (test ports), then the
// console's browser suite inside the emulators of its own profile (console ports, with Hosting).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fakeEndpoints, firebaseBin, prepareEmulators, ROOT, SetupError, TEST_PROJECT_ID } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

try {
  // The browser suite is part of the tests: no browser is a failure now, not a skip later.
  if (!existsSync(CHROMIUM)) {
    throw new SetupError(`No Chromium at ${CHROMIUM} for the console's browser suite.\n` +
      "Install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.");
  }
  run("npm", ["run", "build", "-w", "functions"]);
  run("npm", ["run", "test:unit", "-w", "functions"], { ...process.env, METADATA_SERVER_DETECTION: "none" });
  run("npm", ["run", "test:unit", "-w", "console"]);
  const emulated = await prepareEmulators({ profile: "test" });
  run(
    process.execPath,
    [firebaseBin(), "emulators:exec", ...emulated.configArgs, "--project", TEST_PROJECT_ID, "--only", "auth,firestore,functions",
      "npm run test:emulated -w functions"],
    { ...emulated.env, ...fakeEndpoints() },
  );
  const browser = await prepareEmulators({ profile: "console" });
  const stack = localStack("console");
  await stack.buildConsole();
  run(
    process.execPath,
    [firebaseBin(), "emulators:exec", ...browser.configArgs, "--project", stack.projectId, "--only", "auth,firestore,functions,hosting",
      "node scripts/console-suite.mjs"],
    { ...browser.env, ...stack.env, CHROMIUM_PATH: CHROMIUM },
  );
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot run the tests: ${error.message}`);
  process.exit(1);
}
