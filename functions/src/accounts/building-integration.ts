import { BmxSession, ButterflyMxClient, IntegrationScope } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { BmxRegion } from "../butterflymx/butterflymx-hosts";
import { isWebhookSecret, secretInUrl, webhookUrl } from "../links/webhook-secrets";

/** Building-wide mode: one integration per building, registered with an operator (building admin) token. */
export interface BuildingTarget {
  bmx: ButterflyMxClient;
  region: BmxRegion;
  buildingId: string;
  operatorToken: string;
  webhookBaseUrl: string;
}

export interface BuildingRegistration {
  integrationId: string;
  webhook: "created" | "reused";
  /**
   * The call actions it is bound to (when known): `create` alone when ButterflyMX refused `status_update` (v4
   * documents only `create`); the ring timeout and reconciliation then carry the end of each call.
   */
  actions?: string[];
  /** Older integrations of ours on the building (for example from before an operator-secret rotation), deleted. */
  removed: number;
}

/**
 * Registers `<webhookBaseUrl>/<operatorSecret>` on the building (v4), reusing an identical integration and
 * deleting others that point at this webhook. Events through it are routed by ButterflyMX user id / email.
 */
export async function registerBuilding(target: BuildingTarget, operatorSecret: string): Promise<BuildingRegistration> {
  if (!isWebhookSecret(operatorSecret)) {
    throw new Error("The operator secret must be 32 to 256 URL-safe characters (A-Z a-z 0-9 _ -): the webhook never accepts any other.");
  }
  const { bmx, session, scope } = parts(target);
  const url = webhookUrl(target.webhookBaseUrl, operatorSecret);
  const ours = (await bmx.listIntegrations(session, scope)).filter((i) => secretInUrl(target.webhookBaseUrl, i.url) !== undefined);
  const same = ours.find((i) => i.url === url);
  const created = same ? undefined : await createBound(bmx, session, scope, url);
  const integrationId = same?.id ?? created!.id;
  const actions = same?.actions ?? created?.actions;
  const stale = ours.filter((i) => i.id !== integrationId);
  for (const integration of stale) await bmx.deleteIntegration(session, scope, integration.id);
  return { integrationId, webhook: same ? "reused" : "created", ...(actions ? { actions } : {}), removed: stale.length };
}

/** Binds `create` and `status_update`; when ButterflyMX refuses the pair, `create` alone. */
async function createBound(bmx: ButterflyMxClient, session: BmxSession, scope: IntegrationScope, url: string): Promise<{ id: string; actions: string[] }> {
  try {
    return { id: (await bmx.createIntegration(session, scope, url)).id, actions: ["create", "status_update"] };
  } catch (error) {
    if (!(error instanceof BmxError && error.kind === "rejected")) throw error;
    return { id: (await bmx.createIntegration(session, scope, url, { actions: ["create"] })).id, actions: ["create"] };
  }
}

/** Deletes every integration on the building that points at this webhook. Returns how many. */
export async function unregisterBuilding(target: BuildingTarget): Promise<number> {
  const { bmx, session, scope } = parts(target);
  const ours = (await bmx.listIntegrations(session, scope)).filter((i) => secretInUrl(target.webhookBaseUrl, i.url) !== undefined);
  for (const integration of ours) await bmx.deleteIntegration(session, scope, integration.id);
  return ours.length;
}

function parts(target: BuildingTarget) {
  const scope: IntegrationScope = { kind: "building", id: target.buildingId };
  return { bmx: target.bmx, scope, session: { region: target.region, accessToken: async () => target.operatorToken } };
}
