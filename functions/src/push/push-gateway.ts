import type { Messaging, TokenMessage } from "firebase-admin/messaging";
import { mapWithConcurrency } from "../shared/concurrency";
import type { ApnsClient } from "./apns-client";
import { AttemptResult, classifyApnsResponse, classifyFcmError } from "./push-outcomes";
import { ApnsRequest } from "./push-payloads";

/** Sends pushes and reports one result per request, in order. Never throws for a provider's refusal. */
export interface PushGateway {
  sendFcm(messages: TokenMessage[]): Promise<AttemptResult[]>;
  sendApns(requests: ApnsRequest[], timeoutMs: number): Promise<AttemptResult[]>;
}

/**
 * FCM requests one fan-out keeps in flight (a `sendEach` sends its messages at once; FCM takes up to 500 per call):
 * half the connections the instance keeps to FCM (FCM_MAX_SOCKETS), so that a large ring never leaves another
 * call's pushes queued behind it. Batches go one after another.
 */
export const FCM_IN_FLIGHT_PER_FAN_OUT = 50;
/** APNs requests one fan-out keeps in flight on the shared HTTP/2 session; likewise leaves room for other calls. */
export const APNS_IN_FLIGHT_PER_FAN_OUT = 100;

export interface ProviderGatewayOptions {
  messaging: () => Messaging;
  /** Undefined when APNs credentials are not configured. */
  apns: () => ApnsClient | undefined;
}

/** FCM through firebase-admin and APNs through our HTTP/2 client. */
export function providerGateway(options: ProviderGatewayOptions): PushGateway {
  return {
    async sendFcm(messages) {
      const chunks: TokenMessage[][] = [];
      for (let i = 0; i < messages.length; i += FCM_IN_FLIGHT_PER_FAN_OUT) chunks.push(messages.slice(i, i + FCM_IN_FLIGHT_PER_FAN_OUT));
      const results = await mapWithConcurrency(chunks, 1, (chunk) => sendFcmChunk(options.messaging(), chunk));
      return results.flat();
    },
    async sendApns(requests, timeoutMs) {
      const client = options.apns();
      if (!client) return requests.map(() => ({ outcome: "credentials", errorCode: "apns-not-configured" }));
      return mapWithConcurrency(requests, APNS_IN_FLIGHT_PER_FAN_OUT, async (request) => {
        const response = await client.send(request, timeoutMs);
        return classifyApnsResponse(response.status, response.reason ?? response.error, response.apnsId, response.timestamp);
      });
    },
  };
}

type FcmBatch = { responses: Array<{ success: boolean; messageId?: string; error?: unknown }> };

async function sendFcmChunk(messaging: Messaging, chunk: TokenMessage[]): Promise<AttemptResult[]> {
  try {
    return attemptResults(await messaging.sendEach(chunk));
  } catch (error) {
    // The call failed before sending anything (a malformed batch, no project id): every message shares the cause.
    const result = classifyFcmError(error);
    return chunk.map(() => result);
  }
}

function attemptResults(batch: FcmBatch): AttemptResult[] {
  return batch.responses.map((r) => (r.success ? { outcome: "sent", providerId: r.messageId } : classifyFcmError(r.error)));
}
