import { Firestore } from "firebase-admin/firestore";
import type { PushGateway } from "../push/push-gateway";

/** The edges ring and stop work with. */
export interface PushDeps {
  db: Firestore;
  /** Called only when there is something to send (the APNs client loads lazily). */
  gateway: () => PushGateway;
  apnsConfigured: boolean;
  now: () => number;
  ringWindowMs: number;
  /** Waits before retry rounds; the push rules' short schedule by default. */
  backoffMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_BACKOFF_MS: readonly number[] = [500, 1000, 2000];

/** Stops are worth delivering for as long as an app may still show the call. */
export const STOP_WINDOW_MS = 30_000;
