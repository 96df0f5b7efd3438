// The developer server's refusals (scripts/lib/dev-panel-server.mjs), through real HTTP, inside the emulators:
// another origin, no or a forged sign-in, a made-up token, another user's call, and each malformed play, each
// answered with what is wrong; then a play.
const ORIGIN = process.env.DEV_PANEL_ORIGIN;
const AUTH = process.env.FIREBASE_AUTH_EMULATOR_HOST;
const CONSOLE = process.env.CONSOLE_URL?.replace(/\/$/, "");
if (!ORIGIN || !AUTH || !CONSOLE) throw new Error("DEV_PANEL_ORIGIN, CONSOLE_URL and FIREBASE_AUTH_EMULATOR_HOST are set by `npm test` (scripts/console-suite.mjs) inside the emulators.");

let idToken: string;
beforeAll(async () => {
  const response = await fetch(`http://${AUTH}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-api-key`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "resident@example.com", password: "demo-password", returnSecureToken: true }),
  });
  idToken = ((await response.json()) as { idToken: string }).idToken;
  expect(idToken).toEqual(expect.any(String));
});

async function play(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: string; guid?: string } }> {
  const response = await fetch(`${ORIGIN}/play`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: CONSOLE!, authorization: `Bearer ${idToken}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

it("answers the console's origin only", async () => {
  const preflight = await fetch(`${ORIGIN}/play`, { method: "OPTIONS", headers: { origin: CONSOLE! } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get("access-control-allow-origin")).toBe(CONSOLE);
  const other = await play({ command: "call" }, { origin: "http://127.0.0.1:1" });
  expect(other).toEqual({ status: 403, body: { error: expect.stringContaining("is not the console's") } });
});

it("acts only for a signed-in user", async () => {
  await expect(play({ command: "call" }, { authorization: "" })).resolves.toEqual({ status: 401, body: { error: expect.stringContaining("sign in first") } });
  await expect(play({ command: "call" }, { authorization: "Bearer not-a-token" })).resolves.toMatchObject({ status: 401 });
});

/** An unsigned ID token, as the Auth emulator makes them, with these claims over sensible defaults. */
function madeUpToken(claims: Record<string, unknown>): string {
  const project = process.env.GCLOUD_PROJECT;
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = { iss: `https://securetoken.google.com/${project}`, aud: project, auth_time: now, iat: now, exp: now + 3600, ...claims };
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

it("refuses a made-up token: for a user the Auth emulator does not have, for another project, or expired", async () => {
  const now = Math.floor(Date.now() / 1000);
  for (const claims of [
    { sub: "nobody-such", user_id: "nobody-such" },
    { sub: "demo-resident", user_id: "demo-resident", aud: "another-project", iss: "https://securetoken.google.com/another-project" },
    { sub: "demo-resident", user_id: "demo-resident", iat: now - 7200, auth_time: now - 7200, exp: now - 3600 },
  ]) {
    await expect(play({ command: "call" }, { authorization: `Bearer ${madeUpToken(claims)}` })).resolves.toEqual({ status: 401, body: { error: expect.stringContaining("sign in first") } });
  }
});

it("plays statuses only on calls of the signed-in user's own ButterflyMX user", async () => {
  const firestore = process.env.FIRESTORE_EMULATOR_HOST;
  const project = process.env.GCLOUD_PROJECT;
  const guid = "0d6f9a52-7c1e-4b8a-9f3d-2a1b0c9d8e7f";
  const path = `http://${firestore}/v1/projects/${project}/databases/(default)/documents/calls/${guid}`;
  const written = await fetch(path, {
    method: "PATCH",
    headers: { "content-type": "application/json", authorization: "Bearer owner" },
    body: JSON.stringify({ fields: { guid: { stringValue: guid }, bmxUserId: { stringValue: "999" }, status: { stringValue: "ringing" }, recipients: { arrayValue: { values: [{ stringValue: "someone-else" }] } } } }),
  });
  expect(written.status).toBe(200);

  for (const guidPlayed of [guid, "1e2d3c4b-5a69-4788-9766-554433221100"]) {
    await expect(play({ command: "answer", guid: guidPlayed })).resolves.toEqual({ status: 404, body: { error: expect.stringContaining("of your ButterflyMX user") } });
  }
  const after = (await (await fetch(path, { headers: { authorization: "Bearer owner" } })).json()) as { fields: Record<string, { stringValue?: string; arrayValue?: { values: unknown[] } }> };
  expect(after.fields.status.stringValue).toBe("ringing");
  expect(after.fields.recipients.arrayValue?.values).toEqual([{ stringValue: "someone-else" }]);
});

it("names what is wrong with a play", async () => {
  await expect(play("{not json")).resolves.toEqual({ status: 400, body: { error: expect.stringContaining("JSON object") } });
  await expect(play({ command: "ring" })).resolves.toEqual({ status: 400, body: { error: expect.stringContaining("command must be one of call, duplicate, status, answer") } });
  await expect(play({ command: "answer" })).resolves.toEqual({ status: 400, body: { error: expect.stringContaining("guid must be a call's guid") } });
  await expect(play({ command: "answer", guid: "../calls" })).resolves.toMatchObject({ status: 400 });
  const guid = "6a5b4c3d-2e1f-4a0b-8c7d-665544332211";
  await expect(play({ command: "status", guid, status: "Bad Status!" })).resolves.toEqual({ status: 400, body: { error: expect.stringContaining("status must be") } });
  await expect(play({ command: "call", visitorImageUrl: "http://127.0.0.1/x.png" })).resolves.toEqual({ status: 400, body: { error: expect.stringContaining("visitorImageUrl must be an https URL") } });
  const missing = await fetch(`${ORIGIN}/nothing`, { headers: { origin: CONSOLE!, authorization: `Bearer ${idToken}` } });
  expect(missing.status).toBe(404);
});

it("plays a call for the signed-in user's ButterflyMX user", async () => {
  const answer = await play({ command: "call" });
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ guid: expect.stringMatching(/^[0-9a-f-]{36}$/), webhook: { status: 200, body: expect.objectContaining({ ok: true, status: "ringing" }) } });
});
