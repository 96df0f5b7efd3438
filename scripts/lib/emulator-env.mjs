// Prepares the environment the Firebase emulators need on this machine, or fails saying what to install.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PROJECT_ID = JSON.parse(readFileSync(join(ROOT, ".firebaserc"), "utf8")).projects.default;
/**
 * `npm test` emulates its own project: its params (functions/.env.<id>) point pushes at the test fakes and shorten
 * the ring window, so that the missed-call timeout comes within seconds. The benchmarks' project has the same params
 * with the deployed window (see `benchParams`).
 */
export const TEST_PROJECT_ID = `${PROJECT_ID}-test`;
const BENCH_PROJECT_ID = `${PROJECT_ID}-bench`;
const require = createRequire(import.meta.url);

const MIN_JAVA = 11; // what firebase-tools 14.18 and its Firestore emulator accept
const FIRESTORE_MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";
const GCLOUD_JAR_CANDIDATES = [
  "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
  "/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
];

export class SetupError extends Error {}

/**
 * Port offsets of the profiles, so that they run beside a running `npm start` (`start`): `npm test`'s emulator
 * suites and the benchmarks (`test`, `bench`; never at once), and `npm test`'s browser suite (`console`).
 */
const PORT_OFFSETS = { start: 0, test: 1, bench: 1, console: 2 };

/** The emulated project of each profile (`demo-` projects: no credentials, pushes go to the outbox). */
export function profileProjectId(profile) {
  return { test: TEST_PROJECT_ID, bench: BENCH_PROJECT_ID, console: `${PROJECT_ID}-console` }[profile] ?? PROJECT_ID;
}

/** firebase.json as the profile uses it: ports shifted, and the files each profile adds. */
export function profileConfig(profile) {
  if (!(profile in PORT_OFFSETS)) throw new Error(`unknown emulator profile ${profile}`);
  const config = JSON.parse(readFileSync(join(ROOT, "firebase.json"), "utf8"));
  for (const options of Object.values(config.emulators)) {
    if (typeof options === "object" && options !== null) {
      for (const key of ["port", "websocketPort"]) if (typeof options[key] === "number") options[key] += PORT_OFFSETS[profile];
    }
  }
  if (profile === "bench") {
    // The latency floor's bare trigger, as a second codebase that only the benchmarks load.
    config.functions = [...config.functions, { source: "bench/floor", codebase: "bench-floor" }];
  }
  // The browser suite's console is built with its own emulator addresses, beside `npm start`'s.
  if (profile === "console") config.hosting = { ...config.hosting, public: ".emulators/console-test", predeploy: undefined };
  return config;
}

/**
 * The Firestore emulator's JVM under `npm test`: a suite is short, so the optimising compiler (C2) and a parallel
 * collector would spend more CPU warming up than they save, on a machine the suites keep busy. The benchmarks and
 * `npm start` keep the JVM's defaults.
 */
const SUITE_JVM = { JAVA_TOOL_OPTIONS: "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" };

/**
 * firebase-tools learns the functions by loading them in a child process. By default that child serves the manifest
 * over HTTP, and the CLI then waits for it to exit: about 4 s of every start here, measured. With this
 * setting (experimental; the pinned firebase-tools reads it) the child writes the manifest to a file and exits at
 * once: every emulator start is that much shorter.
 */
const FAST_DISCOVERY = { FIREBASE_FUNCTIONS_DISCOVERY_OUTPUT_PATH: "true" };

/**
 * Returns `{ env, configArgs, config }` for running firebase-tools: `config` is firebase.json as used
 * (see `profileConfig`), `configArgs` the CLI flags that select it.
 */
export async function prepareEmulators({ profile = "start" } = {}) {
  const env = { ...process.env, ...FAST_DISCOVERY, METADATA_SERVER_DETECTION: "none", ...(profile === "test" || profile === "console" ? SUITE_JVM : {}) };
  checkJava();
  Object.assign(env, await firestoreEmulator());
  ensureLocalSecrets();
  if (profile === "bench") benchParams();
  const config = profileConfig(profile);
  if (profile === "start") return { env, configArgs: [], config };
  const path = join(ROOT, `firebase.${profile}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
  return { env, configArgs: ["--config", path], config };
}

/**
 * Where the emulated functions send pushes and ButterflyMX calls under `npm test` and `npm run bench`: local
 * servers speaking those protocols, which the suites start on these ports (honoured only in the emulator).
 * Both the emulators and the test process inherit them.
 */
export function fakeEndpoints() {
  return {
    PUSH_FCM_ORIGIN: "https://127.0.0.1:9743",
    PUSH_APNS_ORIGIN: "https://127.0.0.1:9744",
    PUSH_CA_FILE: join(ROOT, "functions", "test", "fakes", "tls", "ca.pem"),
    BUTTERFLYMX_ACCOUNTS_ORIGIN: "http://127.0.0.1:9745",
    BUTTERFLYMX_API_ORIGIN_NA: "http://127.0.0.1:9746",
    BUTTERFLYMX_API_ORIGIN_EU: "http://127.0.0.1:9747",
    BUTTERFLYMX_FAKE_CLIENT_SECRET: localSecrets().BUTTERFLYMX_CLIENT_SECRET,
  };
}

/**
 * functions/.env.<bench project>, written from the test project's params without their ring window: a benchmark under
 * load rings later than a test does, and must not find its calls' window closed.
 */
function benchParams() {
  const tested = readFileSync(join(ROOT, "functions", `.env.${TEST_PROJECT_ID}`), "utf8");
  const header = `# Written by scripts/lib/emulator-env.mjs from .env.${TEST_PROJECT_ID}, with the deployed ring window. Not committed.\n`;
  writeFileSync(join(ROOT, "functions", `.env.${BENCH_PROJECT_ID}`), header + tested.replace(/(^#.*\n)*^RING_WINDOW_SECONDS=.*\n/m, ""));
}

/** Where the functions emulator reads secret values (never committed). */
export const SECRETS_FILE = join(ROOT, "functions", ".secret.local");

/** The APNs auth key of the tests: only the local APNs fake accepts tokens signed with it. */
export const TEST_APNS_KEY_FILE = join(ROOT, "functions", "test", "fakes", "tls", "apns-auth-key.p8");

/**
 * Secrets the emulated functions declare, added to functions/.secret.local when missing (existing values are
 * kept; firebase-tools would otherwise ask Secret Manager for them): a random operator secret, so the
 * building-wide path works locally, the test APNs key (the demo's outbox ignores it; the tests' fake needs it)
 * and a ButterflyMX client secret that only the tests' local ButterflyMX accepts.
 */
function ensureLocalSecrets() {
  const pem = readFileSync(TEST_APNS_KEY_FILE, "utf8").trim().replace(/\n/g, "\\n");
  const wanted = {
    WEBHOOK_OPERATOR_SECRET: randomBytes(32).toString("base64url"),
    APNS_KEY: `"${pem}"`,
    BUTTERFLYMX_CLIENT_SECRET: "local-butterflymx-client-secret",
  };
  const present = localSecrets();
  const missing = Object.entries(wanted).filter(([name]) => !(name in present));
  if (missing.length === 0) return;
  const existing = existsSync(SECRETS_FILE) ? readFileSync(SECRETS_FILE, "utf8") : "";
  const lines = missing.map(([name, value]) => `${name}=${value}\n`).join("");
  writeFileSync(SECRETS_FILE, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}${lines}`, { mode: 0o600 });
}

/** Values from functions/.secret.local (KEY=value lines). */
export function localSecrets() {
  if (!existsSync(SECRETS_FILE)) return {};
  return Object.fromEntries(
    readFileSync(SECRETS_FILE, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
}

function checkJava() {
  const result = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (result.error) {
    throw new SetupError(
      "Java was not found on PATH; the Firestore emulator runs on it.\n" +
        `Install a JDK ${MIN_JAVA}+ (Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless) and run again.`,
    );
  }
  const version = /version "([^"]+)"/.exec(`${result.stderr}${result.stdout}`)?.[1];
  const [first, second] = (version ?? "").split(".").map((part) => parseInt(part, 10));
  const major = first === 1 ? second : first; // "1.8.0_392" is Java 8
  if (!(major >= MIN_JAVA)) {
    throw new SetupError(`Java ${MIN_JAVA}+ is required; \`java -version\` reports ${version ?? "no version"}.`);
  }
}

/**
 * firebase-tools downloads its Firestore emulator jar on first use. Where it has no cached copy and the Google
 * Cloud CLI's emulator is installed (it cannot download here), point firebase-tools at that jar through a
 * launcher jar: the CLI's jar has no Main-Class, and firebase-tools runs `java -jar <path>`.
 */
async function firestoreEmulator() {
  const override = process.env.FIRESTORE_EMULATOR_BINARY_PATH;
  if (override) {
    if (!existsSync(override)) throw new SetupError(`FIRESTORE_EMULATOR_BINARY_PATH points at ${override}, which does not exist.`);
    return {};
  }
  const { DownloadDetails } = require("firebase-tools/lib/emulator/downloadableEmulators");
  const cached = DownloadDetails.firestore.downloadPath;
  if (existsSync(cached)) return {};
  const gcloudJar = findGcloudFirestoreJar();
  if (gcloudJar) return { FIRESTORE_EMULATOR_BINARY_PATH: launcherJar(gcloudJar) };
  if (await reachable(DownloadDetails.firestore.opts.remoteUrl)) return {};
  throw new SetupError(
    "No Firestore emulator is available and firebase-tools cannot download one (no internet access).\n" +
      "Install the Google Cloud CLI's emulator, which this project uses where present:\n" +
      "  sudo apt-get install google-cloud-cli-firestore-emulator   (or: gcloud components install cloud-firestore-emulator)\n" +
      `or run once with internet access so firebase-tools caches ${cached}.`,
  );
}

function findGcloudFirestoreJar() {
  const listed = spawnSync("dpkg", ["-L", "google-cloud-cli-firestore-emulator"], { encoding: "utf8" });
  const fromDpkg = listed.status === 0 ? listed.stdout.split("\n").filter((l) => l.endsWith("/cloud-firestore-emulator.jar")) : [];
  const known = [...fromDpkg, ...GCLOUD_JAR_CANDIDATES].find((path) => existsSync(path));
  if (known) return known;
  // `gcloud info` runs Python for a second or two: asked only where the package's paths do not have the jar.
  const sdk = spawnSync("gcloud", ["info", "--format=value(installation.sdk_root)"], { encoding: "utf8" });
  const fromSdk = sdk.status === 0 && sdk.stdout.trim() ? join(sdk.stdout.trim(), "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar") : undefined;
  return fromSdk && existsSync(fromSdk) ? fromSdk : undefined;
}

/** A jar holding only a manifest: Main-Class plus a Class-Path to the real emulator. Rebuilt when that moves. */
function launcherJar(targetJar) {
  const dir = join(ROOT, ".emulators");
  const jar = join(dir, "firestore-launcher.jar");
  const manifestPath = join(dir, "firestore-launcher.manifest");
  const manifest = `Main-Class: ${FIRESTORE_MAIN_CLASS}\nClass-Path: ${encodeURI(targetJar)}\n`;
  if (existsSync(jar) && existsSync(manifestPath) && readFileSync(manifestPath, "utf8") === manifest) return jar;
  mkdirSync(dir, { recursive: true });
  writeFileSync(manifestPath, manifest);
  const built = spawnSync("jar", ["--create", "--file", jar, "--manifest", manifestPath], { encoding: "utf8" });
  if (built.error || built.status !== 0) {
    throw new SetupError(
      `Could not build ${jar} with the JDK's \`jar\` tool (${built.error?.message ?? built.stderr.trim()}).\n` +
        "Install a full JDK, not only a JRE (Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless).",
    );
  }
  return jar;
}

async function reachable(url) {
  try {
    const response = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(4000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The local URL of an HTTPS function, from the emulator config in use. */
export function functionUrl(config, name, region, projectId = PROJECT_ID) {
  const { host, port } = config.emulators.functions;
  return `http://${host}:${port}/${projectId}/${region}/${name}`;
}

/**
 * Node's arguments that run the firebase-tools CLI installed in this repository (never a global one), its Auth
 * emulator compiling each validator when first used (auth-emulator-lazy.cjs): `spawn(process.execPath,
 * [...firebaseCli(), "emulators:exec", ...])`.
 */
export function firebaseCli() {
  const bin = join(dirname(require.resolve("firebase-tools/package.json")), "lib", "bin", "firebase.js");
  return ["--require", join(ROOT, "scripts", "lib", "auth-emulator-lazy.cjs"), bin];
}
