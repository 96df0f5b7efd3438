// Writes the demo resident into the running emulators (idempotent).
import { createRequire } from "node:module";
import { join } from "node:path";
import { DEMO } from "./demo-data.mjs";
import { PROJECT_ID, ROOT } from "./emulator-env.mjs";

const require = createRequire(import.meta.url);

/** Admin SDK handles on the emulators described by `config` (firebase.json as used), for `projectId`. */
export function emulatorAdmin(config, projectId = PROJECT_ID) {
  const { firestore, auth } = config.emulators;
  process.env.FIRESTORE_EMULATOR_HOST = `${firestore.host}:${firestore.port}`;
  process.env.FIREBASE_AUTH_EMULATOR_HOST = `${auth.host}:${auth.port}`;
  process.env.METADATA_SERVER_DETECTION = "none";
  const { initializeApp, getApps } = require("firebase-admin/app");
  const app = getApps()[0] ?? initializeApp({ projectId });
  return { db: require("firebase-admin/firestore").getFirestore(app), auth: require("firebase-admin/auth").getAuth(app) };
}

export async function seedDemo({ db, auth }) {
  const { hashSecret } = require(join(ROOT, "functions/lib/links/webhook-secrets.js"));
  const { Timestamp } = require("firebase-admin/firestore");
  const now = Timestamp.now();
  try {
    await auth.createUser({ uid: DEMO.uid, email: DEMO.email, password: DEMO.password, displayName: "Demo Resident" });
  } catch (error) {
    if (error.code !== "auth/uid-already-exists") throw error;
  }
  const batch = db.batch();
  batch.set(db.doc(`users/${DEMO.uid}`), {
    butterflymx: {
      userId: String(DEMO.bmxUserId),
      email: DEMO.email,
      environment: "sandbox",
      region: "na",
      tenants: [{ id: DEMO.tenantId, unitId: String(DEMO.call.unit.id), unitLabel: DEMO.call.unit.label, buildingId: DEMO.buildingId,
        buildingName: DEMO.buildingName, doorReleaseEnabled: true, panelIds: [String(DEMO.call.panel.id)],
        accessPoints: [{ id: DEMO.accessPointId, name: DEMO.accessPointName }] }],
      // Linked two days ago: the local ButterflyMX's log holds a call from since then that never reached the
      // webhook, for `npm run diagnose` to find and `npm run reconcile` to record.
      linkedAt: Timestamp.fromMillis(Date.now() - 2 * 86_400_000),
      updatedAt: now,
    },
    preferences: { doNotDisturb: false, contactPreference: "mobile_app" },
  });
  batch.set(db.doc(`users/${DEMO.uid}/devices/demo-android`), {
    deviceId: "demo-android",
    uid: DEMO.uid,
    platform: "android",
    fcmToken: "demo-android-fcm-token",
    appVersion: "1.0.0",
    createdAt: now,
    updatedAt: now,
  });
  batch.set(db.doc(`users/${DEMO.uid}/devices/demo-iphone`), {
    deviceId: "demo-iphone",
    uid: DEMO.uid,
    platform: "ios",
    // As docs/contract.md recommends: PushKit to ring, FCM to stop the ringing.
    voipToken: "d".repeat(64),
    fcmToken: "demo-iphone-fcm-token",
    apnsEnvironment: "sandbox",
    bundleId: "com.example.intercom",
    appVersion: "1.0.0",
    createdAt: now,
    updatedAt: now,
  });
  batch.set(db.doc(`bmxUsers/${DEMO.bmxUserId}`), { uids: [DEMO.uid] });
  batch.set(db.doc(`webhookRegistrations/${hashSecret(DEMO.webhookSecret)}`), {
    uid: DEMO.uid,
    tenantId: DEMO.tenantId,
    bmxIntegrationId: "demo-integration",
    bmxUserId: String(DEMO.bmxUserId),
    region: "na",
    environment: "sandbox",
    createdAt: now,
  });
  // The sign-in the local ButterflyMX knows (see demo-butterflymx.mjs): door release and histories go through it.
  batch.set(db.doc(`oauthGrants/${DEMO.uid}`), {
    bmxUserId: String(DEMO.bmxUserId),
    environment: "sandbox",
    region: "na",
    accessToken: DEMO.bmxTokens.access,
    refreshToken: DEMO.bmxTokens.refresh,
    expiresAt: Timestamp.fromMillis(Date.now() + 365 * 86_400_000),
    updatedAt: now,
  });
  await batch.commit();
}
