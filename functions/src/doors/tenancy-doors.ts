import { Firestore, Timestamp } from "firebase-admin/firestore";
import type { BmxSession, BmxTenant, ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { LinkedTenant, userRef } from "../devices/user-profile";

/**
 * The doors ButterflyMX lists for each tenancy: its panels come with the tenancy (`me`); every access point of its
 * building is read here, one request for all the buildings. A door release trusts these lists, never an event's ids.
 */
export async function withDoors(bmx: ButterflyMxClient, session: BmxSession, tenants: BmxTenant[]): Promise<LinkedTenant[]> {
  const buildings = [...new Set(tenants.flatMap((tenant) => (tenant.buildingId ? [tenant.buildingId] : [])))];
  const points = await bmx.accessPoints(session, buildings);
  return tenants.map((tenant) => ({
    ...tenant,
    ...(tenant.buildingId
      ? { accessPoints: points.filter((point) => point.buildingId === tenant.buildingId).map(({ id, name }) => ({ id, ...(name ? { name } : {}) })) }
      : {}),
  }));
}

/** What ButterflyMX says about a tenancy's doors; refreshed as a whole. */
const DOOR_FACTS = ["panelIds", "accessPoints", "doorReleaseEnabled"] as const;

/**
 * Reads the linked user's tenancies and their doors from ButterflyMX again and stores their door facts on
 * `users/{uid}.butterflymx.tenants` (a door added after linking becomes known). A tenancy ButterflyMX no longer
 * lists keeps no door; tenancies are not added (that takes a link, which registers their webhooks). Returns the
 * stored tenancies, or none when the link changed meanwhile.
 */
export async function refreshDoors(deps: { db: Firestore; bmx: ButterflyMxClient; now: () => number }, uid: string, session: BmxSession): Promise<LinkedTenant[]> {
  const profile = await deps.bmx.me(session);
  const fresh = await withDoors(deps.bmx, session, profile.tenants);
  const ref = userRef(deps.db, uid);
  return deps.db.runTransaction(async (tx) => {
    const user = await tx.get(ref);
    if (user.get("butterflymx.userId") !== profile.userId) return [];
    const tenants = ((user.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? []).map((stored) => {
      const rest = Object.fromEntries(Object.entries(stored).filter(([key]) => !(DOOR_FACTS as readonly string[]).includes(key))) as LinkedTenant;
      const listed = fresh.find((tenant) => tenant.id === stored.id);
      const facts = listed ? Object.fromEntries(DOOR_FACTS.flatMap((key) => (listed[key] !== undefined ? [[key, listed[key]]] : []))) : { panelIds: [], accessPoints: [] };
      return { ...rest, ...facts };
    });
    tx.update(ref, { "butterflymx.tenants": tenants, "butterflymx.updatedAt": Timestamp.fromMillis(deps.now()) });
    return tenants;
  });
}
