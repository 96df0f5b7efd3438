export class DeadlineExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = "DeadlineExceeded";
  }
}

/**
 * Settles with `work` or rejects with DeadlineExceeded after `ms`, whichever comes first. The work itself
 * goes on; callers use this only where finishing late is harmless (idempotent writes).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  work.catch(() => undefined); // a late failure after the deadline must not become an unhandled rejection
  if (ms <= 0) return Promise.reject(new DeadlineExceeded(what, ms));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
