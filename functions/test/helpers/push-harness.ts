import { App, deleteApp, initializeApp } from "firebase-admin/app";
import { Firestore, Timestamp } from "firebase-admin/firestore";
import type { Messaging } from "firebase-admin/messaging";
import { ApnsClient } from "../../src/push/apns-client";
import { fcmAgent, keepAliveMessaging } from "../../src/push/fcm-messaging";
import { providerGateway } from "../../src/push/push-gateway";
import { PushDeps } from "../../src/calls/push-deps";
import { recordCallEvent } from "../../src/calls/call-repository";
import { parseCallEvent } from "../../src/butterflymx/call-events";
import { ApnsFake } from "../fakes/apns-fake";
import { FcmFake } from "../fakes/fcm-fake";
import { TEST_APNS, TEST_TLS } from "../fakes/tls";
import { createBody } from "./butterflymx-payloads";

export interface PushHarness {
  fcm: FcmFake;
  apns: ApnsFake;
  app: App;
  /** The app's messaging, on the transport the deployed functions use. */
  messaging: Messaging;
  apnsClient: ApnsClient;
  deps(db: Firestore, overrides?: Partial<PushDeps>): PushDeps;
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
  return {
    fcm,
    apns,
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

export const VOIP_TOKEN = (n: number) => n.toString(16).padStart(2, "0").repeat(32);

/** A resident with devices (as registerDevice stores them) and optional preferences. */
export async function seedResident(
  db: Firestore,
  uid: string,
  devices: Array<Record<string, unknown> & { deviceId: string }>,
  preferences: Record<string, unknown> = {},
): Promise<void> {
  const now = Timestamp.now();
  const batch = db.batch();
  batch.set(db.doc(`users/${uid}`), { preferences: { doNotDisturb: false, contactPreference: "mobile_app", ...preferences } });
  for (const device of devices) batch.set(db.doc(`users/${uid}/devices/${device.deviceId}`), { uid, createdAt: now, updatedAt: now, ...device });
  await batch.commit();
}

/** A ringing call for these recipients, written the way the webhook writes it. Returns the guid. */
export async function seedRingingCall(
  db: Firestore,
  recipients: string[],
  options: { createdAt?: number; body?: Record<string, unknown> } = {},
): Promise<string> {
  const body = options.body ?? createBody({ user: { id: 777 } });
  const parsed = parseCallEvent(body);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  await db.doc("bmxUsers/777").set({ uids: recipients });
  const recorded = await recordCallEvent(db, {
    event: parsed.event,
    source: () => ({ via: "tenant:test" }),
    now: Timestamp.fromMillis(options.createdAt ?? Date.now()),
    retentionDays: 30,
  });
  return recorded.guid;
}

/** Applies a ButterflyMX status update to the call exactly as the webhook does. */
export async function endCall(db: Firestore, guid: string, bmxStatus: string): Promise<void> {
  const call = JSON.parse((await db.doc(`calls/${guid}/raw/butterflymx`).get()).get("call")) as Record<string, unknown>;
  const parsed = parseCallEvent({ call, status: bmxStatus });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  await recordCallEvent(db, { event: parsed.event, source: () => ({ via: "tenant:test" }), now: Timestamp.now(), retentionDays: 30 });
}
