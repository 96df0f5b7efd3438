// `npm run simulate -- <command> [guid] [options]`: sends ButterflyMX-shaped deliveries to the running
// emulators (`npm start`) and prints the answer and the resulting call document.
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { callObject as demoCall, STATUS_COMMANDS, statusUpdate } from "./lib/butterflymx-deliveries.mjs";
import { DEMO } from "./lib/demo-data.mjs";
import { functionUrl, localSecrets, profileConfig, profileProjectId, PROJECT_ID, ROOT } from "./lib/emulator-env.mjs";
import { emulatorAdmin } from "./lib/seed.mjs";

const HELP = `Usage: npm run simulate -- <command> [guid] [options]
  call                 a visitor calls (create); prints the new guid
  duplicate [guid]     repeat the create delivery
  answer|cancel|decline|missed|door|rollover [guid]
                       status_update with connecting_sip|canceled|rejected|timeout_online_signal|opened_door|voip_rollover
  status <bmxStatus> [guid]
                       status_update with any raw ButterflyMX status
Options: --user <ButterflyMX user id> (default ${DEMO.bmxUserId})
         --operator           deliver through the building-wide (operator) URL instead of the demo resident's
         --url <webhook URL>  deliver elsewhere
As the demo resident, through the callables (the local ButterflyMX answers for ButterflyMX):
  open-door [guid]     releaseDoor on a call (a new requestId each time); default: the demo resident's latest call
  open-door --access-point
                       releaseDoor on the demo building's access point instead
  history              getCallHistory and getAccessHistory, newest first
Watching:
  watch [guid]         follow the call until it is over and its stop is recorded (e.g. the missed-call timeout)
  outbox [guid]        the pushes in pushOutbox (what FCM / APNs would receive), newest first
[guid] defaults to the last call this command created.`;

// `npm start`'s emulators, or those of a test profile (INTERCOM_RELAY_PROFILE: the walkthrough test plays the README
// against the browser suite's stack).
const PROFILE = process.env.INTERCOM_RELAY_PROFILE;
const PROJECT = PROFILE ? profileProjectId(PROFILE) : PROJECT_ID;
const LAST_CALL = join(ROOT, ".emulators", PROFILE ? `last-call-${PROFILE}` : "last-call");
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { user: { type: "string" }, url: { type: "string" }, operator: { type: "boolean" }, "access-point": { type: "boolean" }, help: { type: "boolean", short: "h" } },
});
const [command, ...rest] = positionals;
if (!command || command === "help" || values.help) {
  console.log(HELP);
  process.exit(command || values.help ? 0 : 1);
}

const config = PROFILE ? profileConfig(PROFILE) : JSON.parse(readFileSync(join(ROOT, "firebase.json"), "utf8"));
const require = createRequire(import.meta.url);
const { REGION } = require(join(ROOT, "functions/lib/config.js"));
if (command === "open-door" || command === "history") {
  await asResident(command);
  process.exit(0);
}
if (command === "watch" || command === "outbox") {
  const { db } = emulatorAdmin(config, PROJECT);
  if (command === "watch") await watch(db, guidArg(rest[0]));
  else await outbox(db, rest[0]);
  process.exit(0);
}
const secret = values.operator ? localSecrets().WEBHOOK_OPERATOR_SECRET : DEMO.webhookSecret;
if (!secret) fail("No WEBHOOK_OPERATOR_SECRET in functions/.secret.local; `npm start` creates one.");
const url = values.url ?? `${functionUrl(config, "butterflymxWebhook", REGION, PROJECT)}/${secret}`;

let body;
let guid;
if (command === "call") {
  guid = randomUUID();
  body = callObject(guid);
} else if (command === "duplicate") {
  guid = guidArg(rest[0]);
  body = callObject(guid);
} else if (command === "status") {
  if (!rest[0]) fail("status needs a raw ButterflyMX status, e.g. npm run simulate -- status canceled");
  guid = guidArg(rest[1]);
  body = statusUpdate(guid, rest[0], user());
} else if (Object.hasOwn(STATUS_COMMANDS, command)) {
  guid = guidArg(rest[0]);
  body = statusUpdate(guid, STATUS_COMMANDS[command], user());
} else {
  fail(`Unknown command "${command}".\n\n${HELP}`);
}

const { db } = emulatorAdmin(config, PROJECT);
const before = command === "call" ? undefined : (await db.doc(`calls/${guid}`).get()).data();
let response;
try {
  response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
} catch (error) {
  fail(`Could not reach ${url} (${error.cause?.code ?? error.message}). Is \`npm start\` running?`);
}
console.log(`POST ${command === "call" || command === "duplicate" ? "create" : `status_update ${body.status}`} → HTTP ${response.status}`);
console.log(JSON.stringify(await response.json(), null, 2));
if (command === "call") {
  mkdirSync(join(ROOT, ".emulators"), { recursive: true });
  writeFileSync(LAST_CALL, guid);
}

const sentAt = new Date(Date.now() - 1000);
const call = await settled(db.doc(`calls/${guid}`), command === "call" || command === "duplicate" ? ringDone : stopDone);
if (call) await report(db, guid, call, sentAt);
if (before && before.status !== "ringing" && command !== "duplicate") {
  console.log(`\nThe call was already over (${before.status}) before this status came: ButterflyMX's later statuses are kept in its history but never change it. Start a new one with \`npm run simulate -- call\`.`);
}
process.exit(response.ok ? 0 : 1);

/** The call as it is now, and the pushes sent for it since `since`. */
async function report(db, callGuid, call, since) {
  const { status, bmxStatus, recipients, delivery, history } = call;
  const { stop, ...ring } = delivery;
  console.log(`\ncalls/${callGuid}: status=${status} bmxStatus=${bmxStatus} recipients=${recipients.join(",") || "(none)"}`);
  console.log(`  history: ${history.map((h) => `${h.event}:${h.bmxStatus}${h.applied ? "" : " (not applied)"}`).join(" → ")}`);
  console.log(`  ring: ${summary(ring)}`);
  if (stop) console.log(`  stop: ${summary(stop)}`);
  const pushes = await db.collection("pushOutbox").where("guid", "==", callGuid).get();
  const fresh = pushes.docs.map((d) => d.data()).filter((p) => p.createdAt.toDate() >= since);
  fresh.sort((a, b) => a.createdAt.toMillis() - b.createdAt.toMillis());
  if (fresh.length > 0) console.log(`  pushes now in pushOutbox (what FCM / APNs would receive):`);
  for (const push of fresh) console.log(`    ${pushLine(push)}`);
}

function pushLine(push) {
  const headers = push.request.headers ?? push.request.apns?.headers ?? {};
  const pushType = headers["apns-push-type"] ? ` apns-push-type=${headers["apns-push-type"]}` : "";
  return `${push.provider.padEnd(4)} ${push.type} → token ${push.token.slice(0, 12)}…${pushType}`;
}

/** Follows a call, printing each change, until it is over and its stop recorded (the ring window and then some). */
async function watch(db, callGuid) {
  const ref = db.doc(`calls/${callGuid}`);
  const start = Date.now();
  const first = (await ref.get()).data();
  if (!first) fail(`No call ${callGuid}.`);
  console.log(`Watching calls/${callGuid} (Ctrl-C to stop)…`);
  let last = "";
  const deadline = start + 120_000;
  for (;;) {
    const call = (await ref.get()).data();
    const line = `status=${call.status}${call.endReason ? ` endReason=${call.endReason}` : ""} ring=${call.delivery.state}${call.delivery.stop ? ` stop=${call.delivery.stop.state}` : ""}`;
    if (line !== last) console.log(`  +${String(Math.round((Date.now() - start) / 1000)).padStart(3)} s  ${line}`);
    last = line;
    if (call.status !== "ringing" && stopDone(call)) return report(db, callGuid, call, call.createdAt.toDate());
    if (Date.now() > deadline) fail("Still not over after 2 minutes: is `npm start` still running?");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The latest pushes in pushOutbox (for one call, when a guid is given). */
async function outbox(db, callGuid) {
  let query = db.collection("pushOutbox").orderBy("createdAt", "desc").limit(20);
  if (callGuid) query = db.collection("pushOutbox").where("guid", "==", callGuid);
  const pushes = (await query.get()).docs.map((d) => d.data()).sort((a, b) => b.createdAt.toMillis() - a.createdAt.toMillis());
  if (pushes.length === 0) console.log("pushOutbox is empty: no push has been sent yet.");
  for (const push of pushes) console.log(`${push.createdAt.toDate().toISOString()}  ${push.guid}  ${pushLine(push)}`);
}

function ringDone(call) {
  return call.status !== "ringing" || !["pending", "ringing"].includes(call.delivery.state);
}

function stopDone(call) {
  return !["rung", "failed"].includes(call.delivery.state) || call.delivery.stop?.state === "stopped";
}

/** The call once its ring or stop is recorded (polled, up to 15 s), or as it is then. */
async function settled(ref, done) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const snapshot = await ref.get();
    const data = snapshot.data();
    if (!data || done(data) || Date.now() > deadline) return data;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function summary(fields) {
  return Object.entries(fields)
    .filter(([, v]) => typeof v !== "object" || v === null || Array.isArray(v) || !("_seconds" in v || "seconds" in v))
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .sort()
    .join(" ");
}

/** `open-door` and `history`: the demo resident signs in (Auth emulator) and calls the callables as an app would. */
async function asResident(name) {
  const { host, port } = config.emulators.auth;
  const signIn = await request(`http://${host}:${port}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-api-key`, {
    email: DEMO.email, password: DEMO.password, returnSecureToken: true,
  });
  if (!signIn.idToken) fail(`Could not sign in as ${DEMO.email}: ${JSON.stringify(signIn)}. Is \`npm start\` running?`);
  const call = async (fn, data) => {
    const answer = await request(functionUrl(config, fn, REGION, PROJECT), { data }, signIn.idToken);
    console.log(`${fn}(${JSON.stringify(data)}) →`);
    console.log(JSON.stringify(answer.result ?? answer.error, null, 2));
    return answer;
  };
  if (name === "open-door") {
    const requestId = randomUUID();
    const target = values["access-point"] ? { tenantId: DEMO.tenantId, accessPointId: DEMO.accessPointId } : { callGuid: rest[0] ?? (await latestDemoCall()) };
    const answer = await call("releaseDoor", { requestId, ...target });
    if (answer.error) process.exit(1);
    return;
  }
  await call("getCallHistory", { limit: 10 });
  await call("getAccessHistory", { limit: 10 });
}

async function request(url, body, idToken) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(idToken ? { authorization: `Bearer ${idToken}` } : {}) },
      body: JSON.stringify(body),
    });
    return await response.json();
  } catch (error) {
    fail(`Could not reach ${url} (${error.cause?.code ?? error.message}). Is \`npm start\` running?`);
  }
}

/** The demo resident's latest call (a call another user received is not theirs to open). */
async function latestDemoCall() {
  const { db } = emulatorAdmin(config, PROJECT);
  const latest = await db.collection("calls").where("recipients", "array-contains", DEMO.uid).orderBy("createdAt", "desc").limit(1).get();
  if (latest.empty) fail("The demo resident has no call yet; run `npm run simulate -- call` first.");
  return latest.docs[0].id;
}

function callObject(callGuid) {
  return demoCall(callGuid, user());
}

function user() {
  return values.user ? { ...DEMO.call.user, id: Number(values.user) || values.user } : DEMO.call.user;
}

function guidArg(given) {
  if (given) return given;
  if (existsSync(LAST_CALL)) return readFileSync(LAST_CALL, "utf8").trim();
  fail("No guid given and no previous call; run `npm run simulate -- call` first.");
}

function fail(message) {
  console.error(message);
  process.exit(2);
}
