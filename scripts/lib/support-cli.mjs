// What the support commands (`npm run diagnose`, `npm run reconcile`) work with: Firestore, Auth and ButterflyMX
// with admin rights, either on the running emulators (`npm start`, the default) or on a deployed project
// (`--project <id>`, with Application Default Credentials). Never the app's client credentials.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEMO_BUTTERFLYMX_PORTS } from "./demo-butterflymx.mjs";
import { localSecrets, PROJECT_ID, ROOT } from "./emulator-env.mjs";
import { buildFunctions } from "./functions-build.mjs";
import { emulatorAdmin } from "./seed.mjs";

const require = createRequire(import.meta.url);

export const TARGET_HELP = `Target:
  (default)                the running emulators of \`npm start\` and its local ButterflyMX
  --project <id>           a deployed project, with Application Default Credentials
                           (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS)
Environment with --project (to refresh a resident's expired ButterflyMX token):
  BUTTERFLYMX_CLIENT_ID, BUTTERFLYMX_CLIENT_SECRET, BUTTERFLYMX_ENVIRONMENT (production|sandbox)`;

/**
 * Builds the functions when stale and returns `{ db, auth, bmx, lib, params, thresholds, target }` (`thresholds`:
 * the delivery-health watch's, as the target's params set them); exits with a reason when it cannot.
 */
export async function supportContext({ project }) {
  buildFunctions({ quiet: true });
  readableLogs();
  const lib = (path) => require(join(ROOT, "functions", "lib", path));
  const { ButterflyMxClient } = lib("butterflymx/butterflymx-client.js");
  const { bmxEndpoints } = lib("butterflymx/butterflymx-hosts.js");
  const params = functionParams(project ?? PROJECT_ID);

  if (!project) {
    const { db, auth } = EMULATED_PROJECT ? adminOf(EMULATED_PROJECT) : emulatorAdmin(JSON.parse(readFileSync(join(ROOT, "firebase.json"), "utf8")));
    await reachable(db, `the Firestore emulator at ${process.env.FIRESTORE_EMULATOR_HOST}; is \`npm start\` running?`);
    const bmx = new ButterflyMxClient({ endpoints: emulatedButterflyMx(), clientId: params.BUTTERFLYMX_CLIENT_ID ?? "", clientSecret: localSecrets().BUTTERFLYMX_CLIENT_SECRET ?? "" });
    return { db, auth, bmx, lib, params, thresholds: healthThresholds(params), target: "the emulators" };
  }

  const { db, auth } = adminOf(project);
  await reachable(db, `Firestore of project ${project} with Application Default Credentials`);
  const environment = process.env.BUTTERFLYMX_ENVIRONMENT ?? params.BUTTERFLYMX_ENVIRONMENT ?? "production";
  const bmx = new ButterflyMxClient({
    endpoints: bmxEndpoints(environment === "sandbox" ? "sandbox" : "production"),
    clientId: process.env.BUTTERFLYMX_CLIENT_ID ?? params.BUTTERFLYMX_CLIENT_ID ?? "",
    clientSecret: process.env.BUTTERFLYMX_CLIENT_SECRET ?? "",
  });
  return { db, auth, bmx, lib, params, thresholds: healthThresholds(params), target: `project ${project}` };
}

/**
 * The functions' structured log lines (JSON, one per step) as one short line each on stderr, so that a command's own
 * output stays readable. Installed before the functions' code loads: firebase-functions keeps the console it found.
 */
function readableLogs() {
  for (const method of ["debug", "info", "log", "warn", "error"]) {
    const original = console[method].bind(console);
    console[method] = (...args) => {
      const entry = args.length === 1 && typeof args[0] === "string" && args[0].startsWith("{") ? parsed(args[0]) : undefined;
      if (!entry?.message || !entry.severity) return original(...args);
      const { message, severity, ...fields } = entry;
      const detail = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : value}`).join(" ");
      process.stderr.write(`  [${severity.toLowerCase()}] ${message}${detail ? ` (${detail})` : ""}\n`);
    };
  }
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Inside `firebase emulators:exec` (the tests), the emulators and project it names (FIRESTORE_EMULATOR_HOST,
 * FIREBASE_AUTH_EMULATOR_HOST, GCLOUD_PROJECT); otherwise those of `npm start`.
 */
const EMULATED_PROJECT = process.env.FIRESTORE_EMULATOR_HOST && process.env.FIREBASE_AUTH_EMULATOR_HOST ? process.env.GCLOUD_PROJECT : undefined;

function adminOf(projectId) {
  process.env.METADATA_SERVER_DETECTION ??= "none";
  const { initializeApp } = require("firebase-admin/app");
  const app = initializeApp({ projectId });
  return { db: require("firebase-admin/firestore").getFirestore(app), auth: require("firebase-admin/auth").getAuth(app) };
}

/** The local ButterflyMX the emulated functions use (BUTTERFLYMX_*_ORIGIN, as the tests set), else `npm start`'s. */
function emulatedButterflyMx() {
  const env = process.env;
  const origin = (port) => `http://127.0.0.1:${port}`;
  if (!env.BUTTERFLYMX_API_ORIGIN_NA) {
    return { accounts: origin(DEMO_BUTTERFLYMX_PORTS.accounts), api: { na: origin(DEMO_BUTTERFLYMX_PORTS.na), eu: origin(DEMO_BUTTERFLYMX_PORTS.eu) } };
  }
  return { accounts: env.BUTTERFLYMX_ACCOUNTS_ORIGIN ?? env.BUTTERFLYMX_API_ORIGIN_NA, api: { na: env.BUTTERFLYMX_API_ORIGIN_NA, eu: env.BUTTERFLYMX_API_ORIGIN_EU ?? env.BUTTERFLYMX_API_ORIGIN_NA } };
}

/** `deliveryHealth`'s thresholds from the params (functions/.env carries their defaults). */
function healthThresholds(params) {
  return { failureRate: Number(params.HEALTH_FAILURE_PERCENT) / 100, minRings: Number(params.HEALTH_MIN_RINGS) };
}

/** The functions' params as deployed to `projectId`: functions/.env, then functions/.env.<projectId>. */
function functionParams(projectId) {
  const values = {};
  for (const file of [".env", `.env.${projectId}`]) {
    const path = join(ROOT, "functions", file);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) values[match[1]] = match[2];
    }
  }
  return values;
}

async function reachable(db, what) {
  try {
    await Promise.race([db.listCollections(), new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 10 s")), 10_000))]);
  } catch (error) {
    fail(`Cannot reach ${what} (${error.message}).`);
  }
}

/** The Auth user named by `--uid` or `--email`, or a clear refusal when there is none. */
export async function residentUid({ auth }, values) {
  const named = values.uid ? `the uid ${values.uid}` : `the email ${values.email}`;
  try {
    return (values.uid ? await auth.getUser(values.uid) : await auth.getUserByEmail(values.email)).uid;
  } catch (error) {
    fail(error.code === "auth/user-not-found" ? `No user has ${named}.` : `Cannot look up ${named}: ${error.message}`);
  }
}

/** An email address as support output shows it: first letter and domain. */
export function maskedEmail(email) {
  const [name, domain] = String(email).split("@");
  return domain ? `${name.slice(0, 1)}…@${domain}` : "…";
}

/**
 * The command's options (plus `--project` and `--help`, which every support command takes): `--help` prints `help`
 * and exits; an unknown or malformed option exits 2 saying which, then `help`.
 */
export function commandLine(options, help) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, project: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (error) {
    fail(`${error.message}\n\n${help}`, 2);
  }
  if (values.help) {
    console.log(help);
    process.exit(0);
  }
  return values;
}

/** `text` as a whole number from `min` to `max`, or exit 2 naming the option. */
export function wholeNumber(name, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be a whole number from ${min} to ${max}, not "${text}".`, 2);
  return n;
}

export function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}
