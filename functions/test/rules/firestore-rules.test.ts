import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  RulesTestContext,
  RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, orderBy, query, setDoc, updateDoc, where, writeBatch } from "firebase/firestore";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { emulatorHost, isolatedProjectId } from "../helpers/emulators";

const OWNER = "resident-1";
const OTHER = "resident-2";

let env: RulesTestEnvironment;

beforeAll(async () => {
  const [host, port] = emulatorHost("FIRESTORE_EMULATOR_HOST").split(":");
  env = await initializeTestEnvironment({
    projectId: isolatedProjectId(__filename),
    firestore: { host, port: Number(port), rules: readFileSync(join(__dirname, "../../../firestore.rules"), "utf8") },
  });
});

/** What every test starts from, written with the rules off. */
const SEED: Array<[string, Record<string, unknown>]> = [
  [`users/${OWNER}`, { preferences: { doNotDisturb: false } }],
  [`users/${OWNER}/devices/phone`, { platform: "android", fcmToken: "t" }],
  ["calls/call-1", { recipients: [OWNER], status: "ringing", createdAt: new Date() }],
  ["calls/call-1/deliveries/phone", { uid: OWNER, outcome: "sent" }],
  ["calls/call-2", { recipients: [OTHER], status: "ringing", createdAt: new Date() }],
  ["calls/call-3", { recipients: [OWNER, OTHER], status: "ringing", createdAt: new Date() }],
  ["calls/call-3/deliveries/other-phone", { uid: OTHER, outcome: "sent" }],
  ["calls/call-1/raw/butterflymx", { call: JSON.stringify({ user: { email: "dana@example.com" } }) }],
  ["accessLogs/log-1", { uid: OWNER, result: "released" }],
  ["bmxUsers/3220259", { uids: [OWNER] }],
  ["webhookRegistrations/abc", { uid: OWNER, tenantId: "t" }],
  [`oauthGrants/${OWNER}`, { accessToken: "secret" }],
  ["pushOutbox/p1", { guid: "call-1", token: "t" }],
  ["healthIncidents/apns-credentials", { provider: "apns", kind: "credentials", state: "open" }],
  ["buildingWebhooks/b-1", { integrationId: "1001", actions: ["create"] }],
  [`quotas/${OWNER}:releaseDoor`, { used: 1 }],
  [`deletedUsers/${OTHER}`, { deletedAt: new Date() }],
];

beforeEach(async () => {
  await env.clearFirestore();
  await env.withSecurityRulesDisabled(async (admin) => {
    const batch = writeBatch(admin.firestore());
    for (const [path, data] of SEED) batch.set(doc(admin.firestore(), path), data);
    await batch.commit();
  });
});

afterAll(() => env.cleanup());

type Role = "owner" | "other" | "anonymous";
const contexts = new Map<Role, RulesTestContext>();
/** One client per role for the whole file: a client costs more to start than the checks it makes. */
const context = (role: Role): RulesTestContext => {
  if (!contexts.has(role)) {
    contexts.set(role, role === "owner" ? env.authenticatedContext(OWNER) : role === "other" ? env.authenticatedContext(OTHER) : env.unauthenticatedContext());
  }
  return contexts.get(role)!;
};

/** Readable by [owner, other, anonymous]. Nobody writes any of them from a client. */
const documents: Array<[string, [boolean, boolean, boolean]]> = [
  [`users/${OWNER}`, [true, false, false]],
  [`users/${OWNER}/devices/phone`, [true, false, false]],
  ["calls/call-1", [true, false, false]],
  ["calls/call-1/deliveries/phone", [true, false, false]],
  ["calls/call-3/deliveries/other-phone", [false, true, false]],
  // The raw ButterflyMX object (names, email, SIP user) is server-only, even for the call's recipients.
  ["calls/call-1/raw/butterflymx", [false, false, false]],
  ["accessLogs/log-1", [true, false, false]],
  ["bmxUsers/3220259", [false, false, false]],
  ["webhookRegistrations/abc", [false, false, false]],
  [`oauthGrants/${OWNER}`, [false, false, false]],
  ["pushOutbox/p1", [false, false, false]],
  ["healthIncidents/apns-credentials", [false, false, false]],
  ["buildingWebhooks/b-1", [false, false, false]],
  [`quotas/${OWNER}:releaseDoor`, [false, false, false]],
  [`deletedUsers/${OTHER}`, [false, false, false]],
  ["somethingElse/x", [false, false, false]],
];
const roles: Role[] = ["owner", "other", "anonymous"];

describe.each(documents)("%s", (path, readable) => {
  it.each(roles.map((role, i) => [role, readable[i]] as const))("%s may read: %s", async (role, allowed) => {
    const read = getDoc(doc(context(role).firestore(), path));
    await (allowed ? assertSucceeds(read) : assertFails(read));
  });

  it.each(roles)("%s may not create, update or delete it", async (role) => {
    const db = context(role).firestore();
    await assertFails(setDoc(doc(db, path), { status: "answered", recipients: [OWNER, OTHER], uid: OWNER }));
    await assertFails(updateDoc(doc(db, path), { status: "answered" }));
    await assertFails(deleteDoc(doc(db, path)));
  });
});

describe("creating new documents", () => {
  it.each(roles)("%s may not create a call, a device, a registration or a link", async (role) => {
    const db = context(role).firestore();
    await assertFails(setDoc(doc(db, "calls/new-call"), { recipients: [OWNER, OTHER], status: "ringing" }));
    await assertFails(setDoc(doc(db, `users/${OWNER}/devices/new`), { platform: "ios", voipToken: "x" }));
    await assertFails(setDoc(doc(db, "webhookRegistrations/new"), { uid: OWNER, tenantId: "t" }));
    await assertFails(setDoc(doc(db, "bmxUsers/1"), { uids: [OWNER] }));
    await assertFails(setDoc(doc(db, `oauthGrants/${OTHER}`), { accessToken: "x" }));
  });
});

describe("my calls, newest first", () => {
  it("a resident lists the calls they are a recipient of", async () => {
    const db = context("owner").firestore();
    const mine = await assertSucceeds(
      getDocs(query(collection(db, "calls"), where("recipients", "array-contains", OWNER), orderBy("createdAt", "desc"))),
    );
    expect(mine.docs.map((d) => d.id).sort()).toEqual(["call-1", "call-3"]);
  });

  it("nobody lists calls without restricting the query to their own", async () => {
    await assertFails(getDocs(collection(context("owner").firestore(), "calls")));
    await assertFails(getDocs(query(collection(context("other").firestore(), "calls"), where("recipients", "array-contains", OWNER))));
    await assertFails(getDocs(query(collection(context("anonymous").firestore(), "calls"), where("recipients", "array-contains", OWNER))));
  });

  it("a resident lists only their own devices", async () => {
    await assertSucceeds(getDocs(collection(context("owner").firestore(), `users/${OWNER}/devices`)));
    await assertFails(getDocs(collection(context("other").firestore(), `users/${OWNER}/devices`)));
  });
});
