import fc from "fast-check";
import { Firestore } from "firebase-admin/firestore";
import { callFunction, signUp } from "../helpers/callables";
import { allDocumentVersions, FUNCTIONS_PROJECT_ID, testFirestore } from "../helpers/emulators";

/**
 * Every callable, through the emulated functions, with inputs fast-check makes up: arbitrary JSON, and records with
 * the callable's own field names holding values of every shape (dates Firestore cannot store, long strings, numbers
 * out of range). No input may answer 5xx, and a refused input may write nothing.
 */
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;

/** Each callable's input fields (all optional here: leaving one out is part of the fuzz). */
const FIELDS: Record<string, string[]> = {
  registerDevice: ["deviceId", "platform", "fcmToken", "voipToken", "apnsEnvironment", "bundleId", "appVersion", "locale"],
  unregisterDevice: ["deviceId"],
  signOut: ["deviceId"],
  linkButterflyMxAccount: ["code", "codeVerifier", "redirectUri", "takeOver"],
  unlinkButterflyMxAccount: [],
  updatePreferences: ["doNotDisturb", "contactPreference"],
  releaseDoor: ["requestId", "callGuid", "tenantId", "accessPointId"],
  getCallHistory: ["limit", "cursor", "from", "to"],
  getAccessHistory: ["limit", "cursor", "from", "to"],
  acknowledgeDelivery: ["guid", "deviceId", "event"],
  diagnose: ["calls"],
};

// The values that once broke something, or come close to valid, weigh as much as all the others together.
/** Inputs tried first, every run: each once answered 500. */
const OUT_OF_RANGE = [
  { from: "0000-01-01T00:00:00Z" },
  { to: "9999-12-31T23:59:30Z" },
  { cursor: Buffer.from(JSON.stringify([1e20, "x"])).toString("base64url") },
];
const EXAMPLES: Record<string, unknown[]> = { getCallHistory: OUT_OF_RANGE, getAccessHistory: OUT_OF_RANGE };

const VALUE = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
  { weight: 6, arbitrary: fc.constantFrom(
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "2026-11-28T12:00:00Z",
    "",
    "x".repeat(600),
    "android",
    "ios",
    "production",
    "received",
    "mobile_app",
    "6f1c1e2a-3b4c-4d5e-8f90-a1b2c3d4e5f6",
    Buffer.from(JSON.stringify([1e20, "x"])).toString("base64url"),
    "https://app.example.com/callback",
  ) },
);
const input = (fields: string[]) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fields.length > 0 ? fc.record(Object.fromEntries(fields.map((f) => [f, VALUE])), { requiredKeys: [] }) : fc.constant({}),
    fc.dictionary(fc.constantFrom(...fields, "page", "uid", "__proto__"), VALUE, { maxKeys: 4 }),
  );

/**
 * Every document with its update time: what a refused call must leave as it was. Left out: calls (the ring timeouts
 * of calls other files made may still end them meanwhile, and the fuzzing user receives no call, so no callable
 * acting for them may touch one) and the per-user quotas (every valid request counts, refused or not).
 */
async function versions(database: Firestore): Promise<Record<string, string>> {
  const all = await allDocumentVersions(database);
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.startsWith("calls/") && !path.startsWith("quotas/")));
}

afterAll(() => firestore.close());

describe("every callable, with made-up input", () => {
  it.each(Object.keys(FIELDS))("%s never answers 5xx, and writes nothing when it refuses", async (name) => {
    const { idToken } = await signUp(`fuzz-${name}-${Date.now()}@example.com`);
    await fc.assert(
      fc.asyncProperty(input(FIELDS[name]), async (data) => {
        const before = await versions(db);
        const answer = await callFunction(name, data, idToken);
        expect(answer.status).toBeLessThan(500);
        if (answer.status !== 200) {
          expect(answer.body.error?.message).toEqual(expect.any(String));
          expect(await versions(db)).toEqual(before);
        }
      }),
      { numRuns: 20, examples: (EXAMPLES[name] ?? []).map((example) => [example]) },
    );
  }, 120_000);
});

describe("a user's quota on a callable that reaches ButterflyMX", () => {
  it("answers resource-exhausted with the seconds to wait past USER_REQUESTS_PER_MINUTE (30) a minute, for that callable only", async () => {
    const { idToken } = await signUp(`quota-${Date.now()}@example.com`);
    for (let i = 0; i < 30; i++) expect((await callFunction("diagnose", {}, idToken)).status).toBeLessThan(429);
    const refused = await callFunction("diagnose", {}, idToken);
    expect(refused).toMatchObject({ status: 429, body: { error: { status: "RESOURCE_EXHAUSTED", details: { retryAfterSeconds: expect.any(Number) } } } });
    expect((await callFunction("updatePreferences", { doNotDisturb: false }, idToken)).status).toBe(200);
  }, 60_000);
});
