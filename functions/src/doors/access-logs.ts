import { createHash } from "node:crypto";
import { DocumentReference, Firestore, Query, Timestamp } from "firebase-admin/firestore";

/**
 * `accessLogs/{id}`: door release requests and their results, linked to a call when there is one; readable by
 * the resident they belong to (`uid`). Written by `releaseDoor`, removed with a deleted user. The id derives from
 * the caller and their request id, so a repeated request finds its first answer.
 */
export const ACCESS_LOGS = "accessLogs";

/** What ButterflyMX did with a door release: `unknown` when its answer never came (it may have opened). */
export type ReleaseResult = "released" | "refused" | "failed" | "unknown";

/**
 * Where ButterflyMX opened the door, as its own SDKs do: during a call (ringing or talking), the `open_door`
 * notification to the calling panel, which also stops its dialling; after a call, the door list's v3 `open_door`;
 * an access point, v4's door release request.
 */
export type DoorPath = "/v3/notifications/open_door" | "/v3/me/open_door" | "/v4/door_release_requests";

export interface AccessLogDocument {
  uid: string;
  requestId: string;
  /** `in_call`: the door of the panel that called; `access_point`: an access point of the caller's building. */
  method: "in_call" | "access_point";
  /** The ButterflyMX request that opened it (absent on entries from before it was recorded). */
  path?: DoorPath;
  callGuid?: string;
  tenantId?: string;
  accessPointId?: string;
  panel?: { id: string; name: string };
  unitId?: string;
  requestedAt: Timestamp;
  /** `pending` while ButterflyMX is asked; `until` bounds how long (the asking instance may die). */
  result: ReleaseResult | "pending";
  pendingUntil?: Timestamp;
  /** ButterflyMX's id of the release, when it said one. */
  bmxId?: string;
  /** ButterflyMX's words when it refused or failed; or the error this request was answered with. */
  message?: string;
  error?: { code: string; message: string };
  finishedAt?: Timestamp;
  /** `requestedAt` + CALL_RETENTION_DAYS: Firestore's TTL policy deletes the entry after it, as it does the calls. */
  expireAt: Timestamp;
}

export function accessLogId(uid: string, requestId: string): string {
  return createHash("sha256").update(`${uid}\n${requestId}`, "utf8").digest("hex").slice(0, 40);
}

export function accessLogRef(db: Firestore, id: string): DocumentReference {
  return db.collection(ACCESS_LOGS).doc(id);
}

/** One resident's access log entries. */
export function accessLogsOf(db: Firestore, uid: string): Query {
  return db.collection(ACCESS_LOGS).where("uid", "==", uid);
}
