import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

export type FakeHost = "accounts" | "na" | "eu";

export interface FakeTenant {
  id: string;
  unitId?: string;
  unitLabel?: string;
  buildingId?: string;
  buildingName?: string;
  /** The building's `open_door_button_enabled` (true when absent). */
  doorReleaseEnabled?: boolean;
  /** v4 access points of the building (`GET /v4/access_points`), the ones this tenant may open. */
  accessPoints?: string[];
  /** Their names (`Access point <id>` when not given). */
  accessPointNames?: Record<string, string>;
  /** v3 panels of the tenancy (as webhooks name them; `tenants.panels` of `/v3/me`). */
  panels?: string[];
  /** The tenant's own settings (PUT /v4/tenants/{id}). */
  doNotDisturb?: boolean;
  contactPreference?: string;
}

/** One call in a user's v3 call log (`GET /v3/me/calls`). */
export interface FakeCallLog {
  id: string;
  guid: string;
  loggedAt: string;
  panelId: string;
  panelName?: string;
  status: string;
  thumbUrl?: string;
  mediumUrl?: string;
}

/** One entry of a building's v4 access log. */
export interface FakeAccessLog {
  id: number;
  buildingId: string;
  logged_at: string;
  access_point: number | string | null;
  release_status: string;
  name: string | null;
  release_type: string | null;
  unit: number | string | null;
  tenant_id: number | string | null;
  entry_method: unknown;
  image_url: string | null;
}

/** A door release ButterflyMX executed (v4 request or v3 in-call open_door). */
export interface FakeDoorRelease {
  id: number;
  userId: string;
  path: "/v4/door_release_requests" | "/v3/me/open_door" | "/v3/notifications/open_door";
  tenantId?: string;
  accessPointId?: string;
  panelId?: string;
  unitId?: string;
}

export interface FakeUser {
  id: string;
  name?: string;
  email?: string;
  region: "na" | "eu";
  contactPreference?: string;
  tenants: FakeTenant[];
}

export interface FakeIntegration {
  id: string;
  scope: string;
  url: string;
  method: string;
  bindings: unknown;
}

export interface FakeRequest {
  host: FakeHost;
  method: string;
  path: string;
  bearer?: string;
  form?: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

/**
 * What a matched request gets: an error answer, no answer at all, or its normal answer after a delay or once `until`
 * settles (a test holds the request while something else happens).
 */
export type FakeFailure = { status: number; body?: unknown; headers?: Record<string, string> } | "hang" | { delayMs: number } | { until: Promise<unknown> };

interface FailureRule {
  host?: FakeHost;
  method?: string;
  path: RegExp;
  reply: FakeFailure;
  times: number;
}

interface Grant {
  userId: string;
  access: string;
  refresh: string;
  accessValid: boolean;
}

const sha256url = (text: string) => createHash("sha256").update(text).digest("base64url");

/**
 * A local ButterflyMX over plain HTTP: the accounts host (OAuth with PKCE and rotating refresh tokens, revoke,
 * regions) and two regional API hosts (`/v3/me`, tenant and building integrations, paginated). Users exist in one
 * region; the other region's host answers 404 for them, like separate regional databases. Failures are injected
 * per route; `placeCall` delivers a call to the registered webhooks the way ButterflyMX does.
 */
export class ButterflyMxFake {
  readonly clientId = "fake-client-id";
  /** The e2e suite passes the emulated functions' BUTTERFLYMX_CLIENT_SECRET (see scripts/test.mjs). */
  readonly clientSecret = process.env.BUTTERFLYMX_FAKE_CLIENT_SECRET ?? "fake-client-secret-0123456789";
  readonly requests: FakeRequest[] = [];
  /** Integrations per page when listing; small so that pagination is exercised. */
  pageSize = 2;
  accessTtlSeconds = 7_200;

  private readonly users = new Map<string, FakeUser>();
  private readonly codes = new Map<string, { userId: string; redirectUri: string; challenge: string; expiresAt: number; used: boolean }>();
  private readonly grants: Grant[] = [];
  private readonly operatorTokens = new Map<string, string[]>();
  private readonly integrations: FakeIntegration[] = [];
  private readonly failures: FailureRule[] = [];
  private nextIntegrationId = 1000;
  private nextLogId = 5000;
  /** Per user id: their v3 call log. */
  private readonly callLogs = new Map<string, FakeCallLog[]>();
  readonly accessLogs: FakeAccessLog[] = [];
  readonly doorReleases: FakeDoorRelease[] = [];
  /** `POST /v3/notifications/{kind}` received: what the panel was told during a call. */
  readonly panelNotifications: Array<{ kind: string; body: unknown }> = [];
  /** Whether residents may change their tenant's settings (PUT /v4/tenants/{id}); ButterflyMX's rule is unknown. */
  tenantSettingsAllowed = true;
  /** Calls per v3 call log page when the request names no `page[size]` (ButterflyMX's own fixtures show 20). */
  callLogPageSize = 20;
  /** v3 lists answer their first page whatever page is asked. */
  v3IgnoresPaging = false;
  /** v4 building integrations refuse a `status_update` binding (only `create` is documented for v4). */
  buildingRefusesStatusUpdate = false;

  private constructor(
    private readonly servers: Record<FakeHost, Server>,
    readonly origins: Record<FakeHost, string>,
  ) {}

  static async start(ports: Partial<Record<FakeHost, number>> = {}): Promise<ButterflyMxFake> {
    const hosts: FakeHost[] = ["accounts", "na", "eu"];
    const servers = {} as Record<FakeHost, Server>;
    const origins = {} as Record<FakeHost, string>;
    let fake!: ButterflyMxFake;
    for (const host of hosts) {
      const server = createServer((req, res) => void fake.handle(host, req, res));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(ports[host] ?? 0, "127.0.0.1", resolve);
      });
      servers[host] = server;
      origins[host] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    fake = new ButterflyMxFake(servers, origins);
    return fake;
  }

  /** The endpoints to give a ButterflyMxClient. */
  get endpoints(): { accounts: string; api: { na: string; eu: string } } {
    return { accounts: this.origins.accounts, api: { na: this.origins.na, eu: this.origins.eu } };
  }

  addUser(user: FakeUser): FakeUser {
    this.users.set(user.id, user);
    return user;
  }

  updateUser(id: string, change: Partial<FakeUser>): void {
    const user = this.users.get(id);
    if (!user) throw new Error(`no fake user ${id}`);
    this.users.set(id, { ...user, ...change });
  }

  addOperatorToken(token: string, buildingIds: string[]): void {
    this.operatorTokens.set(token, buildingIds);
  }

  /** What /oauth/authorize would redirect with after the user signs in: a one-time code bound to a PKCE verifier. */
  authorize(userId: string, options: { redirectUri: string; codeVerifier: string; ttlMs?: number }): string {
    const code = randomBytes(12).toString("hex");
    this.codes.set(code, {
      userId,
      redirectUri: options.redirectUri,
      challenge: sha256url(options.codeVerifier),
      expiresAt: Date.now() + (options.ttlMs ?? 600_000),
      used: false,
    });
    return code;
  }

  /** A grant as if the user had signed in already (the emulator's demo resident): these tokens work from now on. */
  seedGrant(userId: string, tokens: { access: string; refresh: string }): void {
    this.grants.push({ userId, access: tokens.access, refresh: tokens.refresh, accessValid: true });
  }

  /** Invalidates the user's current access tokens (as if they expired); refresh tokens stay valid. */
  expireAccessTokens(userId: string): void {
    for (const grant of this.grants) if (grant.userId === userId) grant.accessValid = false;
  }

  /** Grants whose refresh token still works: after a rotation exactly one per sign-in. */
  liveGrants(userId: string): Grant[] {
    return this.grants.filter((g) => g.userId === userId);
  }

  integrationsOf(scope: { kind: "tenant" | "building"; id: string }): FakeIntegration[] {
    return this.integrations.filter((i) => i.scope === `${scope.kind}/${scope.id}`);
  }

  /** Registers an integration directly (as another app or an earlier deployment would have). */
  seedIntegration(scope: { kind: "tenant" | "building"; id: string }, url: string): FakeIntegration {
    const integration = { id: String(this.nextIntegrationId++), scope: `${scope.kind}/${scope.id}`, url, method: "post", bindings: [] };
    this.integrations.push(integration);
    return integration;
  }

  /** The next `times` requests matching get `reply` instead of their answer. */
  fail(match: { host?: FakeHost; method?: string; path: RegExp }, reply: FakeFailure, times = 1): void {
    this.failures.push({ ...match, reply, times });
  }

  /** Adds calls to a user's v3 call log (kept newest first). */
  addCallLogs(userId: string, ...calls: FakeCallLog[]): void {
    const log = [...(this.callLogs.get(userId) ?? []), ...calls].sort((a, b) => b.loggedAt.localeCompare(a.loggedAt) || b.id.localeCompare(a.id));
    this.callLogs.set(userId, log);
  }

  /** Adds entries to a building's v4 access log. */
  addAccessLogs(...entries: Array<Omit<FakeAccessLog, "id"> & { id?: number }>): void {
    for (const entry of entries) this.accessLogs.push({ ...entry, id: entry.id ?? this.nextLogId++ });
  }

  tenantOf(tenantId: string): FakeTenant | undefined {
    return [...this.users.values()].flatMap((u) => u.tenants).find((t) => t.id === tenantId);
  }

  reset(): void {
    this.callLogs.clear();
    this.accessLogs.length = 0;
    this.doorReleases.length = 0;
    this.panelNotifications.length = 0;
    this.tenantSettingsAllowed = true;
    this.callLogPageSize = 20;
    this.v3IgnoresPaging = false;
    this.buildingRefusesStatusUpdate = false;
    this.requests.length = 0;
    this.users.clear();
    this.codes.clear();
    this.grants.length = 0;
    this.operatorTokens.clear();
    this.integrations.length = 0;
    this.failures.length = 0;
    this.pageSize = 2;
    this.accessTtlSeconds = 7_200;
  }

  /**
   * ButterflyMX calling the unit: POSTs the call to every webhook registered on the tenant and its building,
   * and returns each answer. `status` sends a `status_update` instead of a `create`.
   */
  async placeCall(tenantId: string, call: Record<string, unknown>, status?: string): Promise<Array<{ url: string; status: number; body: unknown }>> {
    const tenant = [...this.users.values()].flatMap((u) => u.tenants).find((t) => t.id === tenantId);
    const targets = [
      ...this.integrationsOf({ kind: "tenant", id: tenantId }),
      ...(tenant?.buildingId ? this.integrationsOf({ kind: "building", id: tenant.buildingId }) : []),
    ];
    const body = status ? { call, status } : call;
    return Promise.all(
      targets.map(async (integration) => {
        const response = await fetch(integration.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        return { url: integration.url, status: response.status, body: await response.json().catch(() => undefined) };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.servers).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private async handle(host: FakeHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let data = "";
      req.on("data", (chunk) => (data += chunk));
      req.on("end", () => resolve(data));
    });
    const url = new URL(req.url ?? "/", this.origins[host]);
    const method = req.method ?? "GET";
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const isForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = isForm ? Object.fromEntries(new URLSearchParams(raw)) : undefined;
    let body: unknown;
    if (!isForm && raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { errors: [{ message: "malformed JSON" }] });
      }
    }
    const contentType = req.headers["content-type"];
    this.requests.push({ host, method, path: url.pathname + url.search, bearer, form, body, ...(contentType ? { contentType } : {}) });

    const rule = this.failures.find((f) => (!f.host || f.host === host) && (!f.method || f.method === method) && f.path.test(url.pathname));
    if (rule) {
      if (--rule.times === 0) this.failures.splice(this.failures.indexOf(rule), 1);
      if (rule.reply === "hang") return;
      if ("delayMs" in rule.reply) await new Promise((resolve) => setTimeout(resolve, (rule.reply as { delayMs: number }).delayMs));
      else if ("until" in rule.reply) await rule.reply.until;
      else return send(res, rule.reply.status, rule.reply.body ?? { errors: [{ message: `injected ${rule.reply.status}` }] }, rule.reply.headers);
    }

    if (host === "accounts") return this.accounts(method, url, bearer, form, res);
    return this.api(host, method, url, bearer, body, res);
  }

  private accounts(method: string, url: URL, bearer: string | undefined, form: Record<string, string> | undefined, res: ServerResponse): void {
    if (method === "POST" && url.pathname === "/oauth/token") return this.token(form ?? {}, res);
    // Source: the OpenID discovery document lists /oauth/revoke; RFC 7009 answers 200 for unknown tokens.
    if (method === "POST" && url.pathname === "/oauth/revoke") {
      if (!this.clientOk(form ?? {})) return send(res, 401, { error: "invalid_client" });
      const index = this.grants.findIndex((g) => g.access === form?.token || g.refresh === form?.token);
      if (index >= 0) this.grants.splice(index, 1);
      return send(res, 200, {});
    }
    // Source: the SDKs' RegionsModel (`{"regions": [...]}`); no verbatim body has been seen.
    if (method === "GET" && url.pathname === "/api/mobile/regions") {
      const grant = this.grantFor(bearer);
      if (!grant) return send(res, 401, { errors: [{ message: "unauthorized" }] });
      return send(res, 200, { regions: [this.users.get(grant.userId)!.region] });
    }
    send(res, 404, { errors: [{ message: "not found" }] });
  }

  /**
   * Sources: ButterflyMX's docs (a dead refresh token answers 401), the SDKs' token model (`token_type: "bearer"`,
   * `expires_in: 7200`, no scope). The 400 for a bad authorization code is Doorkeeper's (assumption).
   */
  private token(form: Record<string, string>, res: ServerResponse): void {
    if (!this.clientOk(form)) return send(res, 401, { error: "invalid_client", error_description: "Client authentication failed." });
    const invalidGrant = (status = 400) => send(res, status, { error: "invalid_grant", error_description: "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client." });
    let userId: string;
    if (form.grant_type === "authorization_code") {
      const code = this.codes.get(form.code ?? "");
      if (!code || code.used || code.expiresAt < Date.now() || code.redirectUri !== form.redirect_uri) return invalidGrant();
      if (!form.code_verifier || sha256url(form.code_verifier) !== code.challenge) return invalidGrant();
      code.used = true;
      userId = code.userId;
    } else if (form.grant_type === "refresh_token") {
      const index = this.grants.findIndex((g) => g.refresh === form.refresh_token);
      if (index < 0) return invalidGrant(401);
      // Rotation: the old refresh token and its access token die now.
      userId = this.grants[index].userId;
      this.grants.splice(index, 1);
    } else {
      return send(res, 400, { error: "unsupported_grant_type" });
    }
    const grant = { userId, access: `at-${randomBytes(16).toString("hex")}`, refresh: `rt-${randomBytes(16).toString("hex")}`, accessValid: true };
    this.grants.push(grant);
    send(res, 200, {
      access_token: grant.access,
      token_type: "bearer",
      expires_in: this.accessTtlSeconds,
      refresh_token: grant.refresh,
      created_at: Math.floor(Date.now() / 1000),
    });
  }

  private api(host: "na" | "eu", method: string, url: URL, bearer: string | undefined, body: unknown, res: ServerResponse): void {
    const operatorBuildings = bearer ? this.operatorTokens.get(bearer) : undefined;
    const grant = this.grantFor(bearer);
    const user = grant ? this.users.get(grant.userId) : undefined;
    if (!user && !operatorBuildings) return send(res, 401, { errors: [{ message: "unauthorized" }] });
    // Assumption: another region's host does not know the user (separate regional databases).
    if (user && user.region !== host) return send(res, 404, { errors: [{ message: "user not found in this region" }] });
    // Source: the SDKs' include strings and JSON:API decoders (no verbatim /v3/me has been seen).

    if (method === "GET" && url.pathname === "/v3/me" && user) return send(res, 200, meDocument(user));
    if (user && this.residentApi(host, user, method, url, body, res)) return;

    const match = /^\/(v3\/tenants|v4\/buildings)\/([^/]+)\/integrations(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return send(res, 404, { errors: [{ message: "not found" }] });
    const kind = match[1] === "v3/tenants" ? "tenant" : "building";
    const scopeId = decodeURIComponent(match[2]);
    const allowed = kind === "tenant" ? user?.tenants.some((t) => t.id === scopeId) : operatorBuildings?.includes(scopeId);
    // Assumption: a scope the token may not use is refused 403 (no source shows it).
    if (!allowed) return send(res, 403, { errors: [{ code: "forbidden", message: `not allowed on ${kind} ${scopeId}` }] });
    const scope = `${kind}/${scopeId}`;
    const integrationId = match[3];

    const all = this.integrations.filter((i) => i.scope === scope);
    if (method === "GET" && !integrationId && kind === "tenant") {
      const { slice, links } = this.v3Page(host, url, all, this.pageSize);
      return send(res, 200, { data: slice.map(integrationResource), links });
    }
    if (method === "GET" && !integrationId) {
      // Source: v4 spec `getV4BuildingsByBuildingIdIntegrations` (page, per); the page_info block as v4's other lists.
      const { slice, page_info } = v4Page(url, all);
      return send(res, 200, { data: slice.map(integrationResource), page_info });
    }
    if (method === "POST" && !integrationId) {
      const attributes = (body as { data?: { attributes?: { integrator?: string; configuration?: { url?: string; method?: string }; bindings?: unknown } } })?.data?.attributes;
      const target = attributes?.configuration?.url;
      // Assumption (no source shows ButterflyMX's refusals): 422 naming the field.
      if (attributes?.integrator !== "webhook" || !target || !/^https?:\/\//.test(target)) {
        return send(res, 422, { errors: [{ field: "configuration.url", code: "invalid", message: "is not a valid URL" }] });
      }
      const actions = (attributes.bindings as Array<{ actions?: unknown }> | undefined)?.flatMap((b) => (Array.isArray(b.actions) ? b.actions : []));
      if (kind === "building" && this.buildingRefusesStatusUpdate && actions?.includes("status_update")) {
        return send(res, 422, { errors: [{ field: "bindings", code: "invalid", message: "status_update is not a supported action" }] });
      }
      const integration = { id: String(this.nextIntegrationId++), scope, url: target, method: attributes.configuration?.method ?? "post", bindings: attributes.bindings };
      this.integrations.push(integration);
      // Source: v4 spec — building integration create answers 200; v3 (the iOS SDK) reads the created resource back.
      return send(res, kind === "building" ? 200 : 201, { data: integrationResource(integration) });
    }
    // Source: v4 spec (delete answers 204); the 404 for an integration already gone is an assumption.
    if (method === "DELETE" && integrationId) {
      const index = this.integrations.findIndex((i) => i.scope === scope && i.id === integrationId);
      if (index < 0) return send(res, 404, { errors: [{ message: "integration not found" }] });
      this.integrations.splice(index, 1);
      res.writeHead(204).end();
      return;
    }
    send(res, 405, { errors: [{ message: "method not allowed" }] });
  }

  /** Routes a resident's token may use beyond integrations; false when the route is not one of them. */
  private residentApi(host: "na" | "eu", user: FakeUser, method: string, url: URL, body: unknown, res: ServerResponse): boolean {
    const path = url.pathname;
    // Source: the SDKs' Call decoders and a third party's fixture of one v3 call (guid in attributes, panel related).
    if (method === "GET" && path === "/v3/me/calls") {
      const { slice, links } = this.v3Page(host, url, this.callLogs.get(user.id) ?? [], this.callLogPageSize);
      send(res, 200, { data: slice.map(callLogResource), links });
      return true;
    }
    const status = /^\/v3\/me\/calls\/([^/]+)\/status$/.exec(path);
    // Source: the SDKs' CallStatus (`call_statuses`: status, multiple_devices, created_at); the 404 body is v4's.
    if (method === "GET" && status) {
      const call = (this.callLogs.get(user.id) ?? []).find((c) => c.guid === decodeURIComponent(status[1]));
      if (!call) send(res, 404, { errors: [{ field: "base", code: "not_found", message: "Resource not found" }] });
      else send(res, 200, { data: { id: call.id, type: "call_statuses", attributes: { status: call.status, multiple_devices: false, created_at: call.loggedAt } } });
      return true;
    }
    const logs = /^\/v4\/buildings\/([^/]+)\/access_logs$/.exec(path);
    // Source: v4 spec (page, per, q[logged_at_*], page_info; entries verbatim); the 403 for another building is an assumption.
    if (method === "GET" && logs) {
      const buildingId = decodeURIComponent(logs[1]);
      if (!user.tenants.some((t) => t.buildingId === buildingId)) {
        send(res, 403, { errors: [{ field: "base", code: "forbidden", message: "Forbidden" }] });
        return true;
      }
      const own = new Set(user.tenants.map((t) => String(t.id)));
      // A resident's token sees that resident's entries; a malformed date is ignored (everything comes back).
      const bound = (name: string) => {
        const value = Date.parse(url.searchParams.get(name) ?? "");
        return Number.isNaN(value) ? undefined : value;
      };
      const from = bound("q[logged_at_gteq]");
      const to = bound("q[logged_at_lteq]");
      const all = this.accessLogs
        .filter((e) => e.buildingId === buildingId && e.tenant_id !== null && own.has(String(e.tenant_id)))
        .filter((e) => (from === undefined || Date.parse(e.logged_at) >= from) && (to === undefined || Date.parse(e.logged_at) <= to))
        .sort((a, b) => b.logged_at.localeCompare(a.logged_at) || b.id - a.id);
      const { slice, page_info } = v4Page(url, all);
      send(res, 200, { data: slice.map(({ buildingId: _building, ...entry }) => entry), page_info });
      return true;
    }
    // Source: v4 spec (body and 201 verbatim; it declares 201 and 401 only): its 404 and 422 refusals are assumptions.
    if (method === "POST" && path === "/v4/door_release_requests") {
      const request = (body as { door_release_request?: { tenant_id?: unknown; access_point_id?: unknown } })?.door_release_request;
      const tenant = user.tenants.find((t) => t.id === String(request?.tenant_id));
      if (!tenant) {
        send(res, 404, { errors: [{ field: "base", code: "not_found", message: "Resource not found" }] });
        return true;
      }
      const accessPoint = String(request?.access_point_id ?? "");
      if (tenant.doorReleaseEnabled === false) {
        send(res, 422, { errors: [{ field: "base", code: "disabled", message: "Door release is disabled for this building" }] });
        return true;
      }
      if (!tenant.accessPoints?.includes(accessPoint)) {
        send(res, 422, { errors: [{ field: "access_point_id", code: "invalid", message: "is not an access point of this tenant's building" }] });
        return true;
      }
      const release = this.release(user, tenant, { path: "/v4/door_release_requests", tenantId: tenant.id, accessPointId: accessPoint }, "API");
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      send(res, 201, {
        data: { access_point_id: wireId(accessPoint), created_at: now, device_id: null, guid: randomUUID(), id: release.id, release_method: "api", updated_at: now, tenant_id: wireId(tenant.id) },
      });
      return true;
    }
    // Source: the iOS SDK's out-of-call door (body verbatim). Its answer (201 with a resource; iOS reads none) and the
    // 422 refusals are assumptions.
    if (method === "POST" && path === "/v3/me/open_door") {
      const data = (body as { data?: { relationships?: { panel?: { data?: { id?: unknown } }; unit?: { data?: { id?: unknown } } } } })?.data;
      const panelId = String(data?.relationships?.panel?.data?.id ?? "");
      const unitId = String(data?.relationships?.unit?.data?.id ?? "");
      const tenant = user.tenants.find((t) => t.unitId === unitId);
      if (!tenant || !tenant.panels?.includes(panelId)) {
        send(res, 422, { errors: [{ field: "panel", code: "invalid", message: "Panel is not available for this unit" }] });
        return true;
      }
      if (tenant.doorReleaseEnabled === false) {
        send(res, 422, { errors: [{ field: "base", code: "disabled", message: "Door release is disabled for this building" }] });
        return true;
      }
      const release = this.release(user, tenant, { path: "/v3/me/open_door", panelId, unitId }, "App call");
      send(res, 201, { data: { id: String(release.id), type: "door_release_requests", attributes: { release_method: "front_door_view" } } });
      return true;
    }
    if (method === "GET" && path === "/v4/access_points") {
      // Source: v4 spec `getV4AccessPoints` (page/per, q[building_id_in][], page_info). Which points a resident's
      // token sees is an assumption: those of their tenancies' buildings.
      const buildings = url.searchParams.getAll("q[building_id_in][]");
      const all = user.tenants
        .filter((t) => t.buildingId !== undefined && (buildings.length === 0 || buildings.includes(t.buildingId)))
        .flatMap((t) => (t.accessPoints ?? []).map((id) => ({ id: wireId(id), name: t.accessPointNames?.[id] ?? `Access point ${id}`, building_id: wireId(t.buildingId!), device_ids: [], open_hours: [] })));
      const { slice, page_info } = v4Page(url, all);
      send(res, 200, { data: slice, page_info });
      return true;
    }
    const notification = /^\/v3\/notifications\/([a-z_]+)$/.exec(path);
    if (method === "POST" && notification) {
      // Source: the SDKs' CallNotifications / MQBody (`panel_id`, `call_guid`). The answer (204) and the refusal of a
      // panel that is not the user's (422) are assumptions: no source shows them.
      this.panelNotifications.push({ kind: notification[1], body });
      const attributes = (body as { data?: { attributes?: { panel_id?: unknown; call_guid?: unknown } } })?.data?.attributes;
      const panelId = String(attributes?.panel_id ?? "");
      const tenant = user.tenants.find((t) => t.panels?.includes(panelId));
      if (!tenant || typeof attributes?.call_guid !== "string") {
        send(res, 422, { errors: [{ field: "panel_id", code: "invalid", message: "Panel is not available for this user" }] });
        return true;
      }
      if (notification[1] === "open_door") this.release(user, tenant, { path: "/v3/notifications/open_door", panelId }, "App call");
      res.writeHead(204).end();
      return true;
    }
    const tenantPath = /^\/v4\/tenants\/([^/]+)$/.exec(path);
    // Source: v4 spec (body; it declares 200, 401 and 422); the 403 when residents may not is an assumption.
    if (method === "PUT" && tenantPath) {
      const tenant = user.tenants.find((t) => t.id === decodeURIComponent(tenantPath[1]));
      if (!tenant) {
        send(res, 404, { errors: [{ field: "base", code: "not_found", message: "Resource not found" }] });
        return true;
      }
      if (!this.tenantSettingsAllowed) {
        send(res, 403, { errors: [{ field: "base", code: "forbidden", message: "Residents may not change these settings" }] });
        return true;
      }
      const change = (body as { tenant?: { notification_preference_attributes?: { do_not_disturb?: unknown }; user_attributes?: { contact_preference?: unknown } } })?.tenant;
      const dnd = change?.notification_preference_attributes?.do_not_disturb;
      const contact = change?.user_attributes?.contact_preference;
      if (contact !== undefined && contact !== "mobile_app" && contact !== "phone_call") {
        send(res, 422, { errors: [{ field: "contact_preference", code: "inclusion", message: "is not included in the list" }] });
        return true;
      }
      if (typeof dnd === "boolean") tenant.doNotDisturb = dnd;
      if (typeof contact === "string") tenant.contactPreference = contact;
      send(res, 200, { data: { id: wireId(tenant.id), contact_preference: tenant.contactPreference ?? "mobile_app", notification_preference: { do_not_disturb: tenant.doNotDisturb ?? false } } });
      return true;
    }
    return false;
  }

  /**
   * v3 paging as ButterflyMX's own clients use it (go-butterflymx, the Android SDK's `Pagination`): `page[number]` /
   * `page[size]`, absolute `links` {self, first, prev, next, last}; `page` / `per` are not v3's and are ignored.
   * `v3IgnoresPaging` answers the first page whatever is asked (a ButterflyMX that repeats a page).
   */
  private v3Page<T>(host: "na" | "eu", url: URL, all: T[], defaultSize: number): { slice: T[]; links: Record<string, string | null> } {
    const size = Math.min(100, Math.max(1, Number(url.searchParams.get("page[size]")) || defaultSize));
    const number = this.v3IgnoresPaging ? 1 : Math.max(1, Number(url.searchParams.get("page[number]")) || 1);
    const last = Math.max(1, Math.ceil(all.length / size));
    const link = (n: number) => {
      const target = new URL(url.pathname, this.origins[host]);
      target.searchParams.set("page[number]", String(n));
      target.searchParams.set("page[size]", String(size));
      return target.toString();
    };
    return {
      slice: all.slice((number - 1) * size, number * size),
      links: { self: link(number), first: link(1), prev: number > 1 ? link(number - 1) : null, next: number < last ? link(number + 1) : null, last: link(last) },
    };
  }

  /** Records a door release ButterflyMX executed, with the access log entry it leaves. */
  private release(user: FakeUser, tenant: FakeTenant, what: Omit<FakeDoorRelease, "id" | "userId">, entryMethod: string): FakeDoorRelease {
    const release = { id: this.doorReleases.length + 1, userId: user.id, ...what };
    this.doorReleases.push(release);
    this.addAccessLogs({
      buildingId: tenant.buildingId ?? "",
      logged_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      access_point: what.accessPointId ? wireId(what.accessPointId) : null,
      release_status: "Unlocked",
      name: user.name ?? null,
      release_type: "Tenant",
      unit: tenant.unitId ? wireId(tenant.unitId) : null,
      tenant_id: wireId(tenant.id),
      entry_method: entryMethod,
      image_url: null,
    });
    return release;
  }

  private clientOk(form: Record<string, string>): boolean {
    return form.client_id === this.clientId && form.client_secret === this.clientSecret;
  }

  private grantFor(bearer: string | undefined): Grant | undefined {
    return this.grants.find((g) => g.access === bearer && g.accessValid);
  }
}

function callLogResource(c: FakeCallLog) {
  return {
    id: c.id,
    type: "calls",
    attributes: {
      guid: c.guid,
      call_type: "mobile",
      notification_type: "visitor",
      logged_at: c.loggedAt,
      created_at: c.loggedAt,
      status: c.status,
      display_status: c.status,
      panel_name: c.panelName ?? null,
      panel_id: wireId(c.panelId),
      thumb_url: c.thumbUrl ?? null,
      medium_url: c.mediumUrl ?? null,
    },
    relationships: { panel: { data: { id: c.panelId, type: "panels" } } },
  };
}

/** A v4 list's page as its `page` / `per` ask (25 a page unless said), with the `page_info` block the spec's examples carry. */
function v4Page<T>(url: URL, all: T[]) {
  const per = Math.min(100, Math.max(1, Number(url.searchParams.get("per") ?? "25") || 25));
  const page = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1);
  const slice = all.slice((page - 1) * per, page * per);
  const totalPages = Math.max(1, Math.ceil(all.length / per));
  const page_info = {
    current_page: page, total_pages: totalPages, total_item_count: all.length, page_item_count: slice.length, page_size: per,
    next_page: page < totalPages ? page + 1 : null, prev_page: page > 1 ? page - 1 : null, first_page: page === 1, last_page: page >= totalPages,
  };
  return { slice, page_info };
}

function integrationResource(i: FakeIntegration) {
  return { id: i.id, type: "integrations", attributes: { integrator: "webhook", config: { url: i.url, method: i.method }, bindings: i.bindings } };
}

function meDocument(user: FakeUser) {
  const included: unknown[] = [];
  for (const t of user.tenants) {
    included.push({
      id: t.id,
      type: "tenants",
      attributes: {},
      relationships: {
        ...(t.unitId ? { unit: { data: { id: t.unitId, type: "units" } } } : {}),
        ...(t.buildingId ? { building: { data: { id: t.buildingId, type: "buildings" } } } : {}),
        panels: { data: (t.panels ?? []).map((id) => ({ id, type: "panels" })) },
      },
    });
    for (const panel of t.panels ?? []) included.push({ id: panel, type: "panels", attributes: { name: `Panel ${panel}` } });
    if (t.unitId) included.push({ id: t.unitId, type: "units", attributes: { label: t.unitLabel } });
    if (t.buildingId) included.push({ id: t.buildingId, type: "buildings", attributes: { name: t.buildingName, open_door_button_enabled: t.doorReleaseEnabled ?? true } });
  }
  return {
    data: {
      id: user.id,
      type: "users",
      attributes: { name: user.name, email: user.email, contact_preference: user.contactPreference ?? "mobile_app" },
      relationships: { tenants: { data: user.tenants.map((t) => ({ id: t.id, type: "tenants" })) } },
    },
    included,
  };
}

/** ButterflyMX sends integer ids; the tests' ids that are not digits travel as they are. */
function wireId(id: string): number | string {
  return /^[0-9]+$/.test(id) ? Number(id) : id;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": status < 300 ? "application/vnd.api+json" : "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
