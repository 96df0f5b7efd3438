import { Http2SecureServer } from "node:http2";
import { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";

const sockets = new WeakMap<Http2SecureServer, Set<TLSSocket>>();

/** Listens on 127.0.0.1 (`port` 0: any free port), remembering connections for closeServer; returns the origin. */
/** Epoch milliseconds with the performance clock's sub-millisecond resolution: when a fake received a request. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function listen(server: Http2SecureServer, port: number): Promise<string> {
  const open = new Set<TLSSocket>();
  sockets.set(server, open);
  server.on("secureConnection", (socket: TLSSocket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function closeServer(server: Http2SecureServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets.get(server) ?? []) socket.destroy();
  return closed;
}

/**
 * What the push fakes share: the requests received (per device token) and replies scripted per token, served on
 * one TLS server. Subclasses answer requests and say what "success" is.
 */
export abstract class ScriptedFake<Request extends { token: string }, Reply> {
  readonly requests: Request[] = [];
  private readonly scripts = new Map<string, Reply[]>();
  private readonly always = new Map<string, Reply>();

  protected constructor(
    private readonly server: Http2SecureServer,
    readonly origin: string,
  ) {}

  /** The next requests for `token` get these replies, in order; then success again. */
  script(token: string, ...replies: Reply[]): void {
    this.scripts.set(token, [...(this.scripts.get(token) ?? []), ...replies]);
  }

  /** Every request for `token` gets this reply. */
  replyAlways(token: string, reply: Reply): void {
    this.always.set(token, reply);
  }

  for(token: string): Request[] {
    return this.requests.filter((r) => r.token === token);
  }

  reset(): void {
    this.requests.length = 0;
    this.scripts.clear();
    this.always.clear();
  }

  /** Stops listening and drops open connections (clients keep sessions alive, as they should). */
  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** The scripted reply for this request's token, or `success`. */
  protected replyFor(token: string, success: Reply): Reply {
    return this.scripts.get(token)?.shift() ?? this.always.get(token) ?? success;
  }
}
