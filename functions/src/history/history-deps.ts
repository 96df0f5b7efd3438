import { Firestore } from "firebase-admin/firestore";
import type { ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { firestore } from "../shared/firebase";

/** The edges of the histories: Firestore, ButterflyMX and the clock. */
export interface HistoryDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  now: () => number;
}

/** History edges from the deployed configuration. */
export function runtimeHistoryDeps(): HistoryDeps {
  return { db: firestore(), bmx: runtimeButterflyMx().bmx, now: Date.now };
}
