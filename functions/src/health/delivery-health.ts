import { Firestore, Timestamp } from "firebase-admin/firestore";
import { Channel, DEVICE_RECORDS } from "../calls/device-records";
import { logs } from "../logs";
import { HealthIncident, healthIncidentRef, IncidentKind, Provider } from "./health-incidents";

/** How far back each run looks: three runs' worth, so a short burst is still seen by the next run. */
export const HEALTH_WINDOW_MS = 15 * 60_000;

/** The channels of each provider, as device records name them. */
const CHANNELS: Readonly<Record<Provider, readonly Channel[]>> = { fcm: ["fcm_android", "fcm_ios"], apns: ["apns_voip"] };

/** The provider a channel goes through. */
export function providerOf(channel: Channel): Provider {
  return CHANNELS.fcm.includes(channel) ? "fcm" : "apns";
}

/** Ring outcomes that are failures ("sent" was accepted; "canceled" was no longer wanted), each counted. */
export const FAILURE_REASONS = ["retry", "prune", "throttled", "credentials", "payload", "failed", "expired"] as const;

export interface ProviderWindow {
  /** Rings recorded in the window. */
  total: number;
  failed: number;
  byReason: Record<string, number>;
}

export interface HealthWindow {
  start: number;
  end: number;
  providers: Record<Provider, ProviderWindow>;
}

export interface HealthThresholds {
  /** A provider whose share of failed rings reaches this (0 to 1)… */
  failureRate: number;
  /** …among at least this many rings in the window, has an incident. */
  minRings: number;
}

export interface HealthDeps {
  db: Firestore;
  now: () => number;
  thresholds: HealthThresholds;
}

/**
 * The window's rings per provider and per failure reason, counted by aggregation queries over the device records
 * (`count()`: one read per 1,000 records counted, at least one per query), never by reading the records: 3 channels
 * times (1 total + 7 reasons) = 24 queries a run, whatever the volume up to a thousand rings per channel and reason.
 */
export async function measureWindow(db: Firestore, end: number): Promise<HealthWindow> {
  const start = end - HEALTH_WINDOW_MS;
  const inWindow = (channel: string) =>
    db.collectionGroup(DEVICE_RECORDS).where("ring.channel", "==", channel).where("ring.at", ">=", Timestamp.fromMillis(start)).where("ring.at", "<", Timestamp.fromMillis(end));
  const count = async (query: FirebaseFirestore.Query) => (await query.count().get()).data().count;
  const providers = {} as Record<Provider, ProviderWindow>;
  await Promise.all(
    (Object.keys(CHANNELS) as Provider[]).map(async (provider) => {
      const perChannel = await Promise.all(
        CHANNELS[provider].map(async (channel) => {
          const [total, ...reasons] = await Promise.all([count(inWindow(channel)), ...FAILURE_REASONS.map((reason) => count(inWindow(channel).where("ring.outcome", "==", reason)))]);
          return { total, reasons };
        }),
      );
      const byReason = Object.fromEntries(FAILURE_REASONS.map((reason, i) => [reason, perChannel.reduce((sum, c) => sum + c.reasons[i], 0)]).filter(([, n]) => (n as number) > 0));
      const failed = Object.values(byReason).reduce((sum: number, n) => sum + (n as number), 0) as number;
      providers[provider] = { total: perChannel.reduce((sum, c) => sum + c.total, 0), failed, byReason };
    }),
  );
  return { start, end, providers };
}

/** What a window says about one provider: each kind of incident it shows, or that it is healthy, or nothing (no rings). */
export function findings(window: ProviderWindow, thresholds: HealthThresholds): Record<IncidentKind, boolean> | undefined {
  if (window.total === 0) return undefined;
  return {
    credentials: (window.byReason.credentials ?? 0) > 0,
    failure_rate: window.total >= thresholds.minRings && window.failed / window.total >= thresholds.failureRate,
  };
}

export interface HealthRun {
  window: HealthWindow;
  opened: Array<{ provider: Provider; kind: IncidentKind }>;
  closed: Array<{ provider: Provider; kind: IncidentKind }>;
}

/**
 * One run of the delivery-health watch: measures the last window and opens an incident for each provider whose
 * credentials were refused or whose rings failed past the threshold, closing it once a later window is healthy. A
 * window without rings for a provider changes nothing for it. Each opening logs one error line (a stable message for
 * log-based alerts and Error Reporting), each closing one info line; each is decided in a transaction, so two runs
 * at once log it once.
 */
export async function checkDeliveryHealth(deps: HealthDeps): Promise<HealthRun> {
  const now = deps.now();
  const window = await measureWindow(deps.db, now);
  const run: HealthRun = { window, opened: [], closed: [] };
  for (const provider of Object.keys(window.providers) as Provider[]) {
    const found = findings(window.providers[provider], deps.thresholds);
    if (!found) continue;
    for (const kind of Object.keys(found) as IncidentKind[]) {
      const change = await settle(deps.db, { provider, kind, present: found[kind], now, window: window.providers[provider], windowStart: window.start });
      if (change === "opened") {
        run.opened.push({ provider, kind });
        logs.healthIncidentOpened({ provider, kind, ...window.providers[provider], windowMinutes: HEALTH_WINDOW_MS / 60_000 });
      } else if (change === "closed") {
        run.closed.push({ provider, kind });
        logs.healthIncidentClosed({ provider, kind });
      }
    }
  }
  return run;
}

/** Opens, refreshes or closes one incident as the window shows it; says whether it changed state. */
async function settle(
  db: Firestore,
  fact: { provider: Provider; kind: IncidentKind; present: boolean; now: number; window: ProviderWindow; windowStart: number },
): Promise<"opened" | "closed" | undefined> {
  const ref = healthIncidentRef(db, fact.provider, fact.kind);
  const at = Timestamp.fromMillis(fact.now);
  const evidence = { windowStart: Timestamp.fromMillis(fact.windowStart), total: fact.window.total, failed: fact.window.failed, byReason: fact.window.byReason };
  return db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data() as HealthIncident | undefined;
    const open = current?.state === "open";
    if (fact.present && !open) {
      const incident: HealthIncident = { provider: fact.provider, kind: fact.kind, state: "open", openedAt: at, lastSeenAt: at, opened: (current?.opened ?? 0) + 1, evidence };
      tx.set(ref, incident);
      return "opened";
    }
    if (fact.present) {
      tx.update(ref, { lastSeenAt: at, evidence });
      return undefined;
    }
    if (open) {
      tx.update(ref, { state: "closed", closedAt: at });
      return "closed";
    }
    return undefined;
  });
}
