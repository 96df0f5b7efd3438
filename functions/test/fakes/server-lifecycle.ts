import { Http2SecureServer } from "node:http2";
import { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";

const sockets = new WeakMap<Http2SecureServer, Set<TLSSocket>>();

/** Listens on 127.0.0.1 (`port` 0: any free port), remembering connections for closeServer; returns the origin. */
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
