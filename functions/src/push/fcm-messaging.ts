import { Agent } from "node:https";
import { connect } from "node:tls";
import type { App } from "firebase-admin/app";
import type { Messaging } from "firebase-admin/messaging";

/** Connections to FCM at once: HTTP/1.1 carries one request per connection at a time, so this bounds a fan-out. */
export const FCM_MAX_SOCKETS = 100;

/** Our idle connections close before FCM's front end drops them (after a few minutes), never while reused. */
const IDLE_SOCKET_MS = 60_000;

/**
 * The HTTPS agent FCM requests go through, keeping its connections open between pushes. firebase-admin's
 * default `sendEach` opens a new HTTP/2 connection on every call and closes it after, so every ring and every
 * stop would wait for TCP and TLS handshakes first, and a handshake packet lost costs a retransmit of a second or
 * more (firebase-admin-node#2488). On a warm instance the next ring reuses a connection already open.
 * `local` connects to a server speaking FCM's protocol instead of fcm.googleapis.com (tests and the emulator).
 */
export function fcmAgent(local?: { origin: string; ca?: string | Buffer }): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: FCM_MAX_SOCKETS, timeout: IDLE_SOCKET_MS, ...(local?.ca ? { ca: local.ca } : {}) });
  if (local) {
    const target = new URL(local.origin);
    (agent as unknown as { createConnection: (options: object) => unknown }).createConnection = (options) =>
      connect({ ...options, host: target.hostname, port: Number(target.port), servername: "fcm.googleapis.com", ca: local.ca });
  }
  return agent;
}

/**
 * The app's messaging on firebase-admin's HTTP/1.1 transport, the one that sends through the app's `httpAgent`
 * (`fcmAgent`); its `sendEach` reports every request's own outcome and never fails as a whole mid-batch.
 * firebase-admin marks it deprecated until its HTTP/2 transport matches it; see docs/internals.md. Back on HTTP/2, a session
 * failure rejects `sendEach` with `pendingBatchResponse`, the outcomes of requests already sent, which the gateway
 * would then have to read instead of resending them.
 */
export function keepAliveMessaging(app: App): Messaging {
  const { getMessaging } = require("firebase-admin/messaging") as typeof import("firebase-admin/messaging");
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  return messaging;
}
