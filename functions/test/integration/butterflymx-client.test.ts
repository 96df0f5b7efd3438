import { BmxSession, ButterflyMxClient } from "../../src/butterflymx/butterflymx-client";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { resident, signInAtButterflyMx, tenant } from "../helpers/accounts-harness";

/** The ButterflyMX client against the local ButterflyMX, where its sources say how ButterflyMX answers. */
let fake: ButterflyMxFake;
const waits: number[] = [];
const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const client = () =>
  new ButterflyMxClient({ endpoints: fake.endpoints, clientId: fake.clientId, clientSecret: fake.clientSecret, timeoutMs: 1500, now: () => NOW, sleep: async (ms) => void waits.push(ms) });
const TOKENS = { access: "client-test-access-token", refresh: "client-test-refresh-token" };
const session: BmxSession = { region: "na", accessToken: async () => TOKENS.access };

beforeAll(async () => {
  fake = await ButterflyMxFake.start();
});
beforeEach(() => {
  fake.reset();
  waits.length = 0;
  fake.addUser(resident("301", { tenants: [tenant("t-301", { panels: ["28516"], accessPoints: ["842395203"] })] }));
  fake.seedGrant("301", TOKENS);
});
afterAll(() => fake.close());

describe("OAuth as ButterflyMX answers it", () => {
  it("takes a lower-case bearer token with no scope and a 2 h lifetime, and reads a dead refresh token's 401 as a dead grant", async () => {
    const bmx = client();
    const tokens = await bmx.exchangeCode(signInAtButterflyMx(fake, "301"));
    expect(tokens).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresAt: NOW + 7_200_000 });
    const renewed = await bmx.refresh(tokens.refreshToken);
    // Refresh rotates both tokens: the first refresh token is dead now, and ButterflyMX says so with a 401.
    await expect(bmx.refresh(tokens.refreshToken)).rejects.toMatchObject({ kind: "invalid_grant", httpStatus: 401 });
    await expect(bmx.refresh(renewed.refreshToken)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });
});

describe("errors and limits", () => {
  it("reads v4's `messages` as well as `message`", async () => {
    fake.fail({ method: "PUT", path: /^\/v4\/tenants\// }, { status: 422, body: { errors: [{ field: "base", code: "unauthorized", messages: "Unauthorized" }] } });
    await expect(client().updateTenantSettings(session, "t-301", { doNotDisturb: true })).rejects.toMatchObject({ kind: "rejected", problems: ["base Unauthorized"] });
    fake.fail({ method: "PUT", path: /^\/v4\/tenants\// }, { status: 422, body: { errors: [{ field: "contact_preference", messages: ["is invalid", "is not included in the list"] }] } });
    await expect(client().updateTenantSettings(session, "t-301", { doNotDisturb: true })).rejects.toMatchObject({ problems: ["contact_preference is invalid; is not included in the list"] });
  });

  it("repeats a read answered 429 after its Retry-After, and gives up on a wait that is too long", async () => {
    fake.fail({ method: "GET", path: /^\/v3\/me$/ }, { status: 429, headers: { "retry-after": "2" } });
    await expect(client().me(session)).resolves.toMatchObject({ userId: "301" });
    expect(waits).toEqual([2000]);

    fake.fail({ method: "GET", path: /^\/v3\/me\/calls$/ }, { status: 429, headers: { "retry-after": new Date(NOW + 3000).toUTCString() } });
    await expect(client().callLog(session)).resolves.toMatchObject({ calls: [] });
    expect(waits).toEqual([2000, 3000]);

    fake.fail({ method: "GET", path: /^\/v3\/me$/ }, { status: 429, headers: { "retry-after": "120" } });
    await expect(client().me(session)).rejects.toMatchObject({ kind: "unavailable", httpStatus: 429, message: expect.stringContaining("wait 120 s") });
    fake.fail({ method: "GET", path: /^\/v3\/me$/ }, { status: 429 }, 3);
    await expect(client().me(session)).rejects.toMatchObject({ kind: "unavailable", httpStatus: 429 });
    expect(fake.requests.filter((r) => r.path.startsWith("/v3/me?"))).toHaveLength(2 + 1 + 3);
  });

  it("never repeats a door release answered 429", async () => {
    fake.fail({ method: "POST", path: /^\/v4\/door_release_requests$/ }, { status: 429, headers: { "retry-after": "1" } });
    await expect(client().releaseDoor(session, { tenantId: "t-301", accessPointId: "842395203" })).rejects.toMatchObject({ kind: "unavailable", httpStatus: 429 });
    fake.fail({ method: "POST", path: /^\/v3\/notifications\/open_door$/ }, { status: 429 });
    await expect(client().openDoorInCall(session, { panelId: "28516", guid: "8f0c2d3e-0000-4000-8000-000000000001" })).rejects.toMatchObject({ httpStatus: 429 });
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(2);
    expect(fake.doorReleases).toEqual([]);
    expect(waits).toEqual([]);
  });
});
