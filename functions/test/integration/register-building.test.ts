import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { testFirestore } from "../helpers/emulators";

/**
 * `npm run register-building` as an operator runs it, against the local ButterflyMX (v4 building integrations,
 * operator token). Building-wide deliveries are routed by user id / email; the command only records what it
 * registered (`buildingWebhooks`) in the project's Firestore, here the emulator's.
 */
const run = promisify(execFile);
const SCRIPT = join(__dirname, "../../../scripts/register-building.mjs");
const OPERATOR_TOKEN = "operator-token-for-building-b9";
const SECRET = "operator-secret-register-building-test-0123456789";
let fake: ButterflyMxFake;
/** The project the command names: it keeps what it registered there. */
const firestore = testFirestore("acme-prod");

const register = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [SCRIPT, ...args], {
    env: { ...process.env, BUTTERFLYMX_OPERATOR_TOKEN: OPERATOR_TOKEN, WEBHOOK_OPERATOR_SECRET: SECRET, BUTTERFLYMX_API_ORIGIN: fake.origins.na, ...env },
  });

beforeAll(async () => {
  fake = await ButterflyMxFake.start();
  fake.addOperatorToken(OPERATOR_TOKEN, ["b9"]);
});
afterAll(() => Promise.all([fake.close(), firestore.close()]));

describe("register-building", () => {
  jest.setTimeout(60_000);

  it("registers once, reuses it, replaces it after a secret rotation, and removes it", async () => {
    const first = await register(["--building", "b9", "--project", "acme-prod"]);
    expect(first.stdout).toMatch(/integration \d+ created/);
    const [integration] = fake.integrationsOf({ kind: "building", id: "b9" });
    expect(integration.url).toBe(`https://us-central1-acme-prod.cloudfunctions.net/butterflymxWebhook/${SECRET}`);
    expect(integration.bindings).toEqual([{ actions: ["create", "status_update"], resource_type: "call" }]);

    expect((await register(["--building", "b9", "--project", "acme-prod"])).stdout).toMatch(/reused; 0 older/);
    expect(fake.integrationsOf({ kind: "building", id: "b9" })).toHaveLength(1);

    const rotated = "rotated-operator-secret-register-building-0123456789";
    expect((await register(["--building", "b9", "--project", "acme-prod"], { WEBHOOK_OPERATOR_SECRET: rotated })).stdout).toMatch(/created; 1 older/);
    expect(fake.integrationsOf({ kind: "building", id: "b9" }).map((i) => i.url)).toEqual([
      `https://us-central1-acme-prod.cloudfunctions.net/butterflymxWebhook/${rotated}`,
    ]);

    expect((await register(["--building", "b9", "--project", "acme-prod", "--remove"])).stdout).toMatch(/Removed 1 integration/);
    expect(fake.integrationsOf({ kind: "building", id: "b9" })).toEqual([]);
  });

  it("speaks v4 as its spec does (plain JSON bodies, page/per lists), and binds create alone when ButterflyMX refuses status_update", async () => {
    fake.addOperatorToken(OPERATOR_TOKEN, ["b9", "b11"]);
    fake.buildingRefusesStatusUpdate = true;
    const result = await register(["--building", "b11", "--project", "acme-prod"]);
    expect(result.stdout).toMatch(/integration \d+ created/);
    expect(result.stdout).toContain("bound it to `create` alone");
    expect(fake.integrationsOf({ kind: "building", id: "b11" }).map((i) => i.bindings)).toEqual([[{ actions: ["create"], resource_type: "call" }]]);
    const calls = fake.requests.filter((r) => r.path.startsWith("/v4/buildings/b11/integrations"));
    expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v4/buildings/b11/integrations?page=1&per=100",
      "POST /v4/buildings/b11/integrations",
      "POST /v4/buildings/b11/integrations",
    ]);
    expect(calls.filter((r) => r.method === "POST").map((r) => r.contentType)).toEqual(["application/json", "application/json"]);
    // Kept in the project's Firestore for the building view, without the operator secret.
    const recorded = (await firestore.db.doc("buildingWebhooks/b11").get()).data();
    expect(recorded).toMatchObject({ actions: ["create"], webhookBaseUrl: "https://us-central1-acme-prod.cloudfunctions.net/butterflymxWebhook" });
    expect(JSON.stringify(recorded)).not.toContain(SECRET);
    await register(["--building", "b11", "--project", "acme-prod", "--remove"]);
    expect((await firestore.db.doc("buildingWebhooks/b11").get()).exists).toBe(false);
  });

  it("names what is missing or wrong, and reports ButterflyMX's refusal", async () => {
    const usage = await register(["--region", "mars"], { WEBHOOK_OPERATOR_SECRET: "" }).catch((e: { code: number; stderr: string }) => e);
    expect(usage).toMatchObject({ code: 2 });
    const stderr = (usage as { stderr: string }).stderr;
    for (const problem of ["--building is required", "--project or --url is required", "--region must be na or eu", "WEBHOOK_OPERATOR_SECRET must be set"]) {
      expect(stderr).toContain(problem);
    }

    // Long enough, but with characters a URL segment cannot carry as-is: the webhook would answer 404 forever.
    const unsafe = await register(["--building", "b9", "--project", "acme-prod"], { WEBHOOK_OPERATOR_SECRET: "operator secret with spaces/and+slashes=0123456789" }).catch((e: { code: number; stderr: string }) => e);
    expect(unsafe).toMatchObject({ code: 1 });
    expect((unsafe as { stderr: string }).stderr).toContain("32 to 256 URL-safe characters");
    expect(fake.integrationsOf({ kind: "building", id: "b9" })).toEqual([]);

    const refused = await register(["--building", "b10", "--project", "acme-prod"]).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toContain("not allowed on building b10");
  });
});
