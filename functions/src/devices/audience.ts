import { Firestore } from "firebase-admin/firestore";
import { Device, devicesOf } from "./device-registry";
import { Preferences, userRef } from "./user-profile";

/** Why a recipient gets no push: their own settings, applied before fan-out. */
export type SkipReason = "do_not_disturb" | "phone_call";

export interface AudienceMember {
  uid: string;
  skip?: SkipReason;
  devices: Device[];
}

/**
 * The call's recipients with their preferences and devices. Preferences and devices are read at once (one round
 * trip before the first push); a skipped recipient's devices are read for nothing, a rare cost worth the time.
 */
export async function loadAudience(db: Firestore, uids: readonly string[]): Promise<AudienceMember[]> {
  if (uids.length === 0) return [];
  const [users, devices] = await Promise.all([
    db.getAll(...uids.map((uid) => userRef(db, uid))),
    Promise.all(uids.map((uid) => devicesOf(db, uid))),
  ]);
  return uids.map((uid, i) => {
    const skip = skipReason(users[i].get("preferences"));
    return skip ? { uid, skip, devices: [] } : { uid, devices: devices[i] };
  });
}

function skipReason(preferences: unknown): SkipReason | undefined {
  // Stored by our own callables, but read defensively: only an explicit setting skips a resident.
  const p = (preferences ?? {}) as { [K in keyof Preferences]?: unknown };
  if (p.doNotDisturb === true) return "do_not_disturb";
  if (p.contactPreference === "phone_call") return "phone_call";
  return undefined;
}
