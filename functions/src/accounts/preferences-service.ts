import { BmxError } from "../butterflymx/butterflymx-errors";
import { deletedUserRef, Preferences, userRef } from "../devices/user-profile";
import { GrantSession } from "../links/grant-store";
import { logs } from "../logs";
import { AccountDeleted } from "../shared/errors";
import { AccountDeps } from "./account-deps";
import { UpdatePreferencesInput } from "./preference-schemas";

/** What happened at ButterflyMX: the local preference holds whatever it says. */
export type PreferencesSync = "synced" | "not_linked" | "refused" | "unavailable";

export interface PreferencesResult {
  preferences: Preferences;
  butterflymx: PreferencesSync;
}

/**
 * Stores the resident's ring preferences (the ring honours them from the next call on), then asks ButterflyMX to
 * apply them to every tenancy of the linked account (`PUT /v4/tenants/{id}`), so that its own calls (a phone call
 * for `phone_call`) follow too. ButterflyMX may refuse a resident's change or be down: the answer says so, and the
 * local preference stays either way.
 */
export async function updatePreferences(deps: AccountDeps, uid: string, input: UpdatePreferencesInput): Promise<PreferencesResult> {
  const { db } = deps;
  const ref = userRef(db, uid);
  const change: Preferences = {
    ...(input.doNotDisturb !== undefined ? { doNotDisturb: input.doNotDisturb } : {}),
    ...(input.contactPreference !== undefined ? { contactPreference: input.contactPreference } : {}),
  };
  // In one transaction with the account's tombstone: a deleted user's still-valid token must not bring it back.
  const user = await db.runTransaction(async (tx) => {
    const [deleted, current] = await Promise.all([tx.get(deletedUserRef(db, uid)), tx.get(ref)]);
    if (deleted.exists) throw new AccountDeleted();
    tx.set(ref, { preferences: change }, { merge: true });
    return current;
  });
  const preferences: Preferences = { ...((user.get("preferences") as Preferences | undefined) ?? {}), ...change };
  const tenants = ((user.get("butterflymx.tenants") as Array<{ id?: unknown }> | undefined) ?? []).map((t) => t.id).filter((id): id is string => typeof id === "string");
  const session = tenants.length > 0 ? await GrantSession.open(db, deps.bmx, uid, { now: deps.now }) : undefined;
  const butterflymx = session ? await syncTenants(deps, session, tenants, change) : "not_linked";
  logs.preferencesUpdated({ uid, fields: Object.keys(change), butterflymx });
  return { preferences, butterflymx };
}

/** Each tenancy at once; the worst outcome speaks for all (one that could not be reached may be tried again). */
async function syncTenants(deps: AccountDeps, session: GrantSession, tenants: string[], change: Preferences): Promise<PreferencesSync> {
  const outcomes = await Promise.all(
    tenants.map(async (tenantId): Promise<PreferencesSync> => {
      try {
        await deps.bmx.updateTenantSettings(session, tenantId, change);
        return "synced";
      } catch (error) {
        if (!(error instanceof BmxError)) throw error;
        if (error.kind === "invalid_grant" || error.kind === "unauthorized") return "not_linked";
        if (error.kind === "rejected" || error.kind === "not_found") return "refused";
        return "unavailable";
      }
    }),
  );
  for (const worst of ["unavailable", "not_linked", "refused"] as const) if (outcomes.includes(worst)) return worst;
  return "synced";
}
