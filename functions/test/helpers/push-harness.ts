import { App, deleteApp, initializeApp } from "firebase-admin/app";
import { Firestore } from "firebase-admin/firestore";
import type { Messaging } from "firebase-admin/messaging";
import { ApnsClient } from "../../src/push/apns-client";
import { fcmAgent, keepAliveMessaging } from "../../src/push/fcm-messaging";
import { providerGateway } from "../../src/push/push-gateway";
import { PushDeps } from "../../src/calls/push-deps";
import { ApnsFake } from "../fakes/apns-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { TEST_APNS, TEST_TLS } from "../fakes/tls";

export interface PushHarness {
  fcm: FcmFake;
  apns: ApnsFake;
  app: App;
  /** The app's messaging, on the transport the deployed functions use. */
  messaging: Messaging;
  apnsClient: ApnsClient;
  deps(db: Firestore, overrides?: Partial<PushDeps>): PushDeps;
  /** Forgets every request and script of both fakes (before each test). */
  reset(): void;
  /** Every push to a device's tokens, as "ring" / "end", in the order they reached the fakes. */
  pushesTo(device: { fcmToken?: string; voipToken?: string }): Array<"ring" | "end">;
  /** Every device that was rung got a stop after its last ring, and nothing rang after `endedAt` (epoch ms). */
  expectStoppedEverywhere(devices: Array<{ fcmToken?: string; voipToken?: string }>, endedAt: number): void;
  close(): Promise<void>;
}

let apps = 0;

/**
 * FCM and APNs fakes, a firebase-admin app whose messaging reaches the FCM fake (the deployed transport and agent,
 * its connections redirected there), and an APNs client for the other.
 */
export async function startPushHarness(projectId: string): Promise<PushHarness> {
  const [fcm, apns] = await Promise.all([FcmFake.start(), ApnsFake.start()]);
  const app = initializeApp(
    {
      projectId,
      credential: { getAccessToken: async () => ({ access_token: "test-access-token", expires_in: 3600 }) },
      httpAgent: fcmAgent({ origin: fcm.origin, ca: TEST_TLS.ca }),
    },
    `push-${projectId}-${apps++}`,
  );
  const messaging = keepAliveMessaging(app);
  const apnsClient = new ApnsClient({
    credentials: { key: TEST_APNS.key, keyId: TEST_APNS.keyId, teamId: TEST_APNS.teamId },
    origins: { production: apns.origin, sandbox: apns.origin },
    ca: TEST_TLS.ca,
  });
  const typeOf = (r: (typeof fcm.requests)[number] | (typeof apns.requests)[number]) => ("message" in r ? r.message.data?.type : (r.payload as { type?: string }).type);
  const pushesTo = (device: { fcmToken?: string; voipToken?: string }) =>
    [...(device.fcmToken ? fcm.for(device.fcmToken) : []), ...(device.voipToken ? apns.for(device.voipToken) : [])]
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .map((r) => (typeOf(r) === "call.ring" ? ("ring" as const) : ("end" as const)));
  return {
    fcm,
    apns,
    pushesTo,
    reset() {
      fcm.reset();
      apns.reset();
    },
    expectStoppedEverywhere(devices, endedAt) {
      for (const device of devices) {
        const pushes = pushesTo(device);
        if (!pushes.includes("ring")) continue;
        expect(pushes.lastIndexOf("end")).toBeGreaterThan(pushes.lastIndexOf("ring"));
      }
      const late = [...fcm.requests, ...apns.requests].filter((r) => r.receivedAt > endedAt && typeOf(r) === "call.ring");
      expect(late).toEqual([]);
    },
    app,
    messaging,
    apnsClient,
    deps: (db, overrides = {}) => ({
      db,
      gateway: () => providerGateway({ messaging: () => messaging, apns: () => apnsClient }),
      apnsConfigured: true,
      now: Date.now,
      ringWindowMs: 40_000,
      backoffMs: [20, 40, 80],
      ...overrides,
    }),
    async close() {
      app.options.httpAgent?.destroy();
      apnsClient.close();
      await deleteApp(app);
      await Promise.all([fcm.close(), apns.close()]);
    },
  };
}
