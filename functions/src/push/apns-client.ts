import { ClientHttp2Session, connect, constants } from "node:http2";
import { importPKCS8, KeyLike, SignJWT } from "jose";
import { ApnsRequest } from "./push-payloads";

export interface ApnsCredentials {
  /** The .p8 auth key (PKCS#8 PEM). */
  key: string;
  keyId: string;
  teamId: string;
}

export const APNS_ORIGINS = {
  production: "https://api.push.apple.com",
  sandbox: "https://api.sandbox.push.apple.com",
} as const;

export interface ApnsClientOptions {
  credentials: ApnsCredentials;
  /** Local servers in tests and the emulator; Apple's hosts otherwise. */
  origins?: Record<ApnsRequest["environment"], string>;
  /** Extra trusted CA (tests and the emulator only). */
  ca?: string | Buffer;
  now?: () => number;
}

/** APNs' answer to one request; `error` instead of `status` when the request never got an answer. */
export interface ApnsResponse {
  status?: number;
  apnsId?: string;
  reason?: string;
  /** APNs 410: the time (ms) the token stopped being valid. */
  timestamp?: number;
  error?: string;
}

interface ProviderToken {
  jwt: Promise<string>;
  issuedAt: number;
}

/** Apple accepts a provider token for up to an hour and rejects refreshes more often than every 20 minutes. */
const TOKEN_LIFETIME_MS = 40 * 60_000;

/**
 * APNs over HTTP/2 with token auth: one long-lived session per host, multiplexing every request, and one JWT
 * reused for 40 minutes (minted once even when many requests need it at the same moment).
 */
export class ApnsClient {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private token?: ProviderToken;
  private key?: Promise<KeyLike>;
  private readonly origins: Record<ApnsRequest["environment"], string>;
  private readonly now: () => number;

  constructor(private readonly options: ApnsClientOptions) {
    this.origins = options.origins ?? APNS_ORIGINS;
    this.now = options.now ?? Date.now;
  }

  async send(request: ApnsRequest, timeoutMs: number): Promise<ApnsResponse> {
    const token = this.providerToken();
    let jwt: string;
    try {
      jwt = await token.jwt;
    } catch (error) {
      return { error: `provider-token: ${(error as Error).message}` };
    }
    let session: ClientHttp2Session;
    try {
      session = this.session(this.origins[request.environment]);
    } catch (error) {
      return { error: (error as Error).message };
    }
    const response = await exchange(session, request, jwt, timeoutMs);
    // Only the token this request used is given up: a request answered late must not discard a newer one.
    if (response.status === 403 && (response.reason === "ExpiredProviderToken" || response.reason === "InvalidProviderToken") && this.token === token) {
      this.token = undefined;
    }
    // A stream that never answered may sit on a stalled connection: the next attempt opens a fresh session.
    if (response.error === "timeout") this.dropSession(this.origins[request.environment], session);
    return response;
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  /**
   * The provider token for this moment, minted at most once per lifetime: the check and the replacement happen
   * in the same tick, so requests that find it expired at the same time share one new token (APNs answers 429
   * TooManyProviderTokenUpdates to a key that mints more often than every 20 minutes).
   */
  private providerToken(): ProviderToken {
    const current = this.token;
    if (current && this.now() - current.issuedAt < TOKEN_LIFETIME_MS) return current;
    const { keyId, teamId, key } = this.options.credentials;
    this.key ??= importPKCS8(key, "ES256");
    const issuedAt = this.now();
    const jwt = this.key.then((privateKey) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: keyId })
        .setIssuer(teamId)
        .setIssuedAt(Math.floor(issuedAt / 1000))
        .sign(privateKey),
    );
    const token: ProviderToken = { jwt, issuedAt };
    this.token = token;
    jwt.catch(() => {
      if (this.token === token) this.token = undefined;
      this.key = undefined;
    });
    return token;
  }

  private dropSession(origin: string, session: ClientHttp2Session): void {
    if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    session.destroy();
  }

  private session(origin: string): ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(origin, this.options.ca ? { ca: this.options.ca } : {});
    const forget = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on("error", forget);
    session.on("goaway", forget);
    session.on("close", forget);
    this.sessions.set(origin, session);
    return session;
  }
}

function exchange(session: ClientHttp2Session, request: ApnsRequest, jwt: string, timeoutMs: number): Promise<ApnsResponse> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (response: ApnsResponse) => {
      if (!settled) {
        settled = true;
        resolve(response);
      }
    };
    let stream;
    try {
      stream = session.request({
        ":method": "POST",
        ":path": `/3/device/${request.token}`,
        authorization: `bearer ${jwt}`,
        "content-type": "application/json",
        ...request.headers,
      });
    } catch (error) {
      finish({ error: (error as Error).message });
      return;
    }
    stream.setTimeout(Math.max(1, timeoutMs), () => {
      stream.close(constants.NGHTTP2_CANCEL);
      finish({ error: "timeout" });
    });
    let status: number | undefined;
    let apnsId: string | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
      apnsId = headers["apns-id"] as string | undefined;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      if (status === undefined) return finish({ error: "no-response" });
      const body = parseBody(Buffer.concat(chunks).toString("utf8"));
      finish({ status, apnsId, reason: body.reason, timestamp: body.timestamp });
    });
    stream.on("error", (error: Error) => finish({ error: error.message }));
    stream.on("close", () => finish({ error: "stream-closed" }));
    stream.end(JSON.stringify(request.payload));
  });
}

function parseBody(text: string): { reason?: string; timestamp?: number } {
  if (!text) return {};
  try {
    const json = JSON.parse(text) as { reason?: unknown; timestamp?: unknown };
    return {
      reason: typeof json.reason === "string" ? json.reason : undefined,
      timestamp: typeof json.timestamp === "number" ? json.timestamp : undefined,
    };
  } catch {
    return { reason: text.slice(0, 100) };
  }
}
