import { Http2SecureServer } from "node:http2";
import { TLSSocket } from "node:tls";

const sockets = new WeakMap<Http2SecureServer, Set<TLSSocket>>();

/** Remembers a server's connections so that closeServer can end them. Call right after creating the server. */
export function trackConnections(server: Http2SecureServer): void {
  const open = new Set<TLSSocket>();
  sockets.set(server, open);
  server.on("secureConnection", (socket: TLSSocket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  });
}

export function closeServer(server: Http2SecureServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets.get(server) ?? []) socket.destroy();
  return closed;
}
