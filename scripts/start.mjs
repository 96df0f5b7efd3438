// `npm start`: builds, starts the emulators (auth, Firestore, functions, hosting) with the console, the local
// ButterflyMX and the demo resident, and prints where everything is. Ctrl-C stops everything.
import { spawn } from "node:child_process";
import { DEMO } from "./lib/demo-data.mjs";
import { firebaseCli, localSecrets, prepareEmulators, ROOT, SetupError } from "./lib/emulator-env.mjs";
import { buildFunctions } from "./lib/functions-build.mjs";
import { localStack } from "./lib/local-stack.mjs";

buildFunctions();

let env;
try {
  ({ env } = await prepareEmulators());
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`\nCannot start the emulators: ${error.message}`);
  process.exit(1);
}
const stack = localStack("start");
await stack.buildConsole();
const emulators = spawn(
  process.execPath,
  [...firebaseCli(), "emulators:start", "--project", stack.projectId, "--only", "auth,firestore,functions,hosting"],
  { cwd: ROOT, env: { ...env, ...stack.env }, stdio: "inherit" },
);
emulators.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => emulators.kill(signal));

try {
  await stack.start();
} catch (error) {
  console.error(`\nCannot start the local stack: ${error.message}`);
  emulators.kill("SIGINT");
  process.exit(1);
}

const { firestore } = stack.config.emulators;
console.log(`
┌─ intercom-relay is running on the emulators (project ${stack.projectId}) ─────────────────────
│ Resident console (sign in as ${DEMO.email} / ${DEMO.password}, prefilled; developer panel at the bottom):
│   ${stack.consoleUrl}
│ Webhook URL (demo resident ${DEMO.uid}, ButterflyMX user ${DEMO.bmxUserId}):
│   ${stack.webhookBase}/${DEMO.webhookSecret}
│ Building-wide (operator) URL, secret from functions/.secret.local:
│   ${stack.webhookBase}/${localSecrets().WEBHOOK_OPERATOR_SECRET ?? "(WEBHOOK_OPERATOR_SECRET not set)"}
│ Local ButterflyMX (the demo resident's account, a door, some history): ${stack.env.BUTTERFLYMX_API_ORIGIN_NA}
│ Simulate ButterflyMX, in another terminal:
│   npm run simulate -- call            a visitor calls unit ${DEMO.call.unit.label} (prints the guid)
│   npm run simulate -- answer          the call is answered (connecting_sip)
│   npm run simulate -- cancel          the visitor hangs up (canceled)
│   npm run simulate -- duplicate       ButterflyMX repeats the create delivery
│   npm run simulate -- watch           follow the last call until it ends (the missed-call timeout: 43 s)
│   npm run simulate -- outbox          the pushes FCM / APNs would have received
│   npm run simulate -- open-door       the demo resident opens the door of their latest call (releaseDoor)
│   npm run simulate -- history         the demo resident's call and access history
│   npm run simulate -- help            every command and option
│ Firestore emulator: ${firestore.host}:${firestore.port}   Stop with Ctrl-C.
└──────────────────────────────────────────────────────────────────────────────────────────`);
