import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";

// The deployed entry point is the compiled lib/index.js: each case loads it in a fresh Node process, as a
// Cloud Functions instance does, and reports which of our function modules it loaded.
const FUNCTIONS_DIR = join(__dirname, "..", "..");
const INDEX = join(FUNCTIONS_DIR, "lib", "index.js");

const DEPLOYED = {
  butterflymxWebhook: "webhook/butterflymx-webhook.function.js",
  onCallCreated: "calls/on-call-created.function.js",
  onCallUpdated: "calls/on-call-updated.function.js",
  ringTimeout: "calls/ring-timeout.function.js",
  registerDevice: "devices/register-device.function.js",
  unregisterDevice: "devices/unregister-device.function.js",
  signOut: "accounts/sign-out.function.js",
  linkButterflyMxAccount: "accounts/link-butterflymx-account.function.js",
  unlinkButterflyMxAccount: "accounts/unlink-butterflymx-account.function.js",
  updatePreferences: "accounts/update-preferences.function.js",
  releaseDoor: "doors/release-door.function.js",
  getCallHistory: "history/get-call-history.function.js",
  getAccessHistory: "history/get-access-history.function.js",
  acknowledgeDelivery: "calls/acknowledge-delivery.function.js",
  reconcileCalls: "calls/reconcile-calls.function.js",
  diagnose: "support/diagnose.function.js",
  deliveryHealth: "health/delivery-health.function.js",
  onUserDeleted: "accounts/on-user-deleted.function.js",
};

interface Loaded {
  names: string[];
  /** Per export read: its trigger kind and its minInstances (a param's name, or null). */
  endpoints: Record<string, { trigger?: string; minInstances: unknown; retry?: boolean }>;
  modules: string[];
  /** Whether zod was loaded. */
  zod: boolean;
}

/**
 * Each read as a fresh instance would do it (the runtime's FUNCTION_TARGET; "*" reads all, as discovery does; ""
 * none): with every module unloaded, require lib/index.js, then read. All reads run in one child process, which
 * empties Node's module cache before each, so that each starts as cold as a new instance.
 */
function loadAll(reads: string[]): Map<string, Loaded> {
  const script = `
    const results = {};
    for (const read of ${JSON.stringify(reads)}) {
      for (const file of Object.keys(require.cache)) delete require.cache[file];
      const index = require(${JSON.stringify(INDEX)});
      const names = Object.keys(index);
      const endpoints = {};
      for (const name of read === "*" ? names : read ? [read] : []) {
        const endpoint = index[name]?.__endpoint;
        if (endpoint) endpoints[name] = { trigger: Object.keys(endpoint).find((k) => k.endsWith("Trigger")), minInstances: endpoint.minInstances ?? null, retry: endpoint.eventTrigger?.retry };
      }
      const modules = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(join(FUNCTIONS_DIR, "lib"))}))
        .map((f) => f.slice(${JSON.stringify(join(FUNCTIONS_DIR, "lib").length + 1)}).replaceAll("\\\\", "/"));
      const zod = Object.keys(require.cache).some((f) => /[\\/]node_modules[\\/]zod[\\/]/.test(f));
      results[read] = { names, endpoints, modules, zod };
    }
    console.log(JSON.stringify(results));`;
  const env = { ...process.env, GCLOUD_PROJECT: "demo-intercom-relay", METADATA_SERVER_DETECTION: "none" };
  const results = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: FUNCTIONS_DIR, env }).toString()) as Record<string, Loaded>;
  return new Map(Object.entries(results));
}

let loaded: Map<string, Loaded>;
const load = (read: string): Loaded => {
  const result = loaded.get(read);
  if (!result) throw new Error(`read ${JSON.stringify(read)} was not loaded in beforeAll`);
  return result;
};

const functionModules = (loaded: Loaded) => loaded.modules.filter((m) => m.endsWith(".function.js"));

beforeAll(() => {
  const built = statSync(INDEX, { throwIfNoEntry: false });
  if (!built || built.mtimeMs < statSync(join(FUNCTIONS_DIR, "src", "index.ts")).mtimeMs) {
    throw new Error("lib/index.js is missing or older than src/index.ts: run `npm run build -w functions` first (npm test does)");
  }
  loaded = loadAll(["", "*", ...Object.keys(DEPLOYED)]);
});

describe("lib/index.js, the deployed entry point", () => {
  it("declares every deployed function without loading any of them", () => {
    const loaded = load("");
    expect(loaded.names).toEqual(Object.keys(DEPLOYED));
    expect(functionModules(loaded)).toEqual([]);
  });

  it("gives discovery, which reads every export, a deployable function for each name", () => {
    const loaded = load("*");
    expect(Object.keys(loaded.endpoints)).toEqual(Object.keys(DEPLOYED));
    expect(Object.values(loaded.endpoints).every(({ trigger }) => typeof trigger === "string")).toBe(true);
    expect(functionModules(loaded).sort()).toEqual(Object.values(DEPLOYED).sort());
  });

  it.each(Object.entries(DEPLOYED))("an instance serving %s loads that function's module only", (name, module) => {
    const loaded = load(name);
    expect(Object.keys(loaded.endpoints)).toEqual([name]);
    expect(functionModules(loaded)).toEqual([module]);
  });

  it("keeps CALL_MIN_INSTANCES warm instances of the webhook, which rings and stops, and of no other function", () => {
    const { endpoints } = load("*");
    const warm = Object.keys(endpoints).filter((name) => endpoints[name].minInstances !== null);
    expect(warm).toEqual(["butterflymxWebhook"]);
    for (const name of warm) expect(endpoints[name].minInstances).toBe("params.CALL_MIN_INSTANCES");
  });

  it("retries every event-driven function on failure (their work is idempotent; one failure must not leave a phone ringing)", () => {
    const { endpoints } = load("*");
    const eventDriven = Object.keys(endpoints).filter((name) => endpoints[name].trigger === "eventTrigger");
    expect(eventDriven).toEqual(["onCallCreated", "onCallUpdated", "onUserDeleted"]);
    for (const name of eventDriven) expect(endpoints[name].retry).toBe(true);
  });

  it("keeps the ButterflyMX client out of the ring and stop triggers, and loads the push clients on the webhook's first event, not at its start", () => {
    for (const trigger of ["onCallCreated", "onCallUpdated"]) {
      expect(load(trigger).modules).not.toContain("butterflymx/butterflymx-client.js");
    }
    const webhook = load("butterflymxWebhook").modules;
    expect(webhook).toEqual(expect.arrayContaining(["calls/ring-service.js", "calls/stop-service.js"]));
    expect(webhook).not.toContain("push/apns-client.js");
  });

  it("keeps zod out of the ring and stop triggers (about 50 ms of a cold start) and loads it where input is validated", () => {
    expect(load("onCallCreated").zod).toBe(false);
    expect(load("onCallUpdated").zod).toBe(false);
    expect(load("butterflymxWebhook").zod).toBe(true);
    expect(load("registerDevice").zod).toBe(true);
  });
});
