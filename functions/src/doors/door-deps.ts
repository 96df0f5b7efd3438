import { Firestore } from "firebase-admin/firestore";
import type { ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { CALL_RETENTION_DAYS, DOOR_RELEASE_WINDOW_SECONDS } from "../config";
import { firestore } from "../shared/firebase";

/** The edges of door release and access history: Firestore, ButterflyMX and the clock. */
export interface DoorDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  now: () => number;
  /** How long after a call ended its recipients may still open its door. */
  releaseWindowMs: number;
  /** How long an access log entry is kept (CALL_RETENTION_DAYS). */
  retentionDays: number;
  /** Waits between looks at a request that another instance is still asking ButterflyMX about. */
  sleep?: (ms: number) => Promise<void>;
}

/** Door edges from the deployed configuration (params are read at run time, never at load). */
export function runtimeDoorDeps(): DoorDeps {
  return { db: firestore(), bmx: runtimeButterflyMx().bmx, now: Date.now, releaseWindowMs: DOOR_RELEASE_WINDOW_SECONDS.value() * 1000, retentionDays: CALL_RETENTION_DAYS.value() };
}
