// `npm start`'s local ButterflyMX: the tests' fake (functions/test/fakes/butterflymx-fake.ts), compiled on the fly,
// holding the demo resident's account, a door to open and some history, so that door release and both histories
// work on the emulators without ButterflyMX credentials. The emulated functions reach it through
// BUTTERFLYMX_*_ORIGIN (honoured only in the emulator).
import { createRequire } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { DEMO } from "./demo-data.mjs";
import { localSecrets, ROOT, SetupError } from "./emulator-env.mjs";

const require = createRequire(import.meta.url);
const OUT = join(ROOT, ".emulators", "demo-butterflymx");
/** Ports of `npm start`'s ButterflyMX (the tests' fakes use 9745–9747, the browser suite's ButterflyMX 9765–9767). */
export const DEMO_BUTTERFLYMX_PORTS = { accounts: 9755, na: 9756, eu: 9757 };

export async function startDemoButterflyMx(ports = DEMO_BUTTERFLYMX_PORTS) {
  // Transpiled only (its types are checked with the tests'): esbuild takes milliseconds where tsc takes seconds.
  try {
    await build({ entryPoints: [join(ROOT, "functions/test/fakes/butterflymx-fake.ts")], outfile: join(OUT, "butterflymx-fake.js"), format: "cjs", platform: "node", target: "node20", logLevel: "error" });
  } catch (error) {
    throw new SetupError(`the local ButterflyMX did not compile: ${error.message}`);
  }
  process.env.BUTTERFLYMX_FAKE_CLIENT_SECRET = localSecrets().BUTTERFLYMX_CLIENT_SECRET;
  const { ButterflyMxFake } = require(join(OUT, "butterflymx-fake.js"));
  const fake = await ButterflyMxFake.start(ports);
  seedDemoAccount(fake);
  return {
    fake,
    /** Back to the demo account as it started: what a run did to it (door releases, token refreshes) is gone. */
    reset() {
      fake.reset();
      seedDemoAccount(fake);
    },
    env: {
      BUTTERFLYMX_ACCOUNTS_ORIGIN: fake.origins.accounts,
      BUTTERFLYMX_API_ORIGIN_NA: fake.origins.na,
      BUTTERFLYMX_API_ORIGIN_EU: fake.origins.eu,
    },
  };
}

/** The demo resident at ButterflyMX: account, tenancy, door, sign-in, and some call and access history. */
function seedDemoAccount(fake) {
  const unitId = String(DEMO.call.unit.id);
  fake.addUser({
    id: String(DEMO.bmxUserId),
    name: "Dana Resident",
    email: DEMO.email,
    region: "na",
    tenants: [{ id: DEMO.tenantId, unitId, unitLabel: DEMO.call.unit.label, buildingId: DEMO.buildingId, buildingName: DEMO.buildingName,
      panels: [String(DEMO.call.panel.id)], accessPoints: [DEMO.accessPointId], accessPointNames: { [DEMO.accessPointId]: DEMO.accessPointName } }],
  });
  fake.seedGrant(String(DEMO.bmxUserId), DEMO.bmxTokens);
  const ago = (minutes) => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
  fake.addCallLogs(String(DEMO.bmxUserId),
    { id: "880001", guid: "0d8c7f5e-1b2a-4c3d-9e8f-112233445566", loggedAt: ago(60 * 26), panelId: String(DEMO.call.panel.id), panelName: DEMO.call.panel.name, status: "connecting_sip" },
    { id: "880002", guid: "6a5b4c3d-2e1f-4a0b-8c7d-665544332211", loggedAt: ago(60 * 5), panelId: String(DEMO.call.panel.id), panelName: DEMO.call.panel.name, status: "timeout_online_signal" });
  const entry = (minutes, method, extra = {}) => ({ buildingId: DEMO.buildingId, logged_at: ago(minutes), access_point: Number(DEMO.accessPointId), release_status: "Unlocked",
    name: "Dana Resident", release_type: "Tenant", unit: Number(unitId), tenant_id: DEMO.tenantId, entry_method: method, image_url: null, ...extra });
  fake.addAccessLogs(entry(60 * 30, "Swipe to open"), entry(60 * 6, { access_tool: 8432576 }), entry(90, "Remote Doorman"));
}
