import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../../src/config";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { allDocumentPaths, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore, waitFor } from "../helpers/emulators";
import { readCall } from "../helpers/fixtures";

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
      const data = await readCall(db, body.guid as string);
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
    expect(await readCall(db, body.guid as string)).toMatchObject({ status: "answered", bmxStatus: "connecting_sip" });
  });

  it("accepts the operator's building-wide secret", async () => {
    const body = createBody();
    const response = await post(body, { secret: operatorSecret() });
    expect(response.status).toBe(200);
    const call = await readCall(db, body.guid as string);
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

  describe("hostile HTTP (fast-check): headers, methods, content types, encodings and sizes, through the framework", () => {
    const HEADER_NAME = fc.constantFrom("x-forwarded-for", "x-butterflymx-signature", "accept", "user-agent", "x-request-id", "cookie", "authorization", "content-language");
    const HEADER_VALUE = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 100 });
    const BODY = fc.oneof(
      fc.constant(JSON.stringify(createBody())),
      fc.constant(JSON.stringify(createBody()).slice(0, 40)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(0, 65_535, 65_537, 300_000).map((size) => JSON.stringify({ ...createBody(), padding: "x".repeat(size) })),
    );
    const ENCODING = fc.constantFrom("none", "gzip", "deflate", "gzip-garbage", "br-garbage", "x-unknown");

    it("never answers 5xx, writes nothing unless it answers 200, and every 4xx says what is wrong", async () => {
      const valid = JSON.stringify(createBody());
      const request = (method: string, contentType: string | undefined, encoding: string, body: string) => ({ method, contentType, encoding, headers: {}, body });
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            method: fc.constantFrom("POST", "POST", "POST", "PUT", "PATCH", "DELETE", "GET", "OPTIONS"),
            contentType: fc.option(
              fc.constantFrom("application/json", "application/json; charset=utf-8", "application/json; charset=latin1", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream", "application/json, text/plain", "json"),
              { nil: undefined },
            ),
            encoding: ENCODING,
            headers: fc.dictionary(HEADER_NAME, HEADER_VALUE, { maxKeys: 4 }),
            body: BODY,
          }),
          async ({ method, contentType, encoding, headers, body }) => {
            const before = await allDocumentPaths(db);
            const payload = encode(Buffer.from(body), encoding);
            const response = await fetch(`${webhookBase}/${SECRET}`, {
              method,
              headers: {
                ...headers,
                ...(contentType ? { "content-type": contentType } : {}),
                ...(encoding === "none" ? {} : { "content-encoding": encoding.replace(/-garbage$/, "") }),
              },
              body: method === "GET" ? undefined : payload,
            });
            const text = await response.text();
            statuses.add(response.status);
            expect(response.status).toBeLessThan(500);
            if (response.status === 200) {
              expect(JSON.parse(text)).toMatchObject({ ok: true, guid: expect.any(String) });
              return;
            }
            expect(response.status).toBeGreaterThanOrEqual(400);
            // Our own answers name the problem in JSON; the framework's own 4xx (a body it could not decode) in text.
            if (/^application\/json/.test(response.headers.get("content-type") ?? "")) {
              expect(JSON.parse(text)).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } });
            } else {
              expect(text.length).toBeGreaterThan(0);
            }
            expect(await allDocumentPaths(db)).toEqual(before);
          },
        ),
        {
          numRuns: 80,
          // Run first, so that every kind of answer is met whatever the random cases turn out to be.
          examples: [
            [request("POST", "application/json", "gzip", valid)],
            [request("POST", "application/json", "none", JSON.stringify({ ...createBody(), padding: "x".repeat(300_000) }))],
            [request("POST", "application/json", "gzip-garbage", valid)],
            [request("POST", "application/json", "br-garbage", valid)],
            [request("POST", "application/json; charset=latin1", "none", valid)],
            [request("POST", "text/plain", "none", valid)],
            [request("OPTIONS", undefined, "none", "")],
            [request("POST", "application/json", "none", '{"guid": ')],
          ],
        },
      );
      expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 400, 405, 413, 415]));
    }, 120_000);
  });
});

function encode(body: Buffer, encoding: string): Buffer {
  if (encoding === "gzip") return gzipSync(body);
  if (encoding === "deflate") return deflateSync(body);
  if (encoding.endsWith("-garbage")) return Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), body]);
  return body;
}
