import { randomUUID } from "node:crypto";
import { DocumentReference, FieldValue, Firestore, Timestamp, Transaction } from "firebase-admin/firestore";
import { BmxSession, BmxTokens, ButterflyMxClient } from "../butterflymx/butterflymx-client";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { BmxEnvironment, BmxRegion } from "../butterflymx/butterflymx-hosts";
import { logs } from "../logs";
import { updateIfUnchanged } from "../shared/firebase";

/** `oauthGrants/{uid}`: the resident's ButterflyMX tokens. Server only (rules deny every client). */
export const GRANTS = "oauthGrants";

export interface StoredGrant {
  bmxUserId: string;
  environment: BmxEnvironment;
  region: BmxRegion;
  /** Absent once ButterflyMX has refused the refresh token (the resident must link again). */
  accessToken?: string;
  refreshToken?: string;
  expiresAt?: Timestamp;
  scope?: string;
  /** Who is refreshing right now, and until when: refresh tokens rotate, so only one party may use one. */
  refreshLease?: { holder: string; until: Timestamp };
  invalidSince?: Timestamp;
  updatedAt: Timestamp;
}

export function grantFields(tokens: BmxTokens, now: Timestamp): Pick<StoredGrant, "accessToken" | "refreshToken" | "expiresAt" | "scope" | "updatedAt"> {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: Timestamp.fromMillis(tokens.expiresAt),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
    updatedAt: now,
  };
}

export interface GrantSessionOptions {
  now?: () => number;
  /** How long a refresh may take before another caller may take over. */
  leaseMs?: number;
  /** Refresh this long before the stated expiry rather than wait for a 401. */
  earlyRefreshMs?: number;
}

/**
 * A ButterflyMX session for a linked resident, backed by `oauthGrants/{uid}`. On a 401 (or near expiry) it
 * refreshes under a lease in the grant document: one caller refreshes and saves the rotated pair atomically;
 * concurrent callers wait for it and use the new access token. Without this, two instances refreshing the same
 * rotating token would leave one of them holding a dead grant.
 */
export class GrantSession implements BmxSession {
  private current: StoredGrant;
  private readonly holder = randomUUID();
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly earlyRefreshMs: number;

  private constructor(
    private readonly db: Firestore,
    private readonly bmx: ButterflyMxClient,
    private readonly uid: string,
    grant: StoredGrant,
    options: GrantSessionOptions,
  ) {
    this.current = grant;
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.earlyRefreshMs = options.earlyRefreshMs ?? 60_000;
  }

  /** The resident's session, or undefined when they have no grant (never linked, or unlinked). */
  static async open(db: Firestore, bmx: ButterflyMxClient, uid: string, options: GrantSessionOptions = {}): Promise<GrantSession | undefined> {
    const snapshot = await grantRef(db, uid).get();
    return snapshot.exists ? new GrantSession(db, bmx, uid, snapshot.data() as StoredGrant, options) : undefined;
  }

  /** ButterflyMX refused the grant's refresh token: nothing works until the resident links again. */
  get dead(): boolean {
    return !this.current.accessToken;
  }

  /** When ButterflyMX refused the refresh token, for a dead grant. */
  get invalidSince(): Timestamp | undefined {
    return this.current.invalidSince;
  }

  get region(): BmxRegion {
    return this.current.region;
  }

  async accessToken(): Promise<string> {
    const token = this.current.accessToken;
    if (!token) throw deadGrant();
    const expiresAt = this.current.expiresAt?.toMillis() ?? Infinity;
    return expiresAt - this.earlyRefreshMs <= this.now() ? this.renew(token) : token;
  }

  /** A valid access token that is not `refused`: someone else's fresh one, or one we refresh ourselves. */
  async renew(refused: string): Promise<string> {
    const ref = grantRef(this.db, this.uid);
    const deadline = this.now() + this.leaseMs * 2;
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      const seen = await ref.get();
      let grant = seen.data() as StoredGrant | undefined;
      let decision = nextStep(grant, refused, this.holder, this.now());
      if (decision === "refresh" && !(await this.claimRefresh(ref, seen.updateTime!))) decision = "wait";
      if (decision === "dead") throw deadGrant();
      if (decision === "fresh") {
        this.current = grant!;
        return grant!.accessToken!;
      }
      if (decision === "refresh") return this.refresh(grant!.refreshToken!);
      if (this.now() > deadline) throw new BmxError("unavailable", "token refresh", "another refresh of this grant did not finish");
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Takes the refresh lease with a precondition on the version we looked at: no lock for concurrent callers to
   * queue on; whoever loses the race sees the change and waits.
   */
  private claimRefresh(ref: DocumentReference, seenAt: Timestamp): Promise<boolean> {
    return updateIfUnchanged(ref, { refreshLease: { holder: this.holder, until: Timestamp.fromMillis(this.now() + this.leaseMs) } }, seenAt);
  }

  private async refresh(refreshToken: string): Promise<string> {
    const ref = grantRef(this.db, this.uid);
    let tokens: BmxTokens;
    try {
      tokens = await this.bmx.refresh(refreshToken);
    } catch (error) {
      const dead = error instanceof BmxError && error.kind === "invalid_grant";
      await this.db
        .runTransaction(async (tx) => {
          const grant = await readGrant(tx, ref);
          if (grant.refreshLease?.holder !== this.holder) return;
          tx.update(ref, dead && grant.refreshToken === refreshToken
            ? { accessToken: FieldValue.delete(), refreshToken: FieldValue.delete(), refreshLease: FieldValue.delete(), invalidSince: Timestamp.fromMillis(this.now()) }
            : { refreshLease: FieldValue.delete() });
        })
        .catch((releaseError) => logs.grantWriteFailed({ uid: this.uid, stage: "release" }, releaseError));
      if (dead) logs.grantInvalid({ uid: this.uid });
      throw error;
    }
    // The old refresh token died when ButterflyMX answered: saving the new pair must not be lost to one hiccup.
    const fields = { ...grantFields(tokens, Timestamp.fromMillis(this.now())), refreshLease: FieldValue.delete() };
    for (let attempt = 1; ; attempt++) {
      try {
        await ref.update(fields);
        break;
      } catch (error) {
        if (attempt === 3) {
          logs.grantWriteFailed({ uid: this.uid, stage: "save" }, error);
          throw error;
        }
      }
    }
    this.current = { ...this.current, ...grantFields(tokens, Timestamp.fromMillis(this.now())) };
    return tokens.accessToken;
  }
}

/** What a caller whose token was refused does next, given the stored grant. */
function nextStep(grant: StoredGrant | undefined, refused: string, holder: string, now: number): "dead" | "fresh" | "wait" | "refresh" {
  if (!grant?.accessToken || !grant.refreshToken) return "dead";
  if (grant.accessToken !== refused) return "fresh";
  const lease = grant.refreshLease;
  return lease && lease.holder !== holder && lease.until.toMillis() > now ? "wait" : "refresh";
}

export function grantRef(db: Firestore, uid: string) {
  return db.collection(GRANTS).doc(uid);
}

async function readGrant(tx: Transaction, ref: DocumentReference): Promise<StoredGrant> {
  const snapshot = await tx.get(ref);
  if (!snapshot.exists) throw deadGrant();
  return snapshot.data() as StoredGrant;
}

function deadGrant(): BmxError {
  return new BmxError("invalid_grant", "stored grant", "ButterflyMX no longer accepts this sign-in; link the account again");
}
