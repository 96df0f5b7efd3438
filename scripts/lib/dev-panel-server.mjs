// The console's developer server, emulators only (`npm start` and the browser tests run it; nothing of it is
// deployed). The deployed webhook has CORS off and `pushOutbox` is server-only, so the console's developer panel
// reaches them here instead: this server posts ButterflyMX deliveries to the webhook through the building-wide
// (operator) URL and streams the outbox with admin access to the emulators. It listens on loopback, answers only
// the console's origin, and acts only for a signed-in user (an Auth emulator ID token) who is linked, on calls of
// their own ButterflyMX user.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { callObject, STATUS_COMMANDS, statusUpdate } from "./butterflymx-deliveries.mjs";
import { DEMO } from "./demo-data.mjs";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RAW_STATUS = /^[a-z0-9_]{1,64}$/;
const MAX_BODY = 4096;
const OUTBOX_BACKLOG = 50;
/** Each step of a play answers within this, or the play fails naming the step (never a silent hang). */
const STEP_MS = 8000;

/**
 * Starts the server on 127.0.0.1:`port`. `webhookUrl`: the operator URL of the emulated webhook; `db` / `auth`:
 * admin handles on the emulators. Resolves to `{ origin, close() }`.
 */
export async function startDevPanelServer({ port, consoleOrigin, webhookUrl, db, auth }) {
  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      console.error(`developer server: ${request.method} ${request.url}: ${error.message}`);
      reply(response, 500, { error: `developer server: ${error.message}` });
    });
  });

  async function handle(request, response) {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== consoleOrigin) return reply(response, 403, { error: `origin ${origin} is not the console's (${consoleOrigin})` });
    if (origin) {
      response.setHeader("access-control-allow-origin", origin);
      response.setHeader("vary", "origin");
    }
    if (request.method === "OPTIONS") {
      response.setHeader("access-control-allow-methods", "GET, POST");
      response.setHeader("access-control-allow-headers", "authorization, content-type");
      response.writeHead(204).end();
      return;
    }
    const uid = await signedInUid(request.headers.authorization);
    if (!uid) return reply(response, 401, { error: "sign in first: the developer server needs the console's ID token" });
    const path = new URL(request.url, "http://localhost").pathname;
    if (request.method === "POST" && path === "/play") return play(uid, await jsonBody(request), response);
    if (request.method === "GET" && path === "/outbox") return streamOutbox(uid, request, response);
    reply(response, 404, { error: `no ${request.method} ${path} here: POST /play, GET /outbox` });
  }

  /**
   * The Auth emulator's ID tokens are unsigned, so a signature proves nothing here: the token must name this project
   * and be unexpired (verifyIdToken's own checks), and its uid must be a user of the Auth emulator that was not
   * disabled or signed out since (`checkRevoked`), so that a token made up for any uid is refused.
   */
  async function signedInUid(header) {
    const token = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    if (!token) return undefined;
    try {
      return (await step("checking the ID token", auth.verifyIdToken(token, true))).uid;
    } catch (error) {
      if (error instanceof StepTimeout) throw error;
      return undefined;
    }
  }

  /** Plays ButterflyMX for the user's linked ButterflyMX user: `{command, guid?, status?, visitorImageUrl?}`. */
  async function play(uid, input, response) {
    if (!input || typeof input !== "object") return reply(response, 400, { error: "the body must be a JSON object {command, guid?, status?, visitorImageUrl?}" });
    const { command, status, visitorImageUrl } = input;
    const commands = ["call", "duplicate", "status", ...Object.keys(STATUS_COMMANDS)];
    if (!commands.includes(command)) return reply(response, 400, { error: `command must be one of ${commands.join(", ")}` });
    if (command === "status" && !RAW_STATUS.test(status ?? "")) return reply(response, 400, { error: "status must be 1–64 of a-z 0-9 _ (a raw ButterflyMX status)" });
    if (visitorImageUrl !== undefined && !httpsUrl(visitorImageUrl)) return reply(response, 400, { error: "visitorImageUrl must be an https URL (the webhook keeps no other)" });
    const guid = command === "call" ? randomUUID() : input.guid;
    if (!GUID.test(guid ?? "")) return reply(response, 400, { error: "guid must be a call's guid: select a call, or play a call first" });
    const profile = (await step("reading the user's link", db.doc(`users/${uid}`).get())).data();
    const bmxUserId = profile?.butterflymx?.userId;
    if (!bmxUserId) return reply(response, 409, { error: "this account is not linked to ButterflyMX, so no call can reach it (sign in as the demo resident)" });
    if (command !== "call") {
      // Only a call of the user's own ButterflyMX user: a status on anyone else's would answer it, and make the player
      // one of its recipients.
      const existing = (await step("reading the call", db.doc(`calls/${guid.toLowerCase()}`).get())).data();
      if (existing?.bmxUserId !== String(bmxUserId)) return reply(response, 404, { error: `no call ${guid} of your ButterflyMX user: play a call first, or select one of yours` });
    }
    const user = { ...DEMO.call.user, id: Number(bmxUserId) || bmxUserId, email: undefined };
    const call = command === "call" || command === "duplicate" ? callObject(guid, user) : statusUpdate(guid, command === "status" ? status : STATUS_COMMANDS[command], user);
    // ButterflyMX's snapshot field is not documented; the webhook reads `visitor_image_url` among others.
    const body = visitorImageUrl && "guid" in call ? { ...call, visitor_image_url: visitorImageUrl } : call;
    const answer = await step("posting to the webhook", fetch(webhookUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(STEP_MS) }));
    reply(response, 200, { guid, webhook: { status: answer.status, body: await answer.json().catch(() => null) } });
  }

  /**
   * Server-sent events: the latest pushes to the user's own devices, `{kind: "ready"}`, then each new push, as
   * `data: {kind: "push", …}` lines. A push
   * is the user's when its token is one of their devices' current tokens (kept live), so another user's pushes never
   * show.
   */
  function streamOutbox(uid, request, response) {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    response.write(": outbox\n\n");
    const fail = (error) => response.end(`event: error\ndata: ${JSON.stringify(error.message)}\n\n`);
    let tokens;
    let stopOutbox = () => {};
    const stopDevices = db.collection(`users/${uid}/devices`).onSnapshot((snapshot) => {
      const first = tokens === undefined;
      tokens = new Set(snapshot.docs.flatMap((doc) => [doc.get("fcmToken"), doc.get("voipToken")]).filter(Boolean));
      if (!first) return;
      const latest = db.collection("pushOutbox").orderBy("createdAt", "desc").limit(OUTBOX_BACKLOG);
      let backlog = true;
      stopOutbox = latest.onSnapshot((outbox) => {
        const added = outbox.docChanges().filter((change) => change.type === "added" && tokens.has(change.doc.get("token"))).reverse();
        for (const { doc } of added) response.write(`data: ${JSON.stringify({ kind: "push", ...outboxEntry(doc) })}\n\n`);
        // After the backlog, the panel knows that an empty list means no push to this user's devices.
        if (backlog) response.write(`data: ${JSON.stringify({ kind: "ready" })}\n\n`);
        backlog = false;
      }, fail);
    }, fail);
    request.on("close", () => {
      stopDevices();
      stopOutbox();
    });
  }

  await new Promise((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

function httpsUrl(value) {
  try {
    return typeof value === "string" && value.length <= 2048 && new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}

class StepTimeout extends Error {}

/** `promise`, or a StepTimeout naming `what` after STEP_MS. */
function step(what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(`${what} took longer than ${STEP_MS / 1000} s`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the panel shows of a push: never the whole token. */
function outboxEntry(doc) {
  const push = doc.data();
  const headers = push.request?.headers ?? push.request?.apns?.headers ?? {};
  return {
    id: doc.id,
    provider: push.provider,
    guid: push.guid,
    type: push.type,
    device: `token ${String(push.token).slice(0, 12)}…`,
    pushType: headers["apns-push-type"],
    createdAt: push.createdAt.toDate().toISOString(),
  };
}

async function jsonBody(request) {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reply(response, status, body) {
  if (response.headersSent) return response.end();
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
