// `npm test`: unit tests, then every emulator suite inside `firebase emulators:exec` (test ports).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { firebaseBin, localSecrets, prepareEmulators, ROOT, SetupError, TEST_PROJECT_ID } from "./lib/emulator-env.mjs";

/**
 * The functions under test push to local FCM and APNs servers that the e2e suite runs on these ports
 * (honoured only in the emulator). Both the emulators and the test process inherit them.
 */
const PUSH_FAKES = {
  PUSH_FCM_ORIGIN: "https://127.0.0.1:9743",
  PUSH_APNS_ORIGIN: "https://127.0.0.1:9744",
  PUSH_CA_FILE: join(ROOT, "functions", "test", "fakes", "tls", "ca.pem"),
};

/** Likewise the local ButterflyMX (accounts host and the two regional API hosts). */
const BUTTERFLYMX_FAKE = {
  BUTTERFLYMX_ACCOUNTS_ORIGIN: "http://127.0.0.1:9745",
  BUTTERFLYMX_API_ORIGIN_NA: "http://127.0.0.1:9746",
  BUTTERFLYMX_API_ORIGIN_EU: "http://127.0.0.1:9747",
};

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
    { ...env, ...PUSH_FAKES, ...BUTTERFLYMX_FAKE, BUTTERFLYMX_FAKE_CLIENT_SECRET: localSecrets().BUTTERFLYMX_CLIENT_SECRET },
  );
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot run the emulator suites: ${error.message}`);
  process.exit(1);
}
