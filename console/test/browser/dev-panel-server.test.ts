// The developer server's refusals (scripts/lib/dev-panel-server.mjs), through real HTTP, inside the emulators:
// another origin, no or a forged sign-in, and each malformed play, each answered with what is wrong; then a play.
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
