// What runs beside the emulators for `npm start` and for `npm test`'s browser suite: the console (built with the
// emulators' addresses and served by the Hosting emulator), the local ButterflyMX, the console's developer server,
// and the demo resident. One description per profile, so both run the same stack on their own ports.
import { createRequire } from "node:module";
import { join } from "node:path";
import { buildConsole } from "../../console/build.mjs";
import { DEMO_BUTTERFLYMX_PORTS, startDemoButterflyMx } from "./demo-butterflymx.mjs";
import { DEMO } from "./demo-data.mjs";
import { startDevPanelServer } from "./dev-panel-server.mjs";
import { functionUrl, localSecrets, profileConfig, profileProjectId, ROOT } from "./emulator-env.mjs";
import { emulatorAdmin, seedDemo } from "./seed.mjs";

const require = createRequire(import.meta.url);
const READY_DEADLINE_MS = 120_000;

/** Ports of what runs beside the emulators, per profile. */
const SIDE_PORTS = {
  start: { butterflymx: DEMO_BUTTERFLYMX_PORTS, devPanel: 9758 },
  console: { butterflymx: { accounts: 9765, na: 9766, eu: 9767 }, devPanel: 9768 },
};

/** The stack of `profile` (`start` or `console`): addresses, and the environment the emulators need. */
export function localStack(profile) {
  const config = profileConfig(profile);
  const projectId = profileProjectId(profile);
  const ports = SIDE_PORTS[profile];
  const { REGION } = require(join(ROOT, "functions/lib/config.js"));
  const { hosting, auth, firestore, functions } = config.emulators;
  const origin = (port) => `http://127.0.0.1:${port}`;
  const stack = {
    profile,
    config,
    projectId,
    consoleUrl: `http://${hosting.host}:${hosting.port}/`,
    devPanelOrigin: origin(ports.devPanel),
    webhookBase: functionUrl(config, "butterflymxWebhook", REGION, projectId),
    /** The emulated functions reach this stack's ButterflyMX (honoured only in the emulator). */
    env: {
      BUTTERFLYMX_ACCOUNTS_ORIGIN: origin(ports.butterflymx.accounts),
      BUTTERFLYMX_API_ORIGIN_NA: origin(ports.butterflymx.na),
      BUTTERFLYMX_API_ORIGIN_EU: origin(ports.butterflymx.eu),
    },
    /** Builds the console for these emulators into the folder Hosting serves. */
    buildConsole: () =>
      buildConsole({
        outDir: join(ROOT, config.hosting.public),
        emulators: {
          projectId,
          auth: `http://${auth.host}:${auth.port}`,
          firestore: { host: firestore.host, port: firestore.port },
          functions: { host: functions.host, port: functions.port },
          devPanelOrigin: origin(ports.devPanel),
          demo: { email: DEMO.email, password: DEMO.password },
        },
      }),
    /**
     * Starts the local ButterflyMX and the developer server; once the emulators answer, seeds the demo resident.
     * Resolves when all is ready, to `{ close, reset }`.
     */
    async start() {
      const butterflymx = await startDemoButterflyMx(ports.butterflymx);
      const admin = emulatorAdmin(config, projectId);
      const devPanel = await startDevPanelServer({
        port: ports.devPanel,
        consoleOrigin: stack.consoleUrl.replace(/\/$/, ""),
        webhookUrl: `${stack.webhookBase}/${localSecrets().WEBHOOK_OPERATOR_SECRET}`,
        ...admin,
      });
      const close = () => Promise.all([butterflymx.fake.close(), devPanel.close()]);
      const seed = async () => {
        await seedDemo(admin);
        // The demo resident's webhook as linking would have left it at ButterflyMX (diagnose checks it there).
        butterflymx.fake.seedIntegration({ kind: "tenant", id: DEMO.tenantId }, `${stack.webhookBase}/${DEMO.webhookSecret}`);
      };
      try {
        await waitForWebhook(stack.webhookBase);
        await seed();
      } catch (error) {
        await close();
        throw error;
      }
      return {
        close,
        /** The demo resident as `start` left it: every document of the project and the local ButterflyMX reseeded. */
        async reset() {
          await clearFirestore(config, projectId);
          butterflymx.reset();
          await seed();
        },
      };
    },
  };
  return stack;
}

/**
 * Polls until the Functions emulator lists the webhook (its `/backends`): emulators up, functions loaded. Asking the
 * emulator, not the webhook, keeps a "request rejected" line out of every start.
 */
async function waitForWebhook(url) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  const backends = `${new URL(url).origin}/backends`;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(backends, { signal: AbortSignal.timeout(2000) });
      const listed = response.ok ? ((await response.json()).backends ?? []).flatMap((backend) => backend.functionTriggers ?? []) : [];
      if (listed.some((trigger) => trigger.entryPoint === "butterflymxWebhook")) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the webhook did not come up within ${READY_DEADLINE_MS / 1000} s at ${url}; see the emulator output above`);
}

/** Deletes every document of the project in the Firestore emulator (its own endpoint; Auth users stay). */
async function clearFirestore(config, projectId) {
  const { host, port } = config.emulators.firestore;
  const response = await fetch(`http://${host}:${port}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: "DELETE" });
  if (!response.ok) throw new Error(`clearing the Firestore emulator's ${projectId} answered HTTP ${response.status}`);
}
