import { Firestore, Timestamp } from "firebase-admin/firestore";
import { CallDocument } from "../../src/calls/call-document";
import { handleWebhook, MAX_BODY_BYTES, WebhookDeps, WebhookRequest } from "../../src/webhook/webhook-service";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { createBody, statusBody } from "../helpers/butterflymx-payloads";
import { isolatedProjectId, snapshotDatabase, testFirestore, waitFor } from "../helpers/emulators";
import { captureLogs } from "../helpers/log-capture";
import { readCall } from "../helpers/fixtures";

const firestore = testFirestore(isolatedProjectId(__filename));
const db = firestore.db;
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const SECRET = newWebhookSecret();
const OPERATOR_SECRET = newWebhookSecret();

const deps = (overrides: Partial<WebhookDeps> = {}): WebhookDeps => ({
  db,
  operatorSecret: OPERATOR_SECRET,
  retentionDays: 30,
  now: () => NOW,
  ...overrides,
});

function request(body: unknown, overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    method: "POST",
    path: `/${SECRET}`,
    contentType: "application/json",
    rawBody: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
    ...overrides,
  };
}

const post = (body: unknown, overrides: Partial<WebhookRequest> = {}, depOverrides: Partial<WebhookDeps> = {}) =>
  handleWebhook(request(body, overrides), deps(depOverrides));

async function seed(database: Firestore = db): Promise<void> {
  await database.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({
    uid: "resident-1",
    tenantId: "tenant-1",
    bmxIntegrationId: "integration-1",
    bmxUserId: "3220259",
    region: "na",
    createdAt: Timestamp.fromMillis(NOW),
  });
  await database.doc("bmxUsers/3220259").set({ uids: ["resident-2", "resident-1"] });
}

beforeEach(async () => {
  await firestore.clear();
  await seed();
});
afterAll(() => firestore.close());

describe("butterflymxWebhook handler on the Firestore emulator", () => {
  it("records a create as a ringing call for every linked resident", async () => {
    const body = createBody({ visitor_snapshot: { w: 640 } });
    const response = await post(body);
    expect(response).toEqual({ status: 200, body: { ok: true, guid: body.guid, status: "ringing", duplicate: false } });
    const call = await readCall(db, body.guid as string);
    expect(call).toMatchObject({
      guid: body.guid,
      status: "ringing",
      bmxStatus: "initializing",
      recipients: ["resident-1", "resident-2"],
      bmxUserId: "3220259",
      panel: { id: "28516", name: "Front Door" },
      unit: { id: "1859622", label: "4B" },
      delivery: { state: "pending" },
      history: [{ event: "create", bmxStatus: "initializing", status: "ringing", applied: true, via: "tenant:tenant-1" }],
    });
    expect(call!.createdAt.toMillis()).toBe(NOW);
    expect(call!.expireAt.toMillis()).toBe(NOW + 30 * 86_400_000);
    const raw = (await db.doc(`calls/${body.guid}/raw/butterflymx`).get()).data();
    expect(JSON.parse(raw!.call)).toEqual(body);
    expect(raw!.expireAt).toEqual(call!.expireAt);
    expect(call).not.toHaveProperty("bmxCall");
  });

  it("applies a status update through the state machine", async () => {
    const body = createBody();
    await post(body);
    const response = await post(statusBody(body, "connecting_sip"));
    expect(response.body).toEqual({ ok: true, guid: body.guid, status: "answered", duplicate: false });
    expect(await readCall(db, body.guid as string)).toMatchObject({ status: "answered", bmxStatus: "connecting_sip", endReason: "butterflymx" });
  });

  it("answers a repeated delivery as a duplicate and leaves the document untouched", async () => {
    const body = createBody();
    await post(body);
    await post(statusBody(body, "canceled"));
    const before = await snapshotDatabase(db);
    const again = await post(body, {}, { now: () => NOW + 5000 });
    const againStatus = await post(statusBody(body, "canceled"), {}, { now: () => NOW + 6000 });
    expect(again.body).toEqual({ ok: true, guid: body.guid, status: "canceled", duplicate: true });
    expect(againStatus.body).toEqual({ ok: true, guid: body.guid, status: "canceled", duplicate: true });
    expect(await snapshotDatabase(db)).toEqual(before);
  });

  it("never rings a call whose status arrives before its create", async () => {
    const body = createBody();
    expect((await post(statusBody(body, "timeout_online_signal"))).body).toMatchObject({ status: "missed", duplicate: false });
    expect((await post(body)).body).toMatchObject({ status: "missed", duplicate: false });
    const call = await readCall(db, body.guid as string);
    expect(call).toMatchObject({ status: "missed", delivery: { state: "not_rung", reason: "ended_before_create" } });
    expect(call!.history.map((h) => `${h.event}:${h.applied}`)).toEqual(["status_update:true", "create:false"]);
  });

  it("keeps one call when identical deliveries race", async () => {
    const body = createBody();
    const responses = await Promise.all(Array.from({ length: 25 }, () => post(body)));
    expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(responses.filter((r) => r.body.ok && !r.body.duplicate)).toHaveLength(1);
    const calls = await db.collection("calls").get();
    expect(calls.docs.map((d) => d.id)).toEqual([body.guid]);
    expect((calls.docs[0].data() as CallDocument).history).toHaveLength(1);
  });

  it("converges on the terminal status when create and status updates race", async () => {
    const body = createBody();
    const deliveries = [body, statusBody(body, "canceled"), body, statusBody(body, "canceled"), statusBody(body, "initializing")];
    const responses = await Promise.all(deliveries.map((d) => post(d)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const call = await readCall(db, body.guid as string);
    expect(call).toMatchObject({ status: "canceled", bmxStatus: "canceled" });
    expect(call!.history).toHaveLength(3);
  });

  it("records a call for a ButterflyMX user nobody linked as undeliverable (operator integration)", async () => {
    const body = createBody({ user: { id: 999 } });
    const response = await post(body, { path: `/${OPERATOR_SECRET}` });
    expect(response.body).toMatchObject({ ok: true, status: "ringing" });
    expect(await readCall(db, body.guid as string)).toMatchObject({
      recipients: [],
      delivery: { state: "undeliverable", reason: "no_recipients" },
      history: [{ via: "operator" }],
    });
  });

  it("routes the operator integration through bmxUsers only", async () => {
    const body = createBody();
    await post(body, { path: `/butterflymxWebhook/${OPERATOR_SECRET}` });
    expect(await readCall(db, body.guid as string)).toMatchObject({ recipients: ["resident-1", "resident-2"] });
  });

  it("still rings the registration's owner when bmxUsers is malformed", async () => {
    await db.doc("bmxUsers/3220259").set({ uids: "resident-2" });
    const body = createBody();
    await post(body);
    expect(await readCall(db, body.guid as string)).toMatchObject({ recipients: ["resident-1"], delivery: { state: "pending" } });
  });

  it("stores an unknown status and ends ringing", async () => {
    const body = createBody();
    await post(body);
    expect((await post(statusBody(body, "some_new_status"))).body).toMatchObject({ ok: true, status: "ended" });
    expect(await readCall(db, body.guid as string)).toMatchObject({ status: "ended", bmxStatus: "some_new_status" });
  });

  it("files every spelling of a guid under its lowercase form", async () => {
    const body = createBody({ guid: "BA17520F-8768-4723-88F9-5EAA2C35171A" });
    const response = await post(body);
    expect(response.body).toMatchObject({ guid: "ba17520f-8768-4723-88f9-5eaa2c35171a" });
    const lower = await post({ ...body, guid: "ba17520f-8768-4723-88f9-5eaa2c35171a" });
    expect(lower.body).toMatchObject({ duplicate: true });
  });
});

describe("a resident's webhook URL speaks for that resident only", () => {
  const LEGACY_SECRET = newWebhookSecret();
  beforeEach(async () => {
    await db.doc("bmxUsers/999").set({ uids: ["victim"] });
    // Registered before registrations named their ButterflyMX user.
    await db.doc(`webhookRegistrations/${hashSecret(LEGACY_SECRET)}`).set({ uid: "resident-1", tenantId: "tenant-1" });
  });

  /** A call of the victim (ButterflyMX user 999), as the building-wide integration records it. */
  async function victimsCall() {
    const body = createBody({ user: { id: 999, email: "victim@example.com" } });
    expect((await post(body, { path: `/${OPERATOR_SECRET}` })).body).toMatchObject({ ok: true });
    return body;
  }

  it("refuses an event naming another ButterflyMX user: 403, nothing written, logged without the secret", async () => {
    const before = await snapshotDatabase(db);
    let response: Awaited<ReturnType<typeof post>> | undefined;
    const logged = await captureLogs(async () => {
      response = await post(createBody({ user: { id: 999 }, panel: { id: 1, name: "Made-up panel" } }));
    });
    expect(response).toEqual({
      status: 403,
      body: { ok: false, error: { code: "forbidden", message: "This webhook URL was registered for another ButterflyMX user; the event was not recorded." } },
    });
    expect(await snapshotDatabase(db)).toEqual(before);
    const line = logged.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === "webhook request rejected");
    expect(line).toMatchObject({ severity: "WARNING", httpStatus: 403, code: "forbidden", uid: "resident-1", reason: "other_user" });
    expect(logged).not.toContain(SECRET);
  });

  it("refuses to end, join or rewrite another user's call by its guid", async () => {
    const body = await victimsCall();
    const before = await snapshotDatabase(db);
    const forged = { ...body, user: { id: 3220259 } };
    for (const attempt of [forged, statusBody(forged, "canceled")]) {
      const response = await post(attempt);
      expect(response).toMatchObject({ status: 403, body: { ok: false, error: { code: "forbidden", message: expect.stringMatching(/belongs to another ButterflyMX user/) } } });
    }
    expect(await snapshotDatabase(db)).toEqual(before);
    expect(await readCall(db, body.guid as string)).toMatchObject({ status: "ringing", recipients: ["victim"] });
  });

  it("rings only the owner of a registration that names no ButterflyMX user, and touches only the owner's calls", async () => {
    const legacy = (b: unknown) => post(b, { path: `/${LEGACY_SECRET}` });
    const own = createBody({ user: { id: 999 } });
    expect((await legacy(own)).status).toBe(200);
    expect(await readCall(db, own.guid as string)).toMatchObject({ recipients: ["resident-1"] });

    const body = await victimsCall();
    const before = await snapshotDatabase(db);
    expect(await legacy(statusBody(body, "canceled"))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await snapshotDatabase(db)).toEqual(before);
  });

  it("lets the operator's URL speak for the whole building", async () => {
    const body = await victimsCall();
    const response = await post(statusBody(body, "connecting_sip"), { path: `/${OPERATOR_SECRET}` });
    expect(response.body).toMatchObject({ ok: true, status: "answered" });
  });
});

describe("rejected deliveries write nothing", () => {
  const valid = () => createBody();
  const cases: Array<[string, () => WebhookRequest, number, string, RegExp]> = [
    ["GET", () => request(valid(), { method: "GET" }), 405, "method_not_allowed", /Use POST; GET/],
    ["PUT", () => request(valid(), { method: "PUT" }), 405, "method_not_allowed", /PUT/],
    ["an unknown secret", () => request(valid(), { path: `/${newWebhookSecret()}` }), 404, "not_found", /No webhook is registered/],
    ["no secret", () => request(valid(), { path: "/" }), 404, "not_found", /No webhook/],
    ["a short secret", () => request(valid(), { path: "/abc" }), 404, "not_found", /No webhook/],
    ["a secret with extra segments", () => request(valid(), { path: `/x/${SECRET}` }), 404, "not_found", /No webhook/],
    ["a secret in the wrong case", () => request(valid(), { path: `/${SECRET.toUpperCase()}` }), 404, "not_found", /No webhook/],
    ["an unknown secret with a bad body", () => request("{", { path: `/${newWebhookSecret()}`, contentType: "text/plain" }), 404, "not_found", /No webhook/],
    [
      "an oversized body",
      () => request({ ...valid(), padding: "x".repeat(MAX_BODY_BYTES) }),
      413,
      "payload_too_large",
      /limit is 65536/,
    ],
    ["text/plain", () => request(valid(), { contentType: "text/plain" }), 415, "unsupported_media_type", /got "text\/plain"/],
    ["form encoding", () => request("guid=1", { contentType: "application/x-www-form-urlencoded" }), 415, "unsupported_media_type", /application\/json/],
    ["no content type", () => request(valid(), { contentType: undefined }), 415, "unsupported_media_type", /no Content-Type/],
    ["an empty body", () => request("", { rawBody: undefined }), 400, "invalid_json", /body is empty/],
    ["malformed JSON", () => request('{"guid": '), 400, "invalid_json", /not valid JSON/],
    ["a JSON array", () => request([valid()]), 400, "invalid_delivery", /\(body\) must be a JSON object/],
    ["JSON null", () => request("null"), 400, "invalid_delivery", /must be a JSON object/],
    ["a missing guid", () => request({ ...valid(), guid: undefined }), 400, "invalid_delivery", /guid is required/],
    ["a bad user id", () => request({ ...valid(), user: { id: "a/b" } }), 400, "invalid_delivery", /user\.id must be/],
    ["a user id Firestore reserves", () => request({ ...valid(), user: { id: "__x__" } }), 400, "invalid_delivery", /user\.id must not be of the form __name__/],
    [
      "an unknown field nested thousands of levels deep",
      () => request(`{"guid":"${valid().guid}","user":{"id":1},"panel":{"id":1,"name":"p"},"unit":{"id":1,"label":"u"},"extra":${"[".repeat(20_000)}${"]".repeat(20_000)}}`),
      400,
      "invalid_delivery",
      /extra\.0\.0(\.0)*… nests deeper than 16 levels/,
    ],
    ["a status update without status", () => request({ call: valid() }), 400, "invalid_delivery", /status is required/],
  ];

  it.each(cases)("%s", async (_name, make, status, code, message) => {
    const before = await snapshotDatabase(db);
    const response = await handleWebhook(make(), deps());
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ ok: false, error: { code } });
    if (response.body.ok) throw new Error("expected an error");
    expect(response.body.error.message).toMatch(message);
    expect(await snapshotDatabase(db)).toEqual(before);
  });

  it("names every invalid field in the answer", async () => {
    const response = await post({ guid: "nope", user: { id: 0 }, panel: { id: 1 }, unit: { id: 2, label: "" } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      ok: false,
      error: {
        code: "invalid_delivery",
        fields: [
          { field: "guid", message: "must be a UUID" },
          { field: "user.id", message: expect.stringMatching(/positive integer/) },
          { field: "panel.name", message: "is required" },
          { field: "unit.label", message: "must not be empty" },
        ],
      },
    });
    expect(await db.collection("calls").get()).toHaveProperty("size", 0);
  });

  it("answers 405 with an Allow header", async () => {
    expect((await post(valid(), { method: "DELETE" })).headers).toEqual({ Allow: "POST" });
  });

  it("refuses a registration document without a uid", async () => {
    await db.doc(`webhookRegistrations/${hashSecret(SECRET)}`).set({ tenantId: "tenant-1" });
    expect((await post(valid())).status).toBe(404);
    expect(await db.collection("calls").get()).toHaveProperty("size", 0);
  });

  it("ignores an operator secret shorter than 32 characters", async () => {
    const response = await post(valid(), { path: "/short-operator-secret-0123456789" }, { operatorSecret: "short-operator-secret-012345678" });
    expect(response.status).toBe(404);
  });
});

describe("when Firestore fails", () => {
  // The emulator checks a token it does not know against the rules, which deny it: a real Firestore refusal,
  // as with a misconfigured service account. The client retries reads for several seconds before giving up;
  // the generous budget lets that failure (not the deadline) end the request, so no work outlives the test.
  const refusing = testFirestore(firestore.projectId);
  refusing.db.settings({ customHeaders: { Authorization: "Bearer not-an-admin" } });
  const refusingDeps = () => deps({ db: refusing.db, firestoreBudgetMs: 60_000 });
  afterAll(() => refusing.close());

  it("answers 503 when the registration lookup fails, so that ButterflyMX may retry", async () => {
    const response = await handleWebhook(request(createBody()), refusingDeps());
    expect(response).toMatchObject({ status: 503, headers: { "Retry-After": "1" }, body: { ok: false, error: { code: "unavailable" } } });
  }, 60_000);

  it("answers 503 when recording fails after authentication succeeded", async () => {
    const before = await snapshotDatabase(db);
    const response = await handleWebhook(request(createBody(), { path: `/${OPERATOR_SECRET}` }), refusingDeps());
    expect(response).toMatchObject({ status: 503, body: { ok: false, error: { code: "unavailable" } } });
    expect(await snapshotDatabase(db)).toEqual(before);
  }, 60_000);

  it("answers 503 instead of waiting past its time budget", async () => {
    const body = createBody();
    const response = await handleWebhook(request(body, { path: `/${OPERATOR_SECRET}` }), deps({ firestoreBudgetMs: 0 }));
    expect(response).toMatchObject({ status: 503, body: { ok: false, error: { code: "unavailable" } } });
    // The abandoned work still finishes (it is what creates the call here): the retry ButterflyMX sends is then a
    // harmless duplicate. Waiting for it also keeps that work from outliving this file's Firestore client.
    await waitFor(async () => (await db.doc(`calls/${body.guid}`).get()).exists || undefined, "the abandoned delivery's call");
    const retry = await post(body, { path: `/${OPERATOR_SECRET}` });
    expect(retry.body).toMatchObject({ ok: true, guid: body.guid, duplicate: true });
  });
});
