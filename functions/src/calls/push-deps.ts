import { Firestore } from "firebase-admin/firestore";
import { APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID, RING_WINDOW_SECONDS } from "../config";
import type { PushGateway } from "../push/push-gateway";
import { pushEnvironment } from "../push/push-environment";
import { firestore } from "../shared/firebase";
import { CALL_TRIGGER_TIMEOUT_SECONDS } from "./call-trigger-options";
import { scheduleRingTimeout } from "./ring-timeout-queue";

/** The edges ring and stop work with. */
export interface PushDeps {
  db: Firestore;
  /** Called only when there is something to send (the APNs client loads lazily). */
  gateway: () => PushGateway;
  /** Loads and makes the push clients ahead of the first push (see PushEnvironment); absent: they load on it. */
  preload?: () => void;
  apnsConfigured: boolean;
  now: () => number;
  ringWindowMs: number;
  /** Waits before retry rounds; the push rules' short schedule by default. */
  backoffMs?: readonly number[];
  /** How long one attempt may wait for the providers (ATTEMPT_TIMEOUT_MS by default). */
  attemptTimeoutMs?: number;
  /** Schedules the call's ring timeout (`ringTimeout`) for `atMs`; absent, none is scheduled. */
  scheduleTimeout?: (guid: string, atMs: number) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_BACKOFF_MS: readonly number[] = [500, 1000, 2000];

/**
 * The webhook's own push work (the ring or the stop, in its request): one attempt per device, answered within this
 * long, or left to a trigger. ButterflyMX wants the webhook's answer within about 5 s.
 */
export const REQUEST_PUSH_MS = 1_500;

/** Stops are worth delivering for as long as an app may still show the call. */
export const STOP_WINDOW_MS = 30_000;

/** Ring/stop edges from the deployed configuration (params are read at run time, never at load). */
export function runtimePushDeps(): PushDeps {
  const db = firestore();
  const environment = pushEnvironment(
    () => ({ key: APNS_KEY.value(), keyId: APNS_KEY_ID.value(), teamId: APNS_TEAM_ID.value() }),
    db,
    Date.now,
  );
  return {
    db,
    gateway: environment.gateway,
    preload: environment.preload,
    apnsConfigured: environment.apnsConfigured,
    now: Date.now,
    ringWindowMs: ringWindowMs(RING_WINDOW_SECONDS.value()),
    scheduleTimeout: scheduleRingTimeout,
  };
}

/**
 * The longest ring window: a ring sends until its window closes, then prunes and records, and all of it must end
 * within the trigger's timeout (or a ring would be killed before recording what it rang).
 */
export const MAX_RING_WINDOW_SECONDS = CALL_TRIGGER_TIMEOUT_SECONDS - 30;

/** RING_WINDOW_SECONDS as milliseconds, kept between 1 s and MAX_RING_WINDOW_SECONDS whatever is configured. */
export function ringWindowMs(configuredSeconds: number): number {
  return Math.min(Math.max(configuredSeconds, 1), MAX_RING_WINDOW_SECONDS) * 1000;
}
