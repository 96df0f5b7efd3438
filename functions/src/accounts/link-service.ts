import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { BmxIntegration, BmxProfile, BmxSession, BmxTenant, BmxTokens } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { BmxRegion } from "../butterflymx/butterflymx-hosts";
import { ButterflyMxLinkInfo, deletedUserRef, isContactPreference, LinkedTenant, userRef } from "../devices/user-profile";
import { withDoors } from "../doors/tenancy-doors";
import { bmxUserRef, otherUids, removeUid, setLinkedUids } from "../links/bmx-users";
import { grantFields, grantRef, StoredGrant } from "../links/grant-store";
import { readRegistration, registrationRef, registrationsOf, setRegistration } from "../links/registrations";
import { hashSecret, newWebhookSecret, secretInUrl, webhookUrl } from "../links/webhook-secrets";
import { logs } from "../logs";
import { mapWithConcurrency } from "../shared/concurrency";
import { AccountDeleted, Conflict, InvalidInput, PreconditionFailed } from "../shared/errors";
import { AccountDeps } from "./account-deps";
import { LinkAccountInput } from "./link-schemas";

/** What linking did for one tenancy (`users/{uid}.butterflymx.tenants` holds the tenancy itself: `LinkedTenant`). */
export interface TenantWebhook {
  tenantId: string;
  unitLabel?: string;
  buildingName?: string;
  /** `created`: a new integration was registered; `reused`: ours was already there. */
  webhook: "created" | "reused";
}

export interface LinkResult {
  bmxUserId: string;
  region: string;
  tenants: TenantWebhook[];
  /** App users the ButterflyMX account was moved away from (`takeOver`). */
  movedFrom: number;
}

interface TenantPlan {
  tenant: BmxTenant;
  hash: string;
  integrationId: string;
  created: boolean;
  /** Other integrations pointing at us on this tenant, with the uid their registration names (if any). */
  stale: Array<{ integration: BmxIntegration; owner?: string }>;
}

const TENANT_CONCURRENCY = 4;

/**
 * Links the caller to the ButterflyMX account that signed in on the authorize page: exchanges the code, reads
 * the user and their tenancies, registers (or reuses) one call webhook per tenant, then records everything in
 * one transaction. Until that commit nothing is stored; if anything fails, the integrations created so far are
 * deleted and the new tokens revoked, so a failed link leaves no trace and the previous link keeps working.
 */
export async function linkAccount(deps: AccountDeps, uid: string, input: LinkAccountInput): Promise<LinkResult> {
  // A deleted account's still-valid token links nothing (checked again in the commit's transaction).
  if ((await deletedUserRef(deps.db, uid).get()).exists) throw new AccountDeleted();
  if (deps.redirectUris !== "any") {
    if (deps.redirectUris.length === 0) {
      throw new PreconditionFailed("ButterflyMX linking is not configured on this backend: BUTTERFLYMX_REDIRECT_URIS lists no redirect URI.");
    }
    if (!deps.redirectUris.includes(input.redirectUri)) {
      throw new InvalidInput("redirectUri", `is not a configured redirect URI (BUTTERFLYMX_REDIRECT_URIS has ${deps.redirectUris.length})`);
    }
  }
  let tokens: BmxTokens;
  try {
    tokens = await deps.bmx.exchangeCode(input);
  } catch (error) {
    if (error instanceof BmxError && error.kind === "invalid_grant") {
      throw new InvalidInput("code", "is invalid, expired or already used (or codeVerifier/redirectUri do not match it): start the ButterflyMX sign-in again");
    }
    throw error;
  }

  const created: Array<{ tenantId: string; integrationId: string }> = [];
  let session: BmxSession | undefined;
  let committed: Committed;
  let plans: TenantPlan[];
  let profile: BmxProfile;
  try {
    const region = await deps.bmx.region(tokens.accessToken);
    session = { region, accessToken: async () => tokens.accessToken };
    profile = await deps.bmx.me(session);
    await assertLinkable(deps, profile.userId, uid, input.takeOver === true);
    const open = session;
    const [planned, tenants] = await Promise.all([
      mapWithConcurrency(profile.tenants, TENANT_CONCURRENCY, (tenant) =>
        planTenant(deps, open, uid, tenant, (integrationId) => created.push({ tenantId: tenant.id, integrationId })),
      ),
      doorsOf(deps, open, uid, profile.tenants),
    ]);
    plans = planned;
    committed = await commitLink(deps, uid, { profile, region, tokens, plans, tenants, takeOver: input.takeOver === true });
  } catch (error) {
    logs.linkFailed({ uid, created: created.length }, error);
    await rollback(deps, uid, session, tokens, created);
    throw error;
  }

  // After the commit, leftovers are only hygiene: a failure here is logged, never the caller's problem.
  const takenOver = new Set(committed.movedFrom);
  const listed = plans.flatMap((plan) =>
    plan.stale.filter((s) => s.owner === undefined || s.owner === uid || takenOver.has(s.owner)).map((s) => ({ tenantId: plan.tenant.id, integrationId: s.integration.id })),
  );
  const stale = [...listed, ...committed.dropped.filter((d) => !listed.some((l) => l.integrationId === d.integrationId))];
  await Promise.all([
    ...stale.map((s) => deleteIntegrationQuietly(deps, session!, s, uid)),
    ...committed.replacedRefreshTokens.map((token) => revokeQuietly(deps, token, uid)),
  ]);
  logs.accountLinked({
    uid,
    bmxUserId: profile.userId,
    region: session!.region,
    tenants: plans.length,
    created: created.length,
    staleRemoved: stale.length,
    movedFrom: committed.movedFrom.length,
  });
  return {
    bmxUserId: profile.userId,
    region: session!.region,
    tenants: plans.map((plan) => ({
      tenantId: plan.tenant.id,
      ...(plan.tenant.unitLabel ? { unitLabel: plan.tenant.unitLabel } : {}),
      ...(plan.tenant.buildingName ? { buildingName: plan.tenant.buildingName } : {}),
      webhook: plan.created ? "created" : "reused",
    })),
    movedFrom: committed.movedFrom.length,
  };
}

/**
 * The tenancies with the doors ButterflyMX lists for them. Linking does not depend on it: when the access points
 * cannot be read, they stay unknown and the first door release that needs them reads them again.
 */
async function doorsOf(deps: AccountDeps, session: BmxSession, uid: string, tenants: BmxTenant[]): Promise<LinkedTenant[]> {
  try {
    return await withDoors(deps.bmx, session, tenants);
  } catch (error) {
    if (!(error instanceof BmxError)) throw error;
    logs.doorsUnknown({ uid }, error);
    return tenants;
  }
}

/** Refuses early (before registering anything) when another app user holds the link and takeOver is not set. */
async function assertLinkable(deps: AccountDeps, bmxUserId: string, uid: string, takeOver: boolean): Promise<void> {
  const links = await bmxUserRef(deps.db, bmxUserId).get();
  if (!takeOver && otherUids(links.get("uids"), uid).length > 0) throw linkedElsewhere();
}

function linkedElsewhere(): Conflict {
  return new Conflict(
    "This ButterflyMX account is linked to another user of this app. To move it here, sign in to ButterflyMX again and call linkButterflyMxAccount with takeOver: true.",
  );
}

/** Lists the tenant's integrations; reuses ours when its registration belongs to this user and tenant, else creates one. */
async function planTenant(deps: AccountDeps, session: BmxSession, uid: string, tenant: BmxTenant, onCreated: (integrationId: string) => void): Promise<TenantPlan> {
  const scope = { kind: "tenant" as const, id: tenant.id };
  const ours = (await deps.bmx.listIntegrations(session, scope)).flatMap((integration) => {
    const secret = secretInUrl(deps.webhookBaseUrl, integration.url);
    return secret ? [{ integration, hash: hashSecret(secret) }] : [];
  });
  const registrations = ours.length > 0 ? await deps.db.getAll(...ours.map((o) => registrationRef(deps.db, o.hash))) : [];
  const candidates = ours.map((o, i) => ({ ...o, owner: registrations[i].get("uid") as string | undefined, tenantId: registrations[i].get("tenantId") }));
  const reuse = candidates.findIndex((c) => c.owner === uid && c.tenantId === tenant.id);
  const stale = candidates.filter((_, i) => i !== reuse).map(({ integration, owner }) => ({ integration, owner }));
  if (reuse >= 0) return { tenant, hash: ours[reuse].hash, integrationId: ours[reuse].integration.id, created: false, stale };
  const secret = newWebhookSecret();
  const integration = await deps.bmx.createIntegration(session, scope, webhookUrl(deps.webhookBaseUrl, secret));
  onCreated(integration.id);
  return { tenant, hash: hashSecret(secret), integrationId: integration.id, created: true, stale };
}

interface Committed {
  movedFrom: string[];
  /** Refresh tokens of grants this link replaced: revoked after the commit. */
  replacedRefreshTokens: string[];
  /**
   * Integrations of this user's registrations the commit removed (tenants no longer theirs, or a link that
   * raced this one and committed first): deleted at ButterflyMX after the commit, so one webhook per tenant is left.
   */
  dropped: Array<{ tenantId: string; integrationId: string }>;
}

/** Everything the link stores, in one transaction; re-checks the ownership rule against concurrent links. */
async function commitLink(
  deps: AccountDeps,
  uid: string,
  link: { profile: BmxProfile; region: BmxRegion; tokens: BmxTokens; plans: TenantPlan[]; tenants: LinkedTenant[]; takeOver: boolean },
): Promise<Committed> {
  const { db } = deps;
  const { profile, plans } = link;
  const now = Timestamp.fromMillis(deps.now());
  const linksRef = bmxUserRef(db, profile.userId);
  const ownProfile = userRef(db, uid);
  return db.runTransaction(async (tx) => {
    const [deleted, links, user, ownGrant, ownRegistrations] = await Promise.all([
      tx.get(deletedUserRef(db, uid)),
      tx.get(linksRef),
      tx.get(ownProfile),
      tx.get(grantRef(db, uid)),
      tx.get(registrationsOf(db, uid)),
    ]);
    if (deleted.exists) throw new AccountDeleted();
    const others = otherUids(links.get("uids"), uid);
    if (others.length > 0 && !link.takeOver) throw linkedElsewhere();
    const [otherGrants, otherRegistrations] = await Promise.all([
      Promise.all(others.map((other) => tx.get(grantRef(db, other)))),
      Promise.all(others.map((other) => tx.get(registrationsOf(db, other)))),
    ]);
    const previousBmxUser = user.get("butterflymx.userId") as string | undefined;
    const previousLinksRef = previousBmxUser && previousBmxUser !== profile.userId ? bmxUserRef(db, previousBmxUser) : undefined;
    const previousLinks = previousLinksRef ? await tx.get(previousLinksRef) : undefined;

    const keep = new Set(plans.map((plan) => plan.hash));
    const dropped: Committed["dropped"] = [];
    for (const doc of ownRegistrations.docs) {
      if (keep.has(doc.id)) continue;
      tx.delete(doc.ref);
      const registration = readRegistration(doc);
      if (registration?.bmxIntegrationId) dropped.push({ tenantId: registration.tenantId, integrationId: registration.bmxIntegrationId });
    }
    for (const snapshot of otherRegistrations) for (const doc of snapshot.docs) tx.delete(doc.ref);
    for (const plan of plans) {
      const registration = { uid, tenantId: plan.tenant.id, bmxIntegrationId: plan.integrationId, bmxUserId: profile.userId, region: link.region, environment: deps.environment };
      setRegistration(tx, registrationRef(db, plan.hash), registration, now, plan.created);
    }
    const grant: StoredGrant = { bmxUserId: profile.userId, environment: deps.environment, region: link.region, ...grantFields(link.tokens, now) };
    tx.set(grantRef(db, uid), grant);
    const linkInfo: ButterflyMxLinkInfo = {
      userId: profile.userId,
      ...(profile.email ? { email: profile.email } : {}),
      environment: deps.environment,
      region: link.region,
      tenants: link.tenants.map((tenant) => ({
        id: tenant.id,
        ...(tenant.unitId ? { unitId: tenant.unitId } : {}),
        ...(tenant.unitLabel ? { unitLabel: tenant.unitLabel } : {}),
        ...(tenant.buildingId ? { buildingId: tenant.buildingId } : {}),
        ...(tenant.buildingName ? { buildingName: tenant.buildingName } : {}),
        ...(tenant.doorReleaseEnabled !== undefined ? { doorReleaseEnabled: tenant.doorReleaseEnabled } : {}),
        ...(tenant.panelIds ? { panelIds: tenant.panelIds } : {}),
        ...(tenant.accessPoints ? { accessPoints: tenant.accessPoints } : {}),
      })),
      linkedAt: (user.get("butterflymx.userId") === profile.userId ? user.get("butterflymx.linkedAt") : undefined) ?? now,
      updatedAt: now,
    };
    const contactPreference = isContactPreference(profile.contactPreference) ? profile.contactPreference : undefined;
    tx.set(
      ownProfile,
      { butterflymx: linkInfo, ...(contactPreference ? { preferences: { contactPreference } } : {}) },
      { mergeFields: ["butterflymx", ...(contactPreference ? ["preferences.contactPreference"] : [])] },
    );
    setLinkedUids(tx, linksRef, link.takeOver ? [uid] : [...others, uid], now);
    for (const other of others) {
      tx.set(userRef(db, other), { butterflymx: FieldValue.delete() }, { merge: true });
      tx.delete(grantRef(db, other));
    }
    if (previousLinksRef && previousLinks) removeUid(tx, previousLinksRef, previousLinks.get("uids"), uid);

    const replaced = [ownGrant, ...otherGrants]
      .map((g) => g.get("refreshToken") as string | undefined)
      .filter((token): token is string => Boolean(token) && token !== link.tokens.refreshToken);
    return { movedFrom: link.takeOver ? others : [], replacedRefreshTokens: replaced, dropped };
  });
}

/** Undoes a failed link at ButterflyMX: its integrations and its tokens. Best effort; logged. */
async function rollback(deps: AccountDeps, uid: string, session: BmxSession | undefined, tokens: BmxTokens, created: Array<{ tenantId: string; integrationId: string }>): Promise<void> {
  await Promise.all(session ? created.map((c) => deleteIntegrationQuietly(deps, session, c, uid)) : []);
  await revokeQuietly(deps, tokens.refreshToken, uid);
}

export async function deleteIntegrationQuietly(deps: AccountDeps, session: BmxSession, target: { tenantId: string; integrationId: string }, uid: string): Promise<boolean> {
  try {
    await deps.bmx.deleteIntegration(session, { kind: "tenant", id: target.tenantId }, target.integrationId);
    return true;
  } catch (error) {
    logs.integrationLeft({ uid, tenantId: target.tenantId, integrationId: target.integrationId }, error);
    return false;
  }
}

export async function revokeQuietly(deps: Pick<AccountDeps, "bmx">, refreshToken: string, uid: string): Promise<void> {
  try {
    await deps.bmx.revoke(refreshToken);
  } catch (error) {
    logs.revokeFailed({ uid }, error);
  }
}
