import { Firestore } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import type { ButterflyMxClient } from "../butterflymx/butterflymx-client";
import type { BmxEnvironment } from "../butterflymx/butterflymx-hosts";
import { runtimeButterflyMx } from "../butterflymx/runtime-client";
import { BUTTERFLYMX_CLIENT_ID, BUTTERFLYMX_REDIRECT_URIS, REGION, WEBHOOK_BASE_URL } from "../config";
import { firestore } from "../shared/firebase";

/** The edges of the account services: Firestore, ButterflyMX, where our webhook lives, and the clock. */
export interface AccountDeps {
  db: Firestore;
  bmx: ButterflyMxClient;
  environment: BmxEnvironment;
  /** The webhook function's public URL; registrations append `/<secret>`. */
  webhookBaseUrl: string;
  /**
   * Redirect URIs the app may use on ButterflyMX's authorize page. `"any"` only in the emulator with none
   * configured (ButterflyMX still checks its own list); deployed, an empty list refuses every link.
   */
  redirectUris: readonly string[] | "any";
  now: () => number;
}

/**
 * The account services' edges from the deployed configuration. `requestHost` is the Host header of the
 * request being served: in the emulator the webhook's URL is on that same local origin.
 */
export function runtimeAccountDeps(requestHost?: string): AccountDeps {
  const { bmx, environment } = runtimeButterflyMx();
  return {
    db: firestore(),
    bmx,
    environment,
    webhookBaseUrl: webhookBaseUrl(WEBHOOK_BASE_URL.value(), requestHost),
    redirectUris: redirectUris(BUTTERFLYMX_REDIRECT_URIS.value()),
    now: Date.now,
  };
}

/** Guard for linking: without an OAuth client there is nothing to exchange a code with. */
export function requireLinkingConfigured(): void {
  if (!BUTTERFLYMX_CLIENT_ID.value()) {
    throw new HttpsError("failed-precondition", "ButterflyMX linking is not configured on this backend (BUTTERFLYMX_CLIENT_ID is empty).");
  }
}

/** The configured redirect URIs; with none configured, the emulator accepts any and a deployed backend none. */
export function redirectUris(configured: string, env: NodeJS.ProcessEnv = process.env): readonly string[] | "any" {
  const uris = configured.split(",").map((uri) => uri.trim()).filter((uri) => uri.length > 0);
  return uris.length === 0 && env.FUNCTIONS_EMULATOR === "true" ? "any" : uris;
}

export function webhookBaseUrl(configured: string, requestHost: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return configured.replace(/\/+$/, "");
  const project = env.GCLOUD_PROJECT ?? "";
  if (env.FUNCTIONS_EMULATOR === "true" && requestHost) return `http://${requestHost}/${project}/${REGION}/butterflymxWebhook`;
  return `https://${REGION}-${project}.cloudfunctions.net/butterflymxWebhook`;
}
