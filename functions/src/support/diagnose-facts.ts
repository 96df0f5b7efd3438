import { Firestore, Timestamp } from "firebase-admin/firestore";
import type { BmxCallLogEntry, BmxProfile, ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { CallDocument } from "../calls/call-document";
import { CALLS, callRef } from "../calls/call-repository";
import { DeviceRecord, ringRecordsOf } from "../calls/device-records";
import { Device, devicesOf } from "../devices/device-registry";
import { ButterflyMxLinkInfo, Preferences, userRef } from "../devices/user-profile";
import { GrantSession } from "../links/grant-store";
import { registrationsOf, readRegistration } from "../links/registrations";
import { hashSecret, secretAtEnd } from "../links/webhook-secrets";
import { mapWithConcurrency } from "../shared/concurrency";

export interface DiagnoseDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  now: () => number;
}

/** What ButterflyMX said, or why it could not be asked. */
export type Asked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Everything the checks look at, read once. */
export interface Facts {
  uid: string;
  now: number;
  link?: ButterflyMxLinkInfo;
  preferences: Preferences;
  grant?: { live: boolean; invalidSince?: Timestamp };
  devices: Device[];
  /** Our registrations of the resident's webhook URLs, by tenant: the SHA-256s of their secrets. */
  registrations: Map<string, string[]>;
  /**
   * The resident's latest calls, newest first, with their devices' ring records (a record with a stop only, from a
   * stop that reached every current device, is about no ring and left out).
   */
  calls: Array<{ call: CallDocument; records: DeviceRecord[] }>;
  bmx: {
    profile: Asked<BmxProfile>;
    /** Per linked tenant: whether ButterflyMX holds an integration whose URL carries one of our registered secrets. */
    integrations: Map<string, Asked<boolean>>;
    /** The first page of the resident's ButterflyMX call log, with whether each call reached us. */
    log: Asked<Array<BmxCallLogEntry & { recorded?: CallDocument }>>;
  };
}

/** Reads what `diagnose` needs: our documents, and what ButterflyMX says with the resident's own sign-in. */
export async function gatherFacts(deps: DiagnoseDeps, uid: string, recentCalls: number): Promise<Facts> {
  const { db } = deps;
  const [profile, session, devices, registrations, calls] = await Promise.all([
    userRef(db, uid).get(),
    GrantSession.open(db, deps.bmx, uid, { now: deps.now }),
    devicesOf(db, uid),
    registrationsOf(db, uid).get(),
    db.collection(CALLS).where("recipients", "array-contains", uid).orderBy("createdAt", "desc").limit(recentCalls).get(),
  ]);
  const byTenant = new Map<string, string[]>();
  for (const doc of registrations.docs) {
    const registration = readRegistration(doc);
    if (registration) byTenant.set(registration.tenantId, [...(byTenant.get(registration.tenantId) ?? []), doc.id]);
  }
  const link = profile.get("butterflymx") as ButterflyMxLinkInfo | undefined;
  const facts: Facts = {
    uid,
    now: deps.now(),
    ...(link ? { link } : {}),
    preferences: (profile.get("preferences") as Preferences | undefined) ?? {},
    ...(session ? { grant: { live: !session.dead, ...(session.invalidSince ? { invalidSince: session.invalidSince } : {}) } } : {}),
    devices,
    registrations: byTenant,
    calls: await mapWithConcurrency(calls.docs, 5, async (doc) => ({
      call: doc.data() as CallDocument,
      records: await ringRecordsOf(doc.ref, uid),
    })),
    bmx: { profile: notAsked("not_linked"), integrations: new Map(), log: notAsked("not_linked") },
  };
  if (link && session && !session.dead) facts.bmx = await askButterflyMx(deps, session, link, byTenant);
  return facts;
}

function notAsked<T>(reason: string): Asked<T> {
  return { ok: false, reason };
}

async function ask<T>(work: () => Promise<T>): Promise<Asked<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (!(error instanceof BmxError)) throw error;
    return { ok: false, reason: error.kind };
  }
}

async function askButterflyMx(deps: DiagnoseDeps, session: GrantSession, link: ButterflyMxLinkInfo, registrations: Map<string, string[]>): Promise<Facts["bmx"]> {
  const [profile, log, ...integrations] = await Promise.all([
    ask(() => deps.bmx.me(session)),
    ask(() => deps.bmx.callLog(session)),
    ...link.tenants.map((tenant) =>
      ask(async () => {
        const ours = new Set(registrations.get(tenant.id) ?? []);
        const listed = await deps.bmx.listIntegrations(session, { kind: "tenant", id: tenant.id });
        return listed.some((integration) => {
          const secret = secretAtEnd(integration.url);
          return secret !== undefined && ours.has(hashSecret(secret));
        });
      }),
    ),
  ]);
  let recordedLog: Facts["bmx"]["log"] = log.ok ? { ok: true, value: log.value.calls } : log;
  if (log.ok) {
    const guids = [...new Set(log.value.calls.flatMap((c) => (c.guid ? [c.guid] : [])))];
    const snapshots = guids.length > 0 ? await deps.db.getAll(...guids.map((guid) => callRef(deps.db, guid))) : [];
    const known = new Map(snapshots.filter((s) => s.exists).map((s) => [s.id, s.data() as CallDocument]));
    recordedLog = { ok: true, value: log.value.calls.map((c) => ({ ...c, ...(c.guid && known.has(c.guid) ? { recorded: known.get(c.guid) } : {}) })) };
  }
  return { profile, log: recordedLog, integrations: new Map(link.tenants.map((tenant, i) => [tenant.id, integrations[i]])) };
}

