import { DocumentReference, Firestore, Query } from "firebase-admin/firestore";
import type { PushGateway } from "../../src/push/push-gateway";
import type { PushHarness } from "./push-harness";

/*
 * Failures injected at the edges, as an instance meets them: Firestore calls that fail (after the client's own retries
 * ran out) or never come back (the instance died there), push answers that never come back, and a clock the test
 * moves, so that a lease expires without waiting for it.
 */

/** A clock the test moves: the instance that died and the trigger that takes over agree on it, as on one machine. */
export function testClock() {
  const start = Date.now();
  let t = start;
  // `moved`: how far sleeps and advances took it, whatever real time passed meanwhile (a loaded machine's).
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms), moved: () => t - start };
}

/** The real Firestore client, except that its next batched document read fails. */
export function failingNextRead(db: Firestore): Firestore {
  let fail = true;
  return new Proxy(db, {
    get(target, property) {
      if (property === "getAll" && fail) {
        fail = false;
        return () => Promise.reject(new Error("14 UNAVAILABLE: injected read failure"));
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real Firestore client, except that its next query fails. */
export function failingNextQuery(db: Firestore): Firestore {
  let fail = true;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(real, property) {
        const value = Reflect.get(real, property);
        if (property === "get" && fail && real instanceof Query) {
          return () => {
            fail = false;
            return Promise.reject(new Error("14 UNAVAILABLE: injected read failure"));
          };
        }
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result = value.apply(real, args);
          return result instanceof Query || result instanceof DocumentReference ? wrap(result) : result;
        };
      },
    });
  return wrap(db);
}

/** The real Firestore client, except that its batches' commits go through `commit` (given the commit's number, from 1). */
function withCommits(db: Firestore, commit: (n: number, real: () => Promise<unknown>) => Promise<unknown>): Firestore {
  let commits = 0;
  return new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return () =>
          new Proxy(target.batch(), {
            get(batch, p) {
              if (p === "commit") return () => commit(++commits, () => batch.commit());
              const value = Reflect.get(batch, p);
              return typeof value === "function" ? value.bind(batch) : value;
            },
          });
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real Firestore client, except that every batch commit after the first `passing` fails (a dying instance). */
export function commitsFailAfter(db: Firestore, passing: number): Firestore {
  return withCommits(db, (n, real) => (n > passing ? Promise.reject(new Error("14 UNAVAILABLE: injected commit failure")) : real()));
}

/** The real Firestore client, except that transactions (token pruning) fail. */
export function transactionsFail(db: Firestore): Firestore {
  return new Proxy(db, {
    get(target, property) {
      if (property === "runTransaction") return () => Promise.reject(new Error("14 UNAVAILABLE: injected transaction failure"));
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A gateway whose pushes reach the fakes, but whose answers never come back until `release`: an instance killed mid-ring. */
export function hangingGateway(push: PushHarness, db: Firestore): { release: () => void; gateway: () => PushGateway } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const real = push.deps(db).gateway();
  return {
    release,
    gateway: () => ({
      sendFcm: async (messages) => {
        const results = await real.sendFcm(messages);
        await gate;
        return results;
      },
      sendApns: async (requests, timeoutMs) => {
        const results = await real.sendApns(requests, timeoutMs);
        await gate;
        return results;
      },
    }),
  };
}

/** A gateway whose pushes reach the fakes, after which the instance fails (it throws with the answers in hand). */
export function failingAfterSend(push: PushHarness, db: Firestore): () => PushGateway {
  const real = push.deps(db).gateway();
  const fail = () => {
    throw new Error("injected failure after the pushes");
  };
  return () => ({
    sendFcm: async (messages) => (await real.sendFcm(messages), fail()),
    sendApns: async (requests, timeoutMs) => (await real.sendApns(requests, timeoutMs), fail()),
  });
}

/**
 * The real Firestore client as seen by an instance that dies at once: nothing it starts from now on ever completes
 * (reads, queries, commits), and nothing after them runs.
 */
export function frozen(db: Firestore): Firestore {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(real, property) {
        const value = Reflect.get(real, property);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const result = value.apply(real, args);
          if (result instanceof Promise) {
            result.catch(() => undefined);
            return new Promise(() => undefined);
          }
          return result !== null && typeof result === "object" ? wrap(result) : result;
        };
      },
    });
  return wrap(db);
}

/** The real Firestore client, except that its commits never complete (the instance died before its writes landed). */
export function commitsNeverLand(db: Firestore): Firestore {
  return withCommits(db, () => new Promise(() => undefined));
}
