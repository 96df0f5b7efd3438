import { FieldPath, FieldValue, Firestore, Timestamp } from "firebase-admin/firestore";
import { CALLS } from "../calls/call-repository";
import { deviceRecordsOf } from "../calls/device-records";
import { devicesRef } from "../devices/device-registry";
import { DELETED_USER_DAYS, deletedUserRef, userRef } from "../devices/user-profile";
import { accessLogsOf } from "../doors/access-logs";
import { bmxUserRef, removeUid } from "../links/bmx-users";
import { grantRef, GrantSession } from "../links/grant-store";
import { readRegistration, registrationsOf } from "../links/registrations";
import { logs } from "../logs";
import { mapWithConcurrency } from "../shared/concurrency";
import { ifUnchanged } from "../shared/firebase";
import { AccountDeps } from "./account-deps";
import { deleteIntegrationQuietly, revokeQuietly } from "./link-service";

export interface UnlinkResult {
  /** Whether there was a ButterflyMX link to remove. */
  wasLinked: boolean;
  integrationsDeleted: number;
  /** Integrations ButterflyMX could not delete (down, or the grant already dead); their URLs now answer 404. */
  integrationsLeft: number;
  devicesRemoved: number;
}

/**
 * Logout from ButterflyMX everywhere: deletes the resident's integrations at ButterflyMX, then (in one
 * transaction) their webhook registrations, `bmxUsers` entries, grant, link info and every device, then revokes
 * the grant. ButterflyMX being down does not block it: from the commit on, nothing can ring this resident
 * (their webhook URLs answer 404 and no ButterflyMX user resolves to them). Idempotent.
 */
export async function unlinkAccount(deps: AccountDeps, uid: string): Promise<UnlinkResult> {
  const { db } = deps;
  const [session, registrations] = await Promise.all([
    GrantSession.open(db, deps.bmx, uid, { now: deps.now }),
    registrationsOf(db, uid).get(),
  ]);
  const remote = await mapWithConcurrency(registrations.docs, 4, async (doc) => {
    const registration = readRegistration(doc);
    if (!registration?.bmxIntegrationId) return true; // nothing at ButterflyMX we could name
    const target = { tenantId: registration.tenantId, integrationId: registration.bmxIntegrationId };
    if (!session) {
      logs.integrationLeft({ uid, ...target }, new Error("no grant to delete it with"));
      return false;
    }
    return deleteIntegrationQuietly(deps, session, target, uid);
  });

  const local = await db.runTransaction(async (tx) => {
    const profile = userRef(db, uid);
    const [user, grant, ownRegistrations, devices] = await Promise.all([
      tx.get(profile),
      tx.get(grantRef(db, uid)),
      tx.get(registrationsOf(db, uid)),
      tx.get(devicesRef(db, uid)),
    ]);
    const bmxUserIds = new Set(
      [user.get("butterflymx.userId"), grant.get("bmxUserId"), ...ownRegistrations.docs.map((d) => d.get("bmxUserId"))].filter(
        (id): id is string => typeof id === "string" && id.length > 0,
      ),
    );
    const links = await Promise.all([...bmxUserIds].map((id) => tx.get(bmxUserRef(db, id))));
    for (const doc of ownRegistrations.docs) tx.delete(doc.ref);
    for (const doc of devices.docs) tx.delete(doc.ref);
    for (const link of links) if (link.exists) removeUid(tx, link.ref, link.get("uids"), uid);
    if (grant.exists) tx.delete(grant.ref);
    if (user.get("butterflymx") !== undefined) tx.update(profile, { butterflymx: FieldValue.delete() });
    return {
      wasLinked: grant.exists || user.get("butterflymx") !== undefined || !ownRegistrations.empty,
      devicesRemoved: devices.size,
      refreshToken: grant.get("refreshToken") as string | undefined,
    };
  });
  if (local.refreshToken) await revokeQuietly(deps, local.refreshToken, uid);

  const result = {
    wasLinked: local.wasLinked,
    integrationsDeleted: remote.filter(Boolean).length,
    integrationsLeft: remote.filter((ok) => !ok).length,
    devicesRemoved: local.devicesRemoved,
  };
  logs.accountUnlinked({ uid, ...result });
  return result;
}

export interface DeletionResult extends UnlinkResult {
  callsDeleted: number;
  callsLeft: number;
}

/**
 * A deleted Firebase Auth user leaves nothing behind: the ButterflyMX link (as unlinkAccount), their profile
 * and devices, their access logs, and their place in calls (a call rung for them alone is deleted with its
 * device records; in shared calls they leave `recipients` and their device records go). Idempotent.
 */
export async function deleteUserData(deps: AccountDeps, uid: string): Promise<DeletionResult> {
  const { db } = deps;
  // First, so that a still-valid ID token of this user can write nothing from now on (see deletedUserRef).
  const now = deps.now();
  await deletedUserRef(db, uid).set({ deletedAt: Timestamp.fromMillis(now), expireAt: Timestamp.fromMillis(now + DELETED_USER_DAYS * 86_400_000) });
  const unlinked = await unlinkAccount(deps, uid);
  let callsDeleted = 0;
  let callsLeft = 0;
  for (;;) {
    const page = await db.collection(CALLS).where("recipients", "array-contains", uid).limit(100).get();
    if (page.empty) break;
    await mapWithConcurrency(page.docs, 10, async (call) => {
      const recipients = (call.get("recipients") as unknown[] | undefined) ?? [];
      if (recipients.every((r) => r === uid)) {
        await db.recursiveDelete(call.ref);
        callsDeleted++;
        return;
      }
      const records = await deviceRecordsOf(call.ref).where("uid", "==", uid).get();
      const batch = db.batch();
      for (const record of records.docs) batch.delete(record.ref);
      // Every trace of the uid on a call the others keep; on the version read, so that a door release by someone
      // else landing meanwhile keeps its `by` (a call that changed is found again by the next page).
      const openedTheDoor = call.get("doorRelease.by") === uid;
      batch.update(
        call.ref,
        "recipients",
        FieldValue.arrayRemove(uid),
        new FieldPath("delivery", "recipients", uid),
        FieldValue.delete(),
        new FieldPath("delivery", "recipientDevices", uid),
        FieldValue.delete(),
        ...(openedTheDoor ? [new FieldPath("doorRelease", "by"), FieldValue.delete()] : []),
        { lastUpdateTime: call.updateTime },
      );
      if (await ifUnchanged(batch.commit())) callsLeft++;
    });
  }
  await deleteWhere(db, accessLogsOf(db, uid));
  await db.recursiveDelete(userRef(db, uid));
  const result = { ...unlinked, callsDeleted, callsLeft };
  logs.userDataDeleted({ uid, ...result });
  return result;
}

async function deleteWhere(db: Firestore, query: FirebaseFirestore.Query): Promise<void> {
  for (;;) {
    const page = await query.limit(200).get();
    if (page.empty) return;
    await Promise.all(page.docs.map((doc) => db.recursiveDelete(doc.ref)));
  }
}
