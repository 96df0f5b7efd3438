// `npm test`: unit tests, then every emulator suite inside `firebase emulators:exec` (test ports).
import { spawnSync } from "node:child_process";
import { fakeEndpoints, firebaseBin, prepareEmulators, ROOT, SetupError, TEST_PROJECT_ID } from "./lib/emulator-env.mjs";

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

try {
  run("npm", ["run", "build", "-w", "functions"]);
  run("npm", ["run", "test:unit", "-w", "functions"], { ...process.env, METADATA_SERVER_DETECTION: "none" });
  const { env, configArgs } = await prepareEmulators({ profile: "test" });
  run(
    process.execPath,
    [firebaseBin(), "emulators:exec", ...configArgs, "--project", TEST_PROJECT_ID, "--only", "auth,firestore,functions",
      "npm run test:emulated -w functions"],
    { ...env, ...fakeEndpoints() },
  );
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot run the emulator suites: ${error.message}`);
  process.exit(1);
}
