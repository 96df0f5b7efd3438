import { randomBytes } from "node:crypto";
import { Firestore } from "firebase-admin/firestore";
import { AccountDeps } from "../../src/accounts/account-deps";
import { ButterflyMxClient } from "../../src/butterflymx/butterflymx-client";
import { ButterflyMxFake, FakeTenant, FakeUser } from "../fakes/butterflymx-fake";

export const REDIRECT_URI = "com.example.intercom:/oauth/butterflymx";
export const WEBHOOK_BASE = "https://us-central1-demo-test.cloudfunctions.net/butterflymxWebhook";

/** A ButterflyMX client on the fake, with a short timeout so that "hang" failures end quickly. */
export function fakeClient(fake: ButterflyMxFake, timeoutMs = 1500): ButterflyMxClient {
  return new ButterflyMxClient({ endpoints: fake.endpoints, clientId: fake.clientId, clientSecret: fake.clientSecret, timeoutMs });
}

export function accountDeps(db: Firestore, fake: ButterflyMxFake, overrides: Partial<AccountDeps> = {}): AccountDeps {
  return {
    db,
    bmx: fakeClient(fake),
    environment: "production",
    webhookBaseUrl: WEBHOOK_BASE,
    redirectUris: [REDIRECT_URI],
    now: Date.now,
    ...overrides,
  };
}

/** What the app holds after the resident signs in on ButterflyMX's authorize page: code, verifier, redirect URI. */
export function signInAtButterflyMx(fake: ButterflyMxFake, userId: string, options: { ttlMs?: number } = {}) {
  const codeVerifier = randomBytes(48).toString("base64url");
  const code = fake.authorize(userId, { redirectUri: REDIRECT_URI, codeVerifier, ttlMs: options.ttlMs });
  return { code, codeVerifier, redirectUri: REDIRECT_URI };
}

export function tenant(id: string, extra: Partial<FakeTenant> = {}): FakeTenant {
  return { id, unitId: `u-${id}`, unitLabel: `Unit ${id}`, buildingId: "b-1", buildingName: "Maple Court", ...extra };
}

export function resident(id: string, extra: Partial<FakeUser> = {}): FakeUser {
  return { id, name: "Dana Resident", email: `dana.${id}@example.com`, region: "na", tenants: [tenant(`t-${id}-1`)], ...extra };
}
