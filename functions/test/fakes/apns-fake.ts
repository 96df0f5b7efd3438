import { createSecureServer, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { createPublicKey } from "node:crypto";
import { listen, preciseNow, ScriptedFake } from "./server-lifecycle";
import { jwtVerify } from "jose";
import { TEST_APNS, TEST_TLS } from "./tls";

export type ApnsReply = { status: 200; delayMs?: number } | { status: number; reason: string; timestamp?: number; delayMs?: number };

export interface ApnsFakeRequest {
  token: string;
  headers: IncomingHttpHeaders;
  payload: Record<string, unknown>;
  jwt: string;
  /** `preciseNow()` on arrival. */
  receivedAt: number;
  status: number;
  /** Which HTTP/2 session (connection) carried it, numbered from 1 in the order they were opened. */
  session: number;
}

/**
 * A local APNs provider API (`POST /3/device/{token}`, HTTP/2 over TLS). It verifies the provider JWT against the
 * test key (ES256, `kid`, `iss`) and the headers Apple requires, and replies as scripted per token.
 */
export class ApnsFake extends ScriptedFake<ApnsFakeRequest, ApnsReply> {
  /** HTTP/2 sessions opened by clients: the APNs client must reuse one. */
  sessions = 0;
  private count = 0;
  private sessionCount = 0;
  private readonly sessionIds = new WeakMap<object, number>();

  static async start(port = 0): Promise<ApnsFake> {
    const server = createSecureServer({ ...TEST_TLS });
    let fake!: ApnsFake;
    server.on("session", (session) => {
      fake.sessions++;
      fake.sessionIds.set(session, ++fake.sessionCount);
    });
    server.on("stream", (stream, headers) => void fake.handle(stream, headers));
    fake = new ApnsFake(server, await listen(server, port));
    return fake;
  }

  reset(): void {
    super.reset();
    this.sessions = 0;
  }

  private async handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const body = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
    const token = /^\/3\/device\/(.*)$/.exec(String(headers[":path"]))?.[1] ?? "";
    const jwt = String(headers.authorization ?? "").replace(/^bearer /, "");
    const reply = (await this.protocolError(headers, token, jwt)) ?? this.replyFor(token, { status: 200 });
    let payload: Record<string, unknown> = {};
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // recorded as empty; a real APNs answers 400 PayloadEmpty / BadPayload
    }
    this.requests.push({ token, headers, payload, jwt, receivedAt: preciseNow(), status: reply.status, session: this.sessionIds.get(stream.session as object) ?? 0 });
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (stream.destroyed) return;
    const apnsId = `00000000-0000-4000-8000-${String(++this.count).padStart(12, "0")}`;
    if (reply.status === 200) {
      stream.respond({ ":status": 200, "apns-id": apnsId });
      stream.end();
      return;
    }
    const { reason, timestamp } = reply as { reason: string; timestamp?: number };
    stream.respond({ ":status": reply.status, "apns-id": apnsId, "content-type": "application/json" });
    stream.end(JSON.stringify(timestamp === undefined ? { reason } : { reason, timestamp }));
  }

  /** What Apple refuses whatever the script says: bad provider token, missing topic, malformed device token. */
  private async protocolError(headers: IncomingHttpHeaders, token: string, jwt: string): Promise<ApnsReply | undefined> {
    if (!jwt) return { status: 403, reason: "MissingProviderToken" };
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, createPublicKey(TEST_APNS.key), { algorithms: ["ES256"] });
      if (protectedHeader.kid !== TEST_APNS.keyId || payload.iss !== TEST_APNS.teamId || typeof payload.iat !== "number") {
        return { status: 403, reason: "InvalidProviderToken" };
      }
    } catch {
      return { status: 403, reason: "InvalidProviderToken" };
    }
    if (!headers["apns-topic"]) return { status: 400, reason: "MissingTopic" };
    if (headers["apns-push-type"] === "voip" && !String(headers["apns-topic"]).endsWith(".voip")) return { status: 400, reason: "DeviceTokenNotForTopic" };
    if (!/^[0-9a-f]{64,200}$/.test(token)) return { status: 400, reason: "BadDeviceToken" };
    return undefined;
  }
}
