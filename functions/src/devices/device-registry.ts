import { CollectionReference, DocumentData, DocumentReference, DocumentSnapshot, FieldValue, Firestore, Timestamp } from "firebase-admin/firestore";
import { AccountDeleted, Conflict, InvalidInput, LimitReached } from "../shared/errors";
import { deletedUserRef, userRef } from "./user-profile";

/**
 * `users/{uid}/devices/{deviceId}`: one install of the app and its push tokens. Written by `registerDevice`,
 * removed by `unregisterDevice` / `signOut`, pruned when a provider declares a token dead; read by the ring and stop.
 */
export const DEVICES = "devices";

/** What a device document may say, for `registerDevice`'s schema and for the ring's reading alike. */
export const PLATFORMS = ["android", "ios"] as const;
export const APNS_ENVIRONMENTS = ["production", "sandbox"] as const;
type Platform = (typeof PLATFORMS)[number];
type ApnsEnvironment = (typeof APNS_ENVIRONMENTS)[number];

/** An install's registration, as `registerDevice`'s schema leaves it (tokens checked, hex lowercased). */
export interface DeviceRegistration extends StoredDevice {
  appVersion?: string;
  locale?: string;
}

export interface DeviceDefaults {
  apnsEnvironment: ApnsEnvironment;
  /** Empty when no default bundle ID is configured. */
  bundleId: string;
}

export interface RegisteredDevice {
  deviceId: string;
  /** Other device documents that held this install or one of its tokens and were removed. */
  moved: number;
}

export function devicesRef(db: Firestore, uid: string): CollectionReference {
  return userRef(db, uid).collection(DEVICES);
}

export function deviceRef(db: Firestore, uid: string, deviceId: string): DocumentReference {
  return devicesRef(db, uid).doc(deviceId);
}

/**
 * Devices one user may register. Each ring reads and pushes to every one of them, so the cap bounds what one
 * account can make every call cost; a family's phones and tablets fit well within it.
 */
export const MAX_DEVICES_PER_USER = 10;

/**
 * Upserts `users/{uid}/devices/{deviceId}` with the install's current tokens. A token held by another document
 * (another user, or this user's previous install) moves here: a phone rings for one account. An install id held
 * by another user moves only when the caller also presents that install's token: the token proves possession, an
 * id alone does not. A user holds at most MAX_DEVICES_PER_USER devices.
 */
export async function registerDevice(
  db: Firestore,
  uid: string,
  input: DeviceRegistration,
  context: { now: Timestamp; defaults: DeviceDefaults },
): Promise<RegisteredDevice> {
  const ios = input.platform === "ios";
  const bundleId = ios ? (input.bundleId ?? (context.defaults.bundleId || undefined)) : undefined;
  if (ios && input.voipToken && !bundleId) {
    throw new InvalidInput("bundleId", "is required with a voipToken (no APNS_BUNDLE_ID default is configured)");
  }
  const ref = deviceRef(db, uid, input.deviceId);
  const devices = db.collectionGroup(DEVICES);
  const presented = new Set([input.fcmToken, input.voipToken].filter((token): token is string => Boolean(token)));
  return db.runTransaction(async (tx) => {
    const [deleted, own, mine, sameId, ...sameToken] = await Promise.all([
      tx.get(deletedUserRef(db, uid)),
      tx.get(ref),
      tx.get(devicesRef(db, uid)),
      tx.get(devices.where("deviceId", "==", input.deviceId)),
      ...(input.fcmToken ? [tx.get(devices.where("fcmToken", "==", input.fcmToken))] : []),
      ...(input.voipToken ? [tx.get(devices.where("voipToken", "==", input.voipToken))] : []),
    ]);
    if (deleted.exists) throw new AccountDeleted();
    const others = new Map<string, DocumentReference>();
    for (const doc of sameId.docs) {
      if (doc.ref.path === ref.path) continue;
      if (!presented.has(doc.get("fcmToken")) && !presented.has(doc.get("voipToken"))) {
        throw new Conflict(`deviceId ${input.deviceId} is registered to another account: sign out there first, or register with that install's current push token.`);
      }
      others.set(doc.ref.path, doc.ref);
    }
    for (const snapshot of sameToken) for (const doc of snapshot.docs) if (doc.ref.path !== ref.path) others.set(doc.ref.path, doc.ref);
    const kept = mine.docs.filter((doc) => doc.ref.path !== ref.path && !others.has(doc.ref.path)).length;
    if (kept + 1 > MAX_DEVICES_PER_USER) {
      throw new LimitReached(`This account already has ${kept} devices, the most it may have (${MAX_DEVICES_PER_USER}): unregister one first.`);
    }
    for (const other of others.values()) tx.delete(other);
    tx.set(ref, {
      deviceId: input.deviceId,
      uid,
      platform: input.platform,
      ...(input.fcmToken ? { fcmToken: input.fcmToken } : {}),
      ...(input.voipToken ? { voipToken: input.voipToken } : {}),
      ...(ios ? { apnsEnvironment: input.apnsEnvironment ?? context.defaults.apnsEnvironment } : {}),
      ...(bundleId ? { bundleId } : {}),
      ...(input.appVersion ? { appVersion: input.appVersion } : {}),
      ...(input.locale ? { locale: input.locale } : {}),
      createdAt: own.exists ? (own.get("createdAt") ?? context.now) : context.now,
      updatedAt: context.now,
    });
    return { deviceId: input.deviceId, moved: others.size };
  });
}

/** Removes one install; nothing more reaches it. Idempotent. */
export async function unregisterDevice(db: Firestore, uid: string, deviceId: string): Promise<{ deviceId: string; removed: boolean }> {
  const ref = deviceRef(db, uid, deviceId);
  return db.runTransaction(async (tx) => {
    const snapshot = await tx.get(ref);
    if (snapshot.exists) tx.delete(ref);
    return { deviceId, removed: snapshot.exists };
  });
}

/** `users/{uid}/devices/{deviceId}`, the fields a push needs. */
export interface StoredDevice {
  deviceId: string;
  platform: Platform;
  fcmToken?: string;
  voipToken?: string;
  apnsEnvironment?: ApnsEnvironment;
  bundleId?: string;
}

export interface Device extends StoredDevice {
  uid: string;
  updatedAt?: Timestamp;
}

/** A user's devices; documents that do not parse are skipped (they cannot be rung). */
export async function devicesOf(db: Firestore, uid: string): Promise<Device[]> {
  const snapshot = await devicesRef(db, uid).get();
  return snapshot.docs.flatMap((doc) => toDevice(uid, doc) ?? []);
}

/** A stored device document as a Device; undefined when it is missing or does not parse. */
export function toDevice(uid: string, doc: DocumentSnapshot): Device | undefined {
  if (!doc.exists) return undefined;
  const device = storedDevice(doc.id, doc.data());
  return device && { ...device, uid, updatedAt: doc.get("updatedAt") };
}

/**
 * Checked by hand, not with a zod schema: the ring and stop triggers read devices, and zod would add about 50 ms
 * to every cold start of theirs (docs/PERFORMANCE.md). `registerDevice` validated the tokens on the way in; this
 * only makes sure that a document written some other way cannot break a push.
 */
function storedDevice(deviceId: string, data: DocumentData | undefined): StoredDevice | undefined {
  if (!data || !PLATFORMS.includes(data.platform)) return undefined;
  if (OPTIONAL_TEXT.some((key) => data[key] !== undefined && typeof data[key] !== "string")) return undefined;
  if (data.apnsEnvironment !== undefined && !APNS_ENVIRONMENTS.includes(data.apnsEnvironment)) return undefined;
  const device: StoredDevice = { deviceId, platform: data.platform };
  for (const key of OPTIONAL_TEXT) if (data[key] !== undefined) device[key] = data[key];
  if (data.apnsEnvironment !== undefined) device.apnsEnvironment = data.apnsEnvironment;
  return device;
}

const OPTIONAL_TEXT = ["fcmToken", "voipToken", "bundleId"] as const;

export type TokenKind = "fcmToken" | "voipToken";

/**
 * Token hygiene after a provider said the token is dead. Only that token goes, and only if the device still
 * holds it and did not re-register after the provider's `invalidSince`; a device left with no token is removed.
 */
export async function pruneToken(
  db: Firestore,
  device: { uid: string; deviceId: string },
  kind: TokenKind,
  token: string,
  invalidSince?: number,
): Promise<"pruned" | "removed" | "kept"> {
  const ref = deviceRef(db, device.uid, device.deviceId);
  return db.runTransaction(async (tx) => {
    const snapshot = await tx.get(ref);
    if (!snapshot.exists || snapshot.get(kind) !== token) return "kept";
    const updatedAt = snapshot.get("updatedAt") as Timestamp | undefined;
    if (invalidSince !== undefined && updatedAt && updatedAt.toMillis() > invalidSince) return "kept";
    const other: TokenKind = kind === "fcmToken" ? "voipToken" : "fcmToken";
    if (!snapshot.get(other)) {
      tx.delete(ref);
      return "removed";
    }
    tx.update(ref, { [kind]: FieldValue.delete() });
    return "pruned";
  });
}
