import { Firestore, Timestamp } from "firebase-admin/firestore";
import type { PushGateway } from "./push-gateway";

export const PUSH_OUTBOX = "pushOutbox";

/**
 * The emulator's stand-in for FCM and APNs on a demo project (no credentials): every push becomes a document
 * in `pushOutbox`, so `npm start` + `npm run simulate` show the ring and the stop. Never used when deployed.
 */
export function outboxGateway(db: Firestore, now: () => number): PushGateway {
  const write = async (provider: "fcm" | "apns", request: { token: string; data?: Record<string, string>; payload?: Record<string, unknown> }) => {
    const fields = (request.data ?? request.payload ?? {}) as Record<string, unknown>;
    const ref = await db.collection(PUSH_OUTBOX).add({
      provider,
      guid: fields.guid ?? null,
      type: fields.type ?? null,
      token: request.token,
      request: JSON.parse(JSON.stringify(request)),
      createdAt: Timestamp.fromMillis(now()),
    });
    return { outcome: "sent" as const, providerId: `outbox/${ref.id}` };
  };
  return {
    sendFcm: (messages) => Promise.all(messages.map((message) => write("fcm", message))),
    sendApns: (requests) => Promise.all(requests.map((request) => write("apns", request))),
  };
}
