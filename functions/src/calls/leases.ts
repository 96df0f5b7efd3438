import { randomUUID } from "node:crypto";
import { Firestore, Timestamp } from "firebase-admin/firestore";
import { DeliverySummary, Lease } from "./call-document";
import { decideOnCall, SeenCall } from "./call-repository";

/*
 * The ring and the stop each run once per call: each claims its turn on `calls/{guid}` (`delivery.ringLease`,
 * `delivery.stop.lease`) before sending. Every claim is a lease (as firestore-send-email's `leaseExpireTime`): its
 * holder renews it before each retry round, and an instance that dies holding it loses it when it expires; a
 * trigger then takes over.
 */

/** How long a trigger's claim lasts without renewal: longer than one round of pushes (ATTEMPT_TIMEOUT_MS) plus recording. */
export const LEASE_MS = 15_000;

/**
 * How long the webhook's claim lasts: its one round of pushes and their record fit in its answer's ~5 s. A webhook
 * that dies holding it is taken over by the trigger this long after the claim, not LEASE_MS.
 */
export const REQUEST_LEASE_MS = 5_000;

export function newLease(now: number, ms = LEASE_MS): Lease {
  return { holder: randomUUID(), until: Timestamp.fromMillis(now + ms) };
}

export function isLive(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && lease.until.toMillis() > now;
}

/** A ring that died holding its claim (or let it lapse with work left): its pushes may have gone out unrecorded. */
export function ringDied(delivery: DeliverySummary, now: number): boolean {
  return delivery.state === "ringing" && !isLive(delivery.ringLease, now);
}

export type LeaseKind = "ring" | "stop";

/** Ends this lease now (best effort after a failure, or work left undone): a trigger takes over without waiting for it. */
export function lapseLease(db: Firestore, guid: string, kind: LeaseKind, lease: Lease, now: number): Promise<void> {
  return decideOnCall<void>(db, guid, { missing: undefined }, ({ call }) => {
    const current = kind === "ring" ? call.delivery.ringLease : call.delivery.stop?.lease;
    if (current?.holder !== lease.holder) return { result: undefined };
    return { result: undefined, update: { [kind === "ring" ? "delivery.ringLease.until" : "delivery.stop.lease.until"]: Timestamp.fromMillis(now) } };
  });
}

/** A live claim held by another instance outlasted our wait: the trigger fails, and its retry tries again. */
export class LeaseHeld extends Error {
  constructor(
    readonly kind: LeaseKind,
    guid: string,
    readonly until: Timestamp,
  ) {
    super(`the ${kind} of call ${guid} is held by another instance until ${until.toDate().toISOString()}`);
    this.name = "LeaseHeld";
  }
}

/** How long a trigger waits for another instance's live claim to finish or lapse. */
export const LEASE_WAIT_MS = 60_000;

export interface WaitOptions {
  kind: LeaseKind;
  guid: string;
  clock: { now: () => number; sleep?: (ms: number) => Promise<void> };
  /** `wait` while a live claim is held; `skip` returns the held claim at once. */
  whenHeld: "wait" | "skip";
  /** The version a trigger's event carried: decided on first. */
  seen?: SeenCall;
}

/**
 * Claims, waiting while another instance holds a live claim: it finishes (the claim then has nothing left to do),
 * or it died and its lease lapses (the claim is then ours). A claim held on the event's version is looked at again
 * at once: the webhook usually finished the work before the trigger started.
 */
export async function claimWaiting<C extends { kind: string; until?: Timestamp }>(options: WaitOptions, claim: (seen?: SeenCall) => Promise<C>): Promise<C> {
  const { clock } = options;
  const sleep = clock.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = clock.now() + LEASE_WAIT_MS;
  let result = await claim(options.seen);
  if (result.kind === "held" && options.seen && options.whenHeld === "wait") result = await claim();
  // A live holder (the webhook's request, usually) finishes within tens of milliseconds: look again soon, then less
  // often.
  for (let wait = 25; result.kind === "held" && result.until && options.whenHeld === "wait"; wait = Math.min(wait * 2, 1000)) {
    if (clock.now() >= giveUpAt) throw new LeaseHeld(options.kind, options.guid, result.until);
    await sleep(Math.max(1, Math.min(wait, result.until.toMillis() - clock.now() + 1)));
    result = await claim();
  }
  return result;
}
