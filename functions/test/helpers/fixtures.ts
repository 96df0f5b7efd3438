import { randomUUID } from "node:crypto";
import { Firestore, Timestamp } from "firebase-admin/firestore";
import { parseCallEvent } from "../../src/butterflymx/call-events";
import { CallDocument } from "../../src/calls/call-document";
import { SeenCall } from "../../src/calls/call-repository";
import { recordCallEvent } from "../../src/calls/record-call-event";
import { DeviceRecord } from "../../src/calls/device-records";
import { REGION } from "../../src/config";
import { hashSecret, newWebhookSecret } from "../../src/links/webhook-secrets";
import { TEST_APNS } from "../fakes/tls";
import { createBody } from "./butterflymx-payloads";
import { signUp } from "./callables";
import { functionsOrigin, FUNCTIONS_PROJECT_ID } from "./emulators";

/*
 * The emulator suites' shared set-up: devices as apps register them, residents and calls written the way the
 * product writes them, and readers of what it wrote. A test file takes what it needs from here and varies a field by
 * spreading (`{ ...ANDROID, fcmToken: "…" }`), so that every test sets up what it uses and nothing is copied.
 */

/** A PushKit token: 32 bytes in hex, distinct per `n`. */
export const VOIP_TOKEN = (n: number) => n.toString(16).padStart(2, "0").repeat(32);

/** A device as `registerDevice` stores it (its input, plus what the registry adds). */
export type DeviceFixture = Record<string, unknown> & { deviceId: string };

/** An Android phone: FCM. */
export const ANDROID = { deviceId: "pixel", platform: "android", fcmToken: "fcm-android-000001" };
/** An iPhone as docs/contract.md recommends: a VoIP token to ring (PushKit) and an FCM token to stop the ringing. */
export const IPHONE = { deviceId: "iphone", platform: "ios", voipToken: VOIP_TOKEN(1), fcmToken: "fcm-iphone-0000001", bundleId: TEST_APNS.bundleId, apnsEnvironment: "production" };
/** An iOS app without PushKit: rung with an FCM alert, stopped with another. */
export const IPAD_FCM_ONLY = { deviceId: "ipad", platform: "ios", fcmToken: "fcm-ipad-00000001" };
/** The pitfall: a VoIP token alone, so that no stop can reach it (the app ends the call from the call document). */
export const IPHONE_VOIP_ONLY = { deviceId: "old-iphone", platform: "ios", voipToken: VOIP_TOKEN(2), bundleId: TEST_APNS.bundleId, apnsEnvironment: "production" };

/** A resident with devices (as registerDevice stores them) and optional preferences. */
export async function seedResident(db: Firestore, uid: string, devices: DeviceFixture[], preferences: Record<string, unknown> = {}): Promise<void> {
  const now = Timestamp.now();
  const batch = db.batch();
  batch.set(db.doc(`users/${uid}`), { preferences: { doNotDisturb: false, contactPreference: "mobile_app", ...preferences } });
  for (const device of devices) batch.set(db.doc(`users/${uid}/devices/${device.deviceId}`), { uid, createdAt: now, updatedAt: now, ...device });
  await batch.commit();
}

/** A ringing call for these recipients, written the way the webhook writes it. Returns the guid. */
export async function seedRingingCall(db: Firestore, recipients: string[], options: { createdAt?: number; body?: Record<string, unknown> } = {}): Promise<string> {
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

/** `calls/{guid}` as stored; undefined when there is none. */
export async function readCall(db: Firestore, guid: string): Promise<CallDocument | undefined> {
  return (await db.doc(`calls/${guid}`).get()).data() as CallDocument | undefined;
}

/** `calls/{guid}` as stored, which the test expects to exist. */
export async function storedCall(db: Firestore, guid: string): Promise<CallDocument> {
  const call = await readCall(db, guid);
  if (!call) throw new Error(`calls/${guid} does not exist`);
  return call;
}

/** The call's current version, as a trigger's event would carry it. */
export async function seenCall(db: Firestore, guid: string): Promise<SeenCall> {
  const snapshot = await db.doc(`calls/${guid}`).get();
  return { call: snapshot.data() as CallDocument, updateTime: snapshot.updateTime! };
}

/**
 * The call as the event of the webhook's own commit carries it to a trigger: its ring claim (`ring`, the create's
 * event to `onCallCreated`) or its stop claim (`stop`, the ending status's event to `onCallUpdated`) still held by the
 * webhook's request, whatever the request did since.
 */
export async function claimedVersion(db: Firestore, guid: string, claim: "ring" | "stop"): Promise<SeenCall> {
  const snapshot = await db.doc(`calls/${guid}`).get();
  const call = snapshot.data() as CallDocument;
  const lease = { holder: "the-webhook", until: Timestamp.fromMillis(Date.now() + 5_000) };
  if (claim === "ring") {
    const delivery = { state: "ringing" as const, ringClaimedAt: call.createdAt, ringLease: lease };
    return { call: { ...call, status: "ringing", delivery }, updateTime: snapshot.createTime! };
  }
  const stop = { state: "stopping" as const, claimedAt: call.endedAt ?? call.updatedAt, lease, allDevices: false, devices: 0, sent: 0, failed: 0, unreachable: 0 };
  return { call: { ...call, delivery: { ...call.delivery, stop } }, updateTime: call.updatedAt };
}

/** `calls/{guid}/deliveries/{deviceId}`, the device record of one device on one call. */
export async function readDeviceRecord(db: Firestore, guid: string, deviceId: string): Promise<DeviceRecord | undefined> {
  return (await db.doc(`calls/${guid}/deliveries/${deviceId}`).get()).data() as DeviceRecord | undefined;
}

/** An app user of the emulated functions, signed in, whose webhook URL is registered as linking leaves it. */
export interface RegisteredResident {
  uid: string;
  idToken: string;
  /** POSTs a ButterflyMX body to the resident's own webhook URL. */
  post(body: unknown): Promise<Response>;
}

/**
 * For the e2e suites: a new Auth user linked to ButterflyMX user `bmxUserId` (its registration and `bmxUsers` entry,
 * written in the emulated functions' project), so that ButterflyMX's events for that user ring them.
 */
export async function registeredResident(db: Firestore, bmxUserId: number): Promise<RegisteredResident> {
  const { uid, idToken } = await signUp(`resident-${randomUUID()}@example.com`);
  const secret = newWebhookSecret();
  await db.doc(`webhookRegistrations/${hashSecret(secret)}`).set({
    uid,
    tenantId: `tenant-${bmxUserId}`,
    bmxIntegrationId: `integration-${bmxUserId}`,
    bmxUserId: String(bmxUserId),
    region: "na",
    createdAt: Timestamp.now(),
  });
  await db.doc(`bmxUsers/${bmxUserId}`).set({ uids: [uid] });
  const url = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook/${secret}`;
  return { uid, idToken, post: (body) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }) };
}

/**
 * The environment the functions emulator gives the deployed functions, for a test file that loads them itself (the
 * `wrap()` suites): the emulator flag (which lets `PUSH_*` and `BUTTERFLYMX_*` overrides through), the project, the
 * params at their defaults, and `extra`.
 */
export function configureAsEmulated(projectId: string, extra: Record<string, string>): void {
  Object.assign(process.env, { FUNCTIONS_EMULATOR: "true", GCLOUD_PROJECT: projectId, RING_WINDOW_SECONDS: "40", CALL_RETENTION_DAYS: "30", ...extra });
}
