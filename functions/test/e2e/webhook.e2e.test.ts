import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { hashSecret, newWebhookSecret } from "../../src/webhook/webhook-secrets";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { allDocumentPaths, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";

// The emulated functions' own project: documents written here are what the deployed code reads and writes.
const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
const db = firestore.db;
const SECRET = newWebhookSecret();
let webhookBase: string;

/** The operator secret the emulated functions were given (functions/.secret.local, created by the scripts). */
function operatorSecret(): string {
  const file = readFileSync(join(__dirname, "../../.secret.local"), "utf8");
  const value = /^WEBHOOK_OPERATOR_SECRET=(.*)$/m.exec(file)?.[1] ?? "";
  if (value.length < 32) throw new Error("functions/.secret.local must hold a WEBHOOK_OPERATOR_SECRET of 32+ characters");
  return value;
}

const post = (body: unknown, options: { secret?: string; contentType?: string; method?: string; raw?: string } = {}) =>
  fetch(`${webhookBase}/${options.secret ?? SECRET}`, {
    method: options.method ?? "POST",
    headers: { "content-type": options.contentType ?? "application/json" },
    body: options.method === "GET" ? undefined : (options.raw ?? JSON.stringify(body)),
  });

beforeAll(async () => {
  webhookBase = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook`;
  await firestore.clear();
  await db.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({
    uid: "e2e-resident",
    tenantId: "e2e-tenant",
    bmxIntegrationId: "e2e-integration",
    region: "na",
    createdAt: Timestamp.now(),
  });
  await db.doc("bmxUsers/3220259").set({ uids: ["e2e-resident"] });
});
afterAll(() => firestore.close());

describe("butterflymxWebhook in the functions emulator", () => {
  it("turns a create and a status update into the documented call document", async () => {
    const body = createBody({ image_url: "https://s3.example.com/visitor.jpg" });
    const created = await post(body);
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ ok: true, guid: body.guid, status: "ringing", duplicate: false });

    // The resident has no device: once the ring trigger has looked, the call says so.
    const call = await waitFor(async () => {
      const data = (await db.doc(`calls/${body.guid}`).get()).data();
      return data?.delivery.state === "undeliverable" ? data : undefined;
    }, "the call document after the ring trigger");
    expect(call).toMatchObject({
      status: "ringing",
      bmxStatus: "initializing",
      recipients: ["e2e-resident"],
      panel: { name: "Front Door" },
      unit: { label: "4B" },
      visitorImageUrl: "https://s3.example.com/visitor.jpg",
      delivery: { state: "undeliverable", reason: "no_devices", recipients: { "e2e-resident": "no_devices" } },
    });

    const answered = await post(statusBody(body, "connecting_sip"));
    expect(await answered.json()).toEqual({ ok: true, guid: body.guid, status: "answered", duplicate: false });
    const duplicate = await post(body);
    expect(await duplicate.json()).toMatchObject({ duplicate: true, status: "answered" });
    expect((await db.doc(`calls/${body.guid}`).get()).data()).toMatchObject({ status: "answered", bmxStatus: "connecting_sip" });
  });

  it("accepts the operator's building-wide secret", async () => {
    const body = createBody();
    const response = await post(body, { secret: operatorSecret() });
    expect(response.status).toBe(200);
    const call = (await db.doc(`calls/${body.guid}`).get()).data();
    expect(call).toMatchObject({ recipients: ["e2e-resident"], history: [{ via: "operator" }] });
  });

  describe("rejects bad requests over HTTP and writes nothing", () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ["GET", () => post(undefined, { method: "GET" }), 405, "method_not_allowed"],
      ["an unknown secret", () => post(createBody(), { secret: newWebhookSecret() }), 404, "not_found"],
      ["text/plain", () => post(createBody(), { contentType: "text/plain" }), 415, "unsupported_media_type"],
      ["an oversized body", () => post({ ...createBody(), padding: "x".repeat(70_000) }), 413, "payload_too_large"],
      ["a missing field", () => post({ ...createBody(), panel: undefined }), 400, "invalid_delivery"],
    ];

    it.each(cases)("%s", async (_name, send, status, code) => {
      const before = await allDocumentPaths(db);
      const response = await send();
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ ok: false, error: { code } });
      expect(await allDocumentPaths(db)).toEqual(before);
    });

    it("malformed JSON never reaches the function: the framework answers 400 itself", async () => {
      const before = await allDocumentPaths(db);
      const response = await post(undefined, { raw: '{"guid": ' });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/JSON/);
      expect(await allDocumentPaths(db)).toEqual(before);
    });
  });
});
