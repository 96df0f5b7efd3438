// What the support commands (`npm run diagnose`, `npm run reconcile`) work with: Firestore, Auth and ButterflyMX
// with admin rights, either on the running emulators (`npm start`, the default) or on a deployed project
// (`--project <id>`, with Application Default Credentials). Never the app's client credentials.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DEMO_BUTTERFLYMX_PORTS } from "./demo-butterflymx.mjs";
import { localSecrets, PROJECT_ID, ROOT } from "./emulator-env.mjs";
import { emulatorAdmin } from "./seed.mjs";

const require = createRequire(import.meta.url);

export const TARGET_HELP = `Target:
  (default)                the running emulators of \`npm start\` and its local ButterflyMX
  --project <id>           a deployed project, with Application Default Credentials
                           (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS)
Environment with --project (to refresh a resident's expired ButterflyMX token):
  BUTTERFLYMX_CLIENT_ID, BUTTERFLYMX_CLIENT_SECRET, BUTTERFLYMX_ENVIRONMENT (production|sandbox)`;

/** Builds the functions and returns `{ db, auth, bmx, lib, params, target }`; exits with a reason when it cannot. */
export async function supportContext({ project }) {
  const build = spawnSync("npm", ["run", "build", "-w", "functions"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const lib = (path) => require(join(ROOT, "functions", "lib", path));
  const { ButterflyMxClient } = lib("butterflymx/butterflymx-client.js");
  const { bmxEndpoints } = lib("butterflymx/butterflymx-hosts.js");
  const params = functionParams(project ?? PROJECT_ID);

  if (!project) {
    const config = JSON.parse(readFileSync(join(ROOT, "firebase.json"), "utf8"));
    const { db, auth } = emulatorAdmin(config);
    await reachable(db, `the Firestore emulator at ${process.env.FIRESTORE_EMULATOR_HOST}; is \`npm start\` running?`);
    const origin = (port) => `http://127.0.0.1:${port}`;
    const endpoints = { accounts: origin(DEMO_BUTTERFLYMX_PORTS.accounts), api: { na: origin(DEMO_BUTTERFLYMX_PORTS.na), eu: origin(DEMO_BUTTERFLYMX_PORTS.eu) } };
    const bmx = new ButterflyMxClient({ endpoints, clientId: params.BUTTERFLYMX_CLIENT_ID ?? "", clientSecret: localSecrets().BUTTERFLYMX_CLIENT_SECRET ?? "" });
    return { db, auth, bmx, lib, params, target: "the emulators" };
  }

  process.env.METADATA_SERVER_DETECTION ??= "none";
  const { initializeApp } = require("firebase-admin/app");
  const app = initializeApp({ projectId: project });
  const db = require("firebase-admin/firestore").getFirestore(app);
  await reachable(db, `Firestore of project ${project} with Application Default Credentials`);
  const environment = process.env.BUTTERFLYMX_ENVIRONMENT ?? params.BUTTERFLYMX_ENVIRONMENT ?? "production";
  const bmx = new ButterflyMxClient({
    endpoints: bmxEndpoints(environment === "sandbox" ? "sandbox" : "production"),
    clientId: process.env.BUTTERFLYMX_CLIENT_ID ?? params.BUTTERFLYMX_CLIENT_ID ?? "",
    clientSecret: process.env.BUTTERFLYMX_CLIENT_SECRET ?? "",
  });
  return { db, auth: require("firebase-admin/auth").getAuth(app), bmx, lib, params, target: `project ${project}` };
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

/** The uid named by `--uid`, or the Auth user of `--email`. */
export async function residentUid({ auth }, values) {
  if (values.uid) return values.uid;
  try {
    return (await auth.getUserByEmail(values.email)).uid;
  } catch (error) {
    fail(error.code === "auth/user-not-found" ? `No user has the email ${values.email}.` : `Cannot look up ${values.email}: ${error.message}`);
  }
}

/** An email address as support output shows it: first letter and domain. */
export function maskedEmail(email) {
  const [name, domain] = String(email).split("@");
  return domain ? `${name.slice(0, 1)}…@${domain}` : "…";
}

export function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}
