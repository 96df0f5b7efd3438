import { readFileSync } from "node:fs";
import type { Firestore } from "firebase-admin/firestore";
import type { Messaging } from "firebase-admin/messaging";
import type { ApnsClient, ApnsCredentials } from "./apns-client";
import { fcmAgent, keepAliveMessaging } from "./fcm-messaging";
import { outboxGateway } from "./push-outbox";
import { PushGateway, providerGateway, ProviderGatewayOptions } from "./push-gateway";

export interface PushEnvironment {
  gateway: () => PushGateway;
  /**
   * Loads the push clients (firebase-admin/messaging, the APNs client and jose) and makes them, once per instance,
   * without sending: the webhook calls it while its first Firestore round trip is in flight, so that the first ring
   * does not wait for the loading.
   */
  preload: () => void;
  apnsConfigured: boolean;
  mode: "providers" | "local-fakes" | "outbox";
}

/**
 * Where pushes go. Deployed: FCM and APNs. In the emulator: local servers speaking their protocols when
 * PUSH_FCM_ORIGIN / PUSH_APNS_ORIGIN are set (tests), else a Firestore outbox on demo projects. The overrides
 * are ignored outside the emulator, so a deployed function can only ever reach the real providers.
 */
export function pushEnvironment(apnsCredentials: () => ApnsCredentials, db: Firestore, now: () => number): PushEnvironment {
  const env = process.env;
  const emulated = env.FUNCTIONS_EMULATOR === "true";
  if (emulated && !env.PUSH_FCM_ORIGIN && !env.PUSH_APNS_ORIGIN && (env.GCLOUD_PROJECT ?? "").startsWith("demo-")) {
    return { mode: "outbox", apnsConfigured: true, gateway: () => outboxGateway(db, now), preload: () => undefined };
  }
  const credentials = apnsCredentials();
  const apnsConfigured = Boolean(credentials.key && credentials.keyId && credentials.teamId);
  const local = emulated && (env.PUSH_FCM_ORIGIN || env.PUSH_APNS_ORIGIN);
  const ca = local && env.PUSH_CA_FILE ? readFileSync(env.PUSH_CA_FILE) : undefined;
  const fake = (origin: string | undefined) => origin ?? "https://127.0.0.1:1";
  const clients: ProviderGatewayOptions = local
    ? {
        messaging: () => fcmMessaging({ origin: fake(env.PUSH_FCM_ORIGIN), ca }),
        apns: () => (apnsConfigured ? apnsClient(credentials, { production: fake(env.PUSH_APNS_ORIGIN), sandbox: fake(env.PUSH_APNS_ORIGIN) }, ca) : undefined),
      }
    : {
        messaging: () => fcmMessaging(),
        apns: () => (apnsConfigured ? apnsClient(credentials) : undefined),
      };
  return {
    mode: local ? "local-fakes" : "providers",
    apnsConfigured,
    gateway: () => providerGateway(clients),
    preload: () => {
      // A client that cannot be made now fails again, and is reported, at the first push.
      try {
        clients.messaging();
        clients.apns();
      } catch {
        return;
      }
    },
  };
}

let messaging: Messaging | undefined;

/**
 * FCM through an app of its own, made on the first push or preload (never at module load, so that no other function
 * loads firebase-admin/messaging). Deployed, the credential is named so that fetching access tokens does not go through the
 * FCM agent; against a local FCM server (`local`), a fixed access token and the agent redirected there.
 */
function fcmMessaging(local?: { origin: string; ca?: Buffer }): Messaging {
  if (!messaging) {
    const { applicationDefault, initializeApp } = require("firebase-admin/app") as typeof import("firebase-admin/app");
    const app = local
      ? initializeApp(
          {
            projectId: process.env.GCLOUD_PROJECT,
            httpAgent: fcmAgent(local),
            credential: { getAccessToken: async () => ({ access_token: "emulator-access-token", expires_in: 3600 }) },
          },
          "local-fcm",
        )
      : initializeApp({ credential: applicationDefault(), httpAgent: fcmAgent() }, "fcm");
    messaging = keepAliveMessaging(app);
  }
  return messaging;
}

let cachedApns: { id: string; client: ApnsClient } | undefined;

/** One client per process and credentials, so its HTTP/2 session and provider token are reused across calls. */
function apnsClient(credentials: ApnsCredentials, origins?: Record<"production" | "sandbox", string>, ca?: Buffer): ApnsClient {
  const id = JSON.stringify([credentials.keyId, credentials.teamId, credentials.key, origins]);
  if (cachedApns?.id !== id) {
    cachedApns?.client.close();
    const { ApnsClient: Client } = require("./apns-client") as typeof import("./apns-client");
    cachedApns = { id, client: new Client({ credentials, origins, ca }) };
  }
  return cachedApns.client;
}
