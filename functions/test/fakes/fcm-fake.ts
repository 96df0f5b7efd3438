import { createSecureServer, Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { listen, preciseNow, ScriptedFake } from "./server-lifecycle";
import { TEST_TLS } from "./tls";

/** FCM HTTP v1 error bodies, as FCM sends them (status, canonical code, message, FcmError detail). */
const FCM_ERRORS = {
  UNREGISTERED: [404, "NOT_FOUND", "Requested entity was not found."],
  INVALID_ARGUMENT: [400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"],
  SENDER_ID_MISMATCH: [403, "PERMISSION_DENIED", "SenderId mismatch"],
  UNAVAILABLE: [503, "UNAVAILABLE", "The service is currently unavailable."],
  INTERNAL: [500, "INTERNAL", "Internal error encountered."],
  QUOTA_EXCEEDED: [429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Messages' and limit 'Messages per minute'."],
  THIRD_PARTY_AUTH_ERROR: [401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"],
} as const;
export type FcmErrorCode = keyof typeof FCM_ERRORS | "PERMISSION_DENIED";

/**
 * What the fake answers to one request for a token; `ok` answers like FCM's success. `delayMs` holds the answer
 * for a while, `gate` until the test opens it (for orderings a delay could only make likely).
 */
export type FcmReply = { ok: true; delayMs?: number; gate?: Promise<unknown> } | { error: FcmErrorCode; delayMs?: number; retryAfter?: string };

export interface FcmRequest {
  projectId: string;
  token: string;
  message: Record<string, unknown> & { token: string; data?: Record<string, string>; android?: Record<string, unknown>; apns?: { headers?: Record<string, string>; payload?: Record<string, unknown> } };
  authorization: string | undefined;
  httpVersion: string;
  /** `preciseNow()` on arrival. */
  receivedAt: number;
  reply: "ok" | FcmErrorCode;
}

/**
 * A local FCM HTTP v1 endpoint (`POST /v1/projects/{id}/messages:send`) over TLS with HTTP/2 and HTTP/1.1, so
 * firebase-admin messaging talks to it exactly as to fcm.googleapis.com. Replies are scripted per token.
 */
export class FcmFake extends ScriptedFake<FcmRequest, FcmReply> {
  /** TLS connections opened by clients: pushes from a warm instance must reuse open ones. */
  connections = 0;
  /** Requests received and not answered yet, and the most there ever were at once (since the last reset). */
  inFlight = 0;
  maxInFlight = 0;
  private messageCount = 0;

  static async start(port = 0): Promise<FcmFake> {
    const server = createSecureServer({ ...TEST_TLS, allowHTTP1: true });
    let fake!: FcmFake;
    server.on("secureConnection", () => fake.connections++);
    server.on("request", (req, res) => void fake.handle(req, res));
    fake = new FcmFake(server, await listen(server, port));
    return fake;
  }

  reset(): void {
    super.reset();
    this.connections = 0;
    this.maxInFlight = this.inFlight;
  }

  private async handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url);
    const body = await readBody(req);
    if (req.method !== "POST" || !match) return json(res, 404, { error: { code: 404, message: "Not found", status: "NOT_FOUND" } });
    if (!req.headers.authorization?.startsWith("Bearer ")) return sendError(res, "THIRD_PARTY_AUTH_ERROR");
    let message: FcmRequest["message"];
    try {
      message = (JSON.parse(body) as { message: FcmRequest["message"] }).message;
    } catch {
      return json(res, 400, { error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } });
    }
    const token = message?.token ?? "";
    const reply = this.replyFor(token, { ok: true });
    this.requests.push({
      projectId: match[1],
      token,
      message,
      authorization: req.headers.authorization,
      httpVersion: req.httpVersion,
      receivedAt: preciseNow(),
      reply: "ok" in reply ? "ok" : reply.error,
    });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if ("gate" in reply) await reply.gate;
    } finally {
      this.inFlight--;
    }
    if ("ok" in reply) return json(res, 200, { name: `projects/${match[1]}/messages/fake-${++this.messageCount}` });
    return sendError(res, reply.error, reply.retryAfter);
  }
}

function sendError(res: Http2ServerResponse, code: FcmErrorCode, retryAfter?: string): void {
  if (retryAfter) res.setHeader("retry-after", retryAfter);
  if (code === "PERMISSION_DENIED") {
    return json(res, 403, { error: { code: 403, message: "Permission 'cloudmessaging.messages.create' denied on resource", status: "PERMISSION_DENIED" } });
  }
  const [status, canonical, message] = FCM_ERRORS[code];
  json(res, status, {
    error: { code: status, message, status: canonical, details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: code }] },
  });
}

function json(res: Http2ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(body));
}

function readBody(req: Http2ServerRequest): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}
