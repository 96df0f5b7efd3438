// `npm start`: builds, starts the emulators (auth, Firestore, functions), seeds the demo resident and
// prints how to simulate ButterflyMX deliveries. Ctrl-C stops everything.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { startDemoButterflyMx } from "./lib/demo-butterflymx.mjs";
import { DEMO } from "./lib/demo-data.mjs";
import { firebaseBin, functionUrl, localSecrets, prepareEmulators, PROJECT_ID, ROOT, SetupError } from "./lib/emulator-env.mjs";
import { emulatorAdmin, seedDemo } from "./lib/seed.mjs";

const READY_DEADLINE_MS = 120_000;
const require = createRequire(import.meta.url);

const build = spawnSync("npm", ["run", "build", "-w", "functions"], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

let prepared;
try {
  prepared = await prepareEmulators();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot start the emulators: ${error.message}`);
  process.exit(1);
}
const { env, config } = prepared;
let butterflymx;
try {
  butterflymx = await startDemoButterflyMx();
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot start the local ButterflyMX: ${error.message}`);
  process.exit(1);
}
Object.assign(env, butterflymx.env);
const emulators = spawn(
  process.execPath,
  [firebaseBin(), "emulators:start", "--project", PROJECT_ID, "--only", "auth,firestore,functions"],
  { cwd: ROOT, env, stdio: "inherit" },
);
emulators.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => emulators.kill(signal));

const { REGION } = require(join(ROOT, "functions/lib/config.js"));
const webhookBase = functionUrl(config, "butterflymxWebhook", REGION);
await waitForWebhook(webhookBase);
await seedDemo(emulatorAdmin(config));
// The demo resident's webhook as linking would have left it at ButterflyMX (diagnose checks it there).
butterflymx.fake.seedIntegration({ kind: "tenant", id: DEMO.tenantId }, `${webhookBase}/${DEMO.webhookSecret}`);

const { firestore } = config.emulators;
console.log(`
┌─ intercom-relay is running on the emulators (project ${PROJECT_ID}) ─────────────────────
│ Webhook URL (demo resident ${DEMO.uid}, ButterflyMX user ${DEMO.bmxUserId}):
│   ${webhookBase}/${DEMO.webhookSecret}
│ Building-wide (operator) URL, secret from functions/.secret.local:
│   ${webhookBase}/${localSecrets().WEBHOOK_OPERATOR_SECRET ?? "(WEBHOOK_OPERATOR_SECRET not set)"}
│ Local ButterflyMX (the demo resident's account, a door, some history): ${butterflymx.env.BUTTERFLYMX_API_ORIGIN_NA}
│ Simulate ButterflyMX, in another terminal:
│   npm run simulate -- call            a visitor calls unit ${DEMO.call.unit.label} (prints the guid)
│   npm run simulate -- answer          the call is answered (connecting_sip)
│   npm run simulate -- cancel          the visitor hangs up (canceled)
│   npm run simulate -- duplicate       ButterflyMX repeats the create delivery
│   npm run simulate -- open-door       the demo resident opens the door of the last call (releaseDoor)
│   npm run simulate -- history         the demo resident's call and access history
│   npm run simulate -- help            every command and option
│ Firestore emulator: ${firestore.host}:${firestore.port}   Stop with Ctrl-C.
└──────────────────────────────────────────────────────────────────────────────────────────`);

/** Polls until the webhook function answers (405 to a GET): emulators up, functions loaded. */
async function waitForWebhook(url) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 405) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.error(`The webhook did not come up within ${READY_DEADLINE_MS / 1000} s at ${url}; see the emulator output above.`);
  emulators.kill("SIGINT");
  process.exit(1);
}
