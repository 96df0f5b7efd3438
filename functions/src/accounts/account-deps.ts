import { Firestore } from "firebase-admin/firestore";
import { ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { BmxEnvironment } from "../butterflymx/butterflymx-hosts";

/** The edges of the account services: Firestore, ButterflyMX, where our webhook lives, and the clock. */
export interface AccountDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  environment: BmxEnvironment;
  /** The webhook function's public URL; registrations append `/<secret>`. */
  webhookBaseUrl: string;
  /** Redirect URIs the app may use on ButterflyMX's authorize page; empty accepts any (ButterflyMX checks too). */
  redirectUris: readonly string[];
  now: () => number;
}
