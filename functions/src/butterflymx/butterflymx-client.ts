import { z } from "zod";
import { BmxError } from "./butterflymx-errors";
import { BMX_REGIONS, BmxEndpoints, BmxRegion } from "./butterflymx-hosts";
import {
  accessLogSchema,
  accessPointListSchema,
  callLogSchema,
  callStatusSchema,
  doorReleaseCreatedSchema,
  errorResponseSchema,
  integrationCreatedSchema,
  integrationListSchema,
  integrationSchema,
  meResponseSchema,
  openDoorResponseSchema,
  regionsResponseSchema,
  tenantUpdatedSchema,
  tokenResponseSchema,
} from "./butterflymx-schemas";

export interface BmxTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
  scope?: string;
}

/**
 * A signed-in ButterflyMX user as the API sees them: their region and bearer token. `renew` (optional) is
 * called at most once per request, after a 401, with the refused token, and returns a fresh one.
 */
export interface BmxSession {
  region: BmxRegion;
  accessToken(): Promise<string>;
  renew?(refused: string): Promise<string>;
}

export interface BmxTenant {
  id: string;
  unitId?: string;
  unitLabel?: string;
  buildingId?: string;
  buildingName?: string;
  /** The building's `open_door_button_enabled`: whether residents may open its doors from the app. */
  doorReleaseEnabled?: boolean;
  /** The panels ButterflyMX lists for the tenancy (v3 ids, the ones webhooks name); absent when it listed none. */
  panelIds?: string[];
}

/** One access point (a door, gate or entrance) of a building (v4). */
export interface BmxAccessPoint {
  id: string;
  name?: string;
  buildingId: string;
}

export interface BmxProfile {
  userId: string;
  name?: string;
  email?: string;
  contactPreference?: string;
  tenants: BmxTenant[];
}

/** One call of a user's ButterflyMX call log. */
export interface BmxCallLogEntry {
  id: string;
  /** Epoch ms. */
  at: number;
  guid?: string;
  status?: string;
  panelName?: string;
  panelId?: string;
  imageUrl?: string;
}

/** One entry of a building's access log. */
export interface BmxAccessLogEntry {
  id: string;
  at: number;
  accessPoint?: string;
  releaseStatus?: string;
  releaseType?: string;
  /** `entry_method` as text: its own words ("Swipe to open", "API", "App call"), or `access_tool` / `keychain`. */
  method?: string;
  tenantId?: string;
}

export interface BmxIntegration {
  id: string;
  url?: string;
  /** The call actions it is bound to, when ButterflyMX says. */
  actions?: string[];
}

/** Integrations live on a tenant (resident token, v3) or a whole building (operator token, v4). */
export type IntegrationScope = { kind: "tenant"; id: string } | { kind: "building"; id: string };

export interface ButterflyMxClientOptions {
  endpoints: BmxEndpoints;
  clientId: string;
  clientSecret: string;
  /** Per request; ButterflyMX calls happen inside callables that have 60 s in all. */
  timeoutMs?: number;
  now?: () => number;
  /** Waits out a 429's `Retry-After` before a read is repeated. */
  sleep?: (ms: number) => Promise<void>;
}

const JSON_API = "application/vnd.api+json";
const PLAIN_JSON = "application/json";
const MAX_PAGES = 50;
/**
 * A read answered 429 is repeated after its `Retry-After` (1 s when it names none), at most this many times, and
 * only when the wait fits MAX_RETRY_AFTER_MS. ButterflyMX publishes no limits; writes are never repeated.
 */
const MAX_RATE_LIMITED_RETRIES = 2;
const MAX_RETRY_AFTER_MS = 5_000;

/** Every ButterflyMX call the backend makes, over `fetch`: OAuth at the accounts host, the API at the user's region. */
export class ButterflyMxClient {
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ButterflyMxClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Authorization code (+ PKCE verifier) → tokens. */
  exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<BmxTokens> {
    return this.token({
      grant_type: "authorization_code",
      code: input.code,
      code_verifier: input.codeVerifier,
      redirect_uri: input.redirectUri,
    });
  }

  /** Refresh tokens rotate: the one passed in is dead once this returns. */
  refresh(refreshToken: string): Promise<BmxTokens> {
    return this.token({ grant_type: "refresh_token", refresh_token: refreshToken });
  }

  /** Revokes an access or refresh token (RFC 7009: unknown tokens are not an error). */
  async revoke(token: string): Promise<void> {
    await this.send("POST /oauth/revoke", `${this.options.endpoints.accounts}/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: this.form({ token }),
    });
  }

  /** The user's API region; all their API calls go to that region's host. */
  async region(accessToken: string): Promise<BmxRegion> {
    const operation = "GET /api/mobile/regions";
    const response = await this.send(operation, `${this.options.endpoints.accounts}/api/mobile/regions`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
    });
    const { regions } = await this.read(operation, response, regionsResponseSchema);
    const region = regions.map((r) => r.toLowerCase()).find((r): r is BmxRegion => (BMX_REGIONS as readonly string[]).includes(r));
    if (!region) throw new BmxError("bad_response", operation, `unknown region ${JSON.stringify(regions[0]).slice(0, 20)}`);
    return region;
  }

  /** The user, their tenancies, units and buildings. */
  async me(session: BmxSession): Promise<BmxProfile> {
    const operation = "GET /v3/me";
    const response = await this.api(session, operation, "/v3/me?include=tenants,tenants.building,tenants.unit,tenants.panels");
    return toProfile(await this.read(operation, response, meResponseSchema));
  }

  /** Every access point of these buildings that the user can see (v4, paged by `page` / `per` with `page_info`). */
  async accessPoints(session: BmxSession, buildingIds: string[]): Promise<BmxAccessPoint[]> {
    if (buildingIds.length === 0) return [];
    const pageOf = (page: number) => {
      const params = new URLSearchParams({ page: String(page), per: "100" });
      for (const id of buildingIds) params.append("q[building_id_in][]", id);
      return `/v4/access_points?${params}`;
    };
    const lists = await this.pages(session, "GET /v4/access_points", accessPointListSchema, {
      first: pageOf(1),
      mediaType: PLAIN_JSON,
      following: (list, page) => (list.page_info?.next_page == null ? undefined : pageOf(page + 1)),
    });
    return lists.flatMap((list) => list.data.map((point) => ({ id: point.id, buildingId: point.building_id, ...(point.name ? { name: point.name } : {}) })));
  }

  /**
   * Every integration of a tenant or building. v3 (tenants) pages by following `links.next`; v4 (buildings) by
   * `page` / `per` until `page_info.next_page` is null.
   */
  async listIntegrations(session: BmxSession, scope: IntegrationScope): Promise<BmxIntegration[]> {
    const origin = this.options.endpoints.api[session.region];
    const base = integrationsPath(scope, scope.id);
    const v4Page = (page: number) => `${base}?page=${page}&per=100`;
    const lists = await this.pages(session, `GET ${integrationsPath(scope, ":id")}`, integrationListSchema, {
      first: scope.kind === "tenant" ? base : v4Page(1),
      mediaType: mediaTypeOf(scope),
      following: (list, page) => (scope.kind === "tenant" ? nextPage(list.links?.next, origin) : list.page_info?.next_page != null ? v4Page(page + 1) : undefined),
    });
    return lists.flatMap((list) => list.data.map(toIntegration));
  }

  /** A webhook for calls at `url`: for `create` and `status_update` unless `actions` says fewer. */
  async createIntegration(session: BmxSession, scope: IntegrationScope, url: string, options: { actions?: Array<"create" | "status_update"> } = {}): Promise<BmxIntegration> {
    const operation = `POST ${integrationsPath(scope, ":id")}`;
    const body = {
      data: {
        type: "integrations",
        attributes: {
          integrator: "webhook",
          configuration: { url, method: "post" },
          bindings: [{ actions: options.actions ?? ["create", "status_update"], resource_type: "call" }],
        },
      },
    };
    const response = await this.api(session, operation, integrationsPath(scope, scope.id), { method: "POST", body: JSON.stringify(body), mediaType: mediaTypeOf(scope) });
    return toIntegration((await this.read(operation, response, integrationCreatedSchema)).data);
  }

  /** Idempotent: an integration that is already gone is not an error. */
  async deleteIntegration(session: BmxSession, scope: IntegrationScope, integrationId: string): Promise<void> {
    const operation = `DELETE ${integrationsPath(scope, ":id")}/:id`;
    try {
      await this.api(session, operation, `${integrationsPath(scope, scope.id)}/${encodeURIComponent(integrationId)}`, { method: "DELETE", mediaType: mediaTypeOf(scope) });
    } catch (error) {
      if (!(error instanceof BmxError && error.kind === "not_found")) throw error;
    }
  }

  /**
   * Opens one access point of a tenant's building (v4). Not idempotent at ButterflyMX: never call it twice for one
   * request, and never retry it (a 401 is repeated once with a renewed token: ButterflyMX refused it unexecuted).
   */
  async releaseDoor(session: BmxSession, target: { tenantId: string; accessPointId: string }): Promise<{ id: string }> {
    const operation = "POST /v4/door_release_requests";
    const body = { door_release_request: { tenant_id: numeric(target.tenantId), access_point_id: numeric(target.accessPointId) } };
    const response = await this.api(session, operation, "/v4/door_release_requests", { method: "POST", body: JSON.stringify(body), mediaType: PLAIN_JSON });
    return { id: (await this.read(operation, response, doorReleaseCreatedSchema)).data.id };
  }

  /**
   * Opens the door of a panel from the door list, out of a call, as ButterflyMX's SDKs do (v3 `open_door` with the
   * panel and unit). Not idempotent, never retried (as `releaseDoor`).
   */
  async openPanelDoor(session: BmxSession, target: { panelId: string; unitId: string }): Promise<{ id?: string }> {
    const operation = "POST /v3/me/open_door";
    const body = {
      data: {
        type: "door_release_requests",
        attributes: { release_method: "front_door_view" },
        relationships: { panel: { data: { id: target.panelId } }, unit: { data: { id: target.unitId } } },
      },
    };
    const response = await this.api(session, operation, "/v3/me/open_door", { method: "POST", body: JSON.stringify(body) });
    const text = await response.text();
    if (!text) return {};
    const parsed = openDoorResponseSchema.safeParse(safeJson(text));
    return parsed.success && parsed.data.data?.id !== undefined ? { id: parsed.data.data.id } : {};
  }

  /**
   * Opens the door of the panel during its call, the only way ButterflyMX's SDKs do in a call: the `open_door`
   * notification to the panel, which also ends its dialling. Not idempotent, never retried (as `releaseDoor`).
   */
  async openDoorInCall(session: BmxSession, target: { panelId: string; guid: string }): Promise<void> {
    const operation = "POST /v3/notifications/open_door";
    const body = { data: { type: "notifications", id: target.panelId, attributes: { panel_id: numeric(target.panelId), call_guid: target.guid } } };
    const response = await this.api(session, operation, "/v3/notifications/open_door", { method: "POST", body: JSON.stringify(body) });
    await response.body?.cancel();
  }

  /** A call's status as ButterflyMX has it now (what its own SDK polls after a push). */
  async callStatus(session: BmxSession, guid: string): Promise<string> {
    const operation = "GET /v3/me/calls/:guid/status";
    const response = await this.api(session, operation, `/v3/me/calls/${encodeURIComponent(guid)}/status`);
    return (await this.read(operation, response, callStatusSchema)).data.attributes.status;
  }

  /**
   * One page of the user's own call log, newest first (v3: it carries each call's guid): the first page, or the one
   * `next` names. v3 is paged by following its `links.next` exactly as given (same host only), never by page
   * parameters we build: ButterflyMX's own clients page v3 with `page[number]` / `page[size]`, not `page` / `per`.
   */
  async callLog(session: BmxSession, next?: string): Promise<{ calls: BmxCallLogEntry[]; next?: string }> {
    const operation = "GET /v3/me/calls";
    const response = await this.api(session, operation, next ?? "/v3/me/calls");
    const log = await this.read(operation, response, callLogSchema);
    const calls = log.data.flatMap((call): BmxCallLogEntry[] => {
      const a = call.attributes;
      const at = a.logged_at ?? a.created_at;
      if (!at) return [];
      const panel = call.relationships?.panel?.data;
      const panelId = a.panel_id ?? (panel && !Array.isArray(panel) ? panel.id : undefined);
      return [{
        id: call.id,
        at: Date.parse(at),
        ...(a.guid ? { guid: a.guid.toLowerCase() } : {}),
        ...(a.status ? { status: a.status } : {}),
        ...(a.panel_name ? { panelName: a.panel_name } : {}),
        ...(panelId !== undefined ? { panelId } : {}),
        ...(a.medium_url || a.thumb_url ? { imageUrl: (a.medium_url ?? a.thumb_url)! } : {}),
      }];
    });
    const following = nextPage(log.links?.next, this.options.endpoints.api[session.region]);
    return { calls, ...(following ? { next: following } : {}) };
  }

  /**
   * One page of a building's access log as the user may see it (their own entries), newest first, between `from`
   * and `to` (v4).
   * ButterflyMX ignores a malformed date and returns everything: callers pass a date they made.
   */
  async accessLog(session: BmxSession, buildingId: string, query: { page: number; per: number; from?: number; to?: number }): Promise<{ entries: BmxAccessLogEntry[]; more: boolean }> {
    const operation = "GET /v4/buildings/:id/access_logs";
    const params = new URLSearchParams({ page: String(query.page), per: String(query.per) });
    if (query.from !== undefined) params.set("q[logged_at_gteq]", bmxTime(query.from));
    if (query.to !== undefined) params.set("q[logged_at_lteq]", bmxTime(query.to));
    const response = await this.api(session, operation, `/v4/buildings/${encodeURIComponent(buildingId)}/access_logs?${params}`, { mediaType: PLAIN_JSON });
    const log = await this.read(operation, response, accessLogSchema);
    const entries = log.data.map((entry): BmxAccessLogEntry => ({
      id: entry.id,
      at: Date.parse(entry.logged_at),
      ...(entry.access_point != null ? { accessPoint: entry.access_point } : {}),
      ...(entry.release_status ? { releaseStatus: entry.release_status } : {}),
      ...(entry.release_type ? { releaseType: entry.release_type } : {}),
      method: entryMethod(entry.entry_method),
      ...(entry.tenant_id != null ? { tenantId: entry.tenant_id } : {}),
    }));
    return { entries, more: log.page_info?.next_page != null };
  }

  /** Sets the tenant's Do Not Disturb and/or contact preference at ButterflyMX (v4). */
  async updateTenantSettings(session: BmxSession, tenantId: string, settings: { doNotDisturb?: boolean; contactPreference?: string }): Promise<void> {
    const operation = "PUT /v4/tenants/:id";
    const tenant = {
      ...(settings.doNotDisturb !== undefined ? { notification_preference_attributes: { do_not_disturb: settings.doNotDisturb } } : {}),
      ...(settings.contactPreference !== undefined ? { user_attributes: { contact_preference: settings.contactPreference } } : {}),
    };
    const response = await this.api(session, operation, `/v4/tenants/${encodeURIComponent(tenantId)}`, { method: "PUT", body: JSON.stringify({ tenant }), mediaType: PLAIN_JSON });
    await this.read(operation, response, tenantUpdatedSchema);
  }

  /** A list's pages, from `first` on while `following` names the next one (after page `page`), at most MAX_PAGES. */
  private async pages<S extends z.ZodType>(
    session: BmxSession,
    operation: string,
    schema: S,
    list: { first: string; mediaType: string; following: (page: z.output<S>, number: number) => string | undefined },
  ): Promise<Array<z.output<S>>> {
    const read: Array<z.output<S>> = [];
    for (let path: string | undefined = list.first, number = 1; path !== undefined; number++) {
      if (number > MAX_PAGES) throw new BmxError("bad_response", operation, `more than ${MAX_PAGES} pages`);
      const page = await this.read(operation, await this.api(session, operation, path, { mediaType: list.mediaType }), schema);
      read.push(page);
      path = list.following(page, number);
    }
    return read;
  }

  private async token(fields: Record<string, string>): Promise<BmxTokens> {
    const operation = "POST /oauth/token";
    const requestedAt = this.now();
    const response = await this.send(operation, `${this.options.endpoints.accounts}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: this.form(fields),
    });
    const tokens = await this.read(operation, response, tokenResponseSchema);
    return {
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      // Measured from our clock (ButterflyMX's created_at may be skewed); 24 h when not stated.
      expiresAt: requestedAt + (tokens.expires_in ?? 86_400) * 1000,
      ...(tokens.scope ? { scope: tokens.scope } : {}),
    };
  }

  private form(fields: Record<string, string>): string {
    return new URLSearchParams({ ...fields, client_id: this.options.clientId, client_secret: this.options.clientSecret }).toString();
  }

  /**
   * A bearer request at the user's regional host; after a 401, renews the token once and repeats. A read answered
   * 429 is repeated after the wait ButterflyMX asks for (see MAX_RATE_LIMITED_RETRIES); a write never is.
   */
  private async api(session: BmxSession, operation: string, path: string, init: { method?: string; body?: string; mediaType?: string } = {}): Promise<Response> {
    const url = `${this.options.endpoints.api[session.region]}${path}`;
    const method = init.method ?? "GET";
    // v3 speaks JSON:API (and rejects a plain JSON body); v4 speaks plain JSON.
    const mediaType = init.mediaType ?? JSON_API;
    const once = (token: string, options: { allowLimited: boolean }) =>
      this.send(operation, url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: mediaType, ...(init.body ? { "content-type": mediaType } : {}) },
        body: init.body,
      }, { allowUnauthorized: true, allowLimited: options.allowLimited });
    const attempt = async (token: string) => {
      for (let retries = 0; ; retries++) {
        const response = await once(token, { allowLimited: method === "GET" && retries < MAX_RATE_LIMITED_RETRIES });
        if (response.status !== 429) return response;
        await response.body?.cancel();
        const waitMs = retryAfterMs(response.headers.get("retry-after"), this.now());
        if (waitMs > MAX_RETRY_AFTER_MS) throw new BmxError("unavailable", operation, `HTTP 429: ButterflyMX asks to wait ${Math.ceil(waitMs / 1000)} s`, 429);
        await this.sleep(waitMs);
      }
    };
    const token = await session.accessToken();
    let response = await attempt(token);
    if (response.status === 401 && session.renew) {
      await response.body?.cancel();
      response = await attempt(await session.renew(token));
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw new BmxError("unauthorized", operation, "the access token was refused", 401);
    }
    return response;
  }

  /** One HTTP exchange with a deadline; non-2xx answers become BmxErrors (401 too, unless the caller handles it). */
  private async send(operation: string, url: string, init: RequestInit, options: { allowUnauthorized?: boolean; allowLimited?: boolean } = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, redirect: "error", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "TimeoutError" || name === "AbortError") throw new BmxError("timeout", operation, `no answer within ${this.timeoutMs} ms`);
      throw new BmxError("unavailable", operation, `cannot reach ButterflyMX (${causeOf(error)})`);
    }
    if (response.ok || (response.status === 401 && options.allowUnauthorized) || (response.status === 429 && options.allowLimited)) return response;
    throw await toError(operation, response);
  }

  private async read<S extends z.ZodType>(operation: string, response: Response, schema: S): Promise<z.output<S>> {
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      const name = (error as Error).name;
      if (name === "TimeoutError" || name === "AbortError") throw new BmxError("timeout", operation, `no answer within ${this.timeoutMs} ms`);
      throw new BmxError("bad_response", operation, "the answer is not JSON", response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join(".") || "(body)").join(", ");
      throw new BmxError("bad_response", operation, `unexpected answer (${where})`, response.status);
    }
    return parsed.data;
  }
}

/** v3 (tenant integrations) speaks JSON:API; v4 (building integrations) plain JSON, with the same body. */
function mediaTypeOf(scope: IntegrationScope): string {
  return scope.kind === "tenant" ? JSON_API : PLAIN_JSON;
}

function integrationsPath(scope: IntegrationScope, id: string): string {
  const encoded = id === ":id" ? id : encodeURIComponent(id);
  return scope.kind === "tenant" ? `/v3/tenants/${encoded}/integrations` : `/v4/buildings/${encoded}/integrations`;
}

/** The next page's path; only links on the same host are followed (the bearer token goes with them). */
function nextPage(next: string | null | undefined, origin: string): string | undefined {
  if (!next) return undefined;
  const url = new URL(next, origin);
  if (url.origin !== new URL(origin).origin) return undefined;
  return `${url.pathname}${url.search}`;
}

function toIntegration(data: z.output<typeof integrationSchema>): BmxIntegration {
  const url = data.attributes?.config?.url ?? data.attributes?.configuration?.url;
  const bindings = data.attributes?.bindings;
  const actions = Array.isArray(bindings) ? bindings.flatMap((b) => (Array.isArray(b?.actions) ? b.actions.filter((a): a is string => typeof a === "string") : [])) : undefined;
  return { id: data.id, ...(url ? { url } : {}), ...(actions && actions.length > 0 ? { actions } : {}) };
}

/** The JSON:API `me` document, flattened: each tenant with its unit label and building name. */
function toProfile(document: z.output<typeof meResponseSchema>): BmxProfile {
  const included = new Map((document.included ?? []).map((r) => [`${r.type}/${r.id}`, r]));
  const one = (rel: unknown, type: string) => {
    const data = (rel as { data?: unknown } | undefined)?.data as { id: string; type: string } | undefined;
    return data && !Array.isArray(data) ? included.get(`${data.type || type}/${data.id}`) ?? { id: data.id, attributes: undefined } : undefined;
  };
  const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : undefined);
  const tenantRefs = document.data.relationships?.tenants?.data;
  const tenantIds = Array.isArray(tenantRefs)
    ? tenantRefs.map((t) => t.id)
    : (document.included ?? []).filter((r) => r.type === "tenants").map((r) => r.id);
  const tenants = [...new Set(tenantIds)].map((id): BmxTenant => {
    const tenant = included.get(`tenants/${id}`);
    const unit = one(tenant?.relationships?.unit, "units");
    const building = one(tenant?.relationships?.building, "buildings");
    const panels = tenant?.relationships?.panels?.data;
    return {
      id,
      ...(unit ? { unitId: unit.id } : {}),
      ...(text(unit?.attributes?.label) ? { unitLabel: text(unit?.attributes?.label) } : {}),
      ...(building ? { buildingId: building.id } : {}),
      ...(text(building?.attributes?.name) ? { buildingName: text(building?.attributes?.name) } : {}),
      ...(typeof building?.attributes?.open_door_button_enabled === "boolean" ? { doorReleaseEnabled: building.attributes.open_door_button_enabled } : {}),
      ...(Array.isArray(panels) ? { panelIds: [...new Set(panels.map((panel) => panel.id))] } : {}),
    };
  });
  const attributes = document.data.attributes ?? {};
  return {
    userId: document.data.id,
    ...(text(attributes.name) ? { name: text(attributes.name) } : {}),
    ...(text(attributes.email) ? { email: text(attributes.email) } : {}),
    ...(text(attributes.contact_preference) ? { contactPreference: text(attributes.contact_preference) } : {}),
    tenants,
  };
}

async function toError(operation: string, response: Response): Promise<BmxError> {
  const status = response.status;
  const body = errorResponseSchema.safeParse(await response.json().catch(() => undefined));
  const problems = body.success
    ? [
        ...(body.data.errors ?? []).map((e) => [e.field, e.message ?? messagesOf(e.messages) ?? e.detail ?? e.title].filter(Boolean).join(" ")),
        ...(body.data.error ? [[body.data.error, body.data.error_description].filter(Boolean).join(": ")] : []),
      ].filter((p) => p.length > 0)
    : [];
  const said = problems.length > 0 ? `: ${problems.join("; ")}` : "";
  if (operation === "POST /oauth/token" && (status === 400 || status === 401)) {
    const oauthError = body.success ? body.data.error : undefined;
    if (oauthError === undefined || oauthError === "invalid_grant") {
      return new BmxError("invalid_grant", operation, `the grant is invalid, expired or already used${said}`, status, problems);
    }
    return new BmxError("rejected", operation, `ButterflyMX refused our OAuth client${said}`, status, problems);
  }
  if (status === 401) return new BmxError("unauthorized", operation, `the token was refused${said}`, status, problems);
  if (status === 404) return new BmxError("not_found", operation, `not found${said}`, status, problems);
  if (status === 429 || status >= 500) return new BmxError("unavailable", operation, `HTTP ${status}${said}`, status, problems);
  return new BmxError("rejected", operation, `HTTP ${status}${said}`, status, problems);
}

/** ButterflyMX ids are integers on the wire; ours are strings of digits (anything else is sent as given). */
function numeric(id: string): number | string {
  return /^[0-9]{1,15}$/.test(id) ? Number(id) : id;
}

/** The date format ButterflyMX's filters take: `2026-06-17 15:12:19 UTC`. */
function bmxTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `entry_method` is text, or an object naming what opened the door (`{"access_tool": 8432576}`). */
function entryMethod(value: unknown): string | undefined {
  if (typeof value === "string" && value.length > 0) return value;
  if (value && typeof value === "object") return Object.keys(value)[0];
  return undefined;
}

/** v4's 401 examples say `messages` (one text, or a list) where its other errors say `message`. */
function messagesOf(messages: unknown): string | undefined {
  if (typeof messages === "string" && messages.length > 0) return messages;
  if (Array.isArray(messages)) {
    const texts = messages.filter((m): m is string => typeof m === "string" && m.length > 0);
    return texts.length > 0 ? texts.join("; ") : undefined;
  }
  return undefined;
}

/** `Retry-After` as seconds or an HTTP date; 1 s when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number {
  if (header !== null && /^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = header !== null ? Date.parse(header) : Number.NaN;
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
