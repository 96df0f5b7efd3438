import type { AnswerableError, CallableAnswer } from "../shared/errors";

/**
 * What went wrong at ButterflyMX, as far as a caller needs to decide:
 * - `invalid_grant`: the code or refresh token is invalid, expired or used (the user must sign in again);
 * - `unauthorized`: a bearer token was refused, even after one refresh;
 * - `rejected`: ButterflyMX refused the request as made (4xx other than 401/404); `problems` says why;
 * - `not_found`: the resource does not exist (or not in this user's region);
 * - `unavailable` / `timeout`: ButterflyMX is down, overloaded (5xx, 429) or slow; retrying later may work;
 * - `bad_response`: an answer we cannot read.
 */
export type BmxErrorKind = "invalid_grant" | "unauthorized" | "rejected" | "not_found" | "unavailable" | "timeout" | "bad_response";

export class BmxError extends Error implements AnswerableError {
  constructor(
    readonly kind: BmxErrorKind,
    /** The endpoint, without ids or tokens, e.g. `POST /oauth/token`. */
    readonly operation: string,
    message: string,
    readonly httpStatus?: number,
    readonly problems: string[] = [],
  ) {
    super(`ButterflyMX ${operation}: ${message}`);
    this.name = "BmxError";
  }

  /** A callable's answer: a dead sign-in asks to link again, an outage to retry, a refusal says ButterflyMX's reason. */
  callableAnswer(): CallableAnswer {
    const details = { butterflymx: { kind: this.kind, operation: this.operation, ...(this.httpStatus ? { httpStatus: this.httpStatus } : {}) } };
    switch (this.kind) {
      case "invalid_grant":
      case "unauthorized":
        return { code: "failed-precondition", message: "ButterflyMX no longer accepts this account's sign-in: link the ButterflyMX account again.", details };
      case "unavailable":
      case "timeout":
      case "bad_response":
        return { code: "unavailable", message: `ButterflyMX is not answering properly (${this.operation}); try again shortly.`, details };
      default:
        return { code: "failed-precondition", message: this.message, details: { ...details, problems: this.problems } };
    }
  }
}
