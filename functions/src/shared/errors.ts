import { randomUUID } from "node:crypto";
import { FunctionsErrorCode, HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { logs } from "../logs";
import { fieldProblems, missingIsRequired } from "./field-problems";

/** A caller's input is wrong; `field` names it (dot path). Becomes `invalid-argument`. */
export class InvalidInput extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = "InvalidInput";
  }
}

/** The request is valid but conflicts with the current state (e.g. an account linked elsewhere). Becomes `already-exists`. */
export class Conflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Conflict";
  }
}

/**
 * A per-user limit would be exceeded (devices per account, calls per minute). Becomes `resource-exhausted`, with
 * `details.retryAfterSeconds` when waiting helps.
 */
export class LimitReached extends Error {
  constructor(
    message: string,
    readonly options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "LimitReached";
  }
}

/**
 * The request is valid but cannot be done now, for a reason the message names (the backend is not configured for
 * it, the account is not linked, the call is too old). Becomes `failed-precondition`.
 */
export class PreconditionFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreconditionFailed";
  }
}

/** The caller's account was deleted, though their ID token is still valid. Becomes `unauthenticated`. */
export class AccountDeleted extends Error {
  constructor() {
    super("This account was deleted; sign in again with an account that exists.");
    this.name = "AccountDeleted";
  }
}

/** The caller may not act on what they named (another user's call or tenancy). Becomes `permission-denied`. */
export class NotAllowed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotAllowed";
  }
}

/** How a callable answers an error: the HttpsError's parts. */
export interface CallableAnswer {
  code: FunctionsErrorCode;
  message: string;
  details?: unknown;
}

/** An error of a lower layer that says itself how a callable answers it (ButterflyMX's errors do). */
export interface AnswerableError extends Error {
  callableAnswer(): CallableAnswer;
}

/** Parses callable input, or throws `invalid-argument` naming every bad field (also in `details.fields`). */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const parsed = schema.safeParse(data ?? {}, { error: missingIsRequired });
  if (parsed.success) return parsed.data;
  const fields = fieldProblems(parsed.error, "(data)");
  throw new HttpsError("invalid-argument", fields.map((f) => `${f.field} ${f.message}`).join("; "), { fields });
}

export function requireUid(auth: { uid: string } | undefined): string {
  if (!auth?.uid) throw new HttpsError("unauthenticated", "Sign in first: this function needs a Firebase Auth user.");
  return auth.uid;
}

/** Which callable failed, and for whom: what the log line of an unexpected failure names. */
export interface CallableContext {
  function: string;
  uid?: string;
}

/**
 * Domain errors to HttpsError, in one place. Anything unexpected is `internal` without its details, logged at error
 * level with an error id that the answer carries (`details.errorId`) for support to find.
 */
export function toHttpsError(error: unknown, context: CallableContext): HttpsError {
  if (error instanceof HttpsError) return error;
  if (error instanceof InvalidInput) {
    return new HttpsError("invalid-argument", error.message, { fields: [{ field: error.field, message: error.problem }] });
  }
  if (error instanceof Conflict) return new HttpsError("already-exists", error.message);
  if (error instanceof LimitReached) {
    const { retryAfterSeconds } = error.options;
    return new HttpsError("resource-exhausted", error.message, retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
  }
  if (error instanceof PreconditionFailed) return new HttpsError("failed-precondition", error.message);
  if (error instanceof NotAllowed) return new HttpsError("permission-denied", error.message);
  if (error instanceof AccountDeleted) return new HttpsError("unauthenticated", error.message);
  if (isAnswerable(error)) {
    const { code, message, details } = error.callableAnswer();
    return new HttpsError(code, message, details);
  }
  const errorId = randomUUID();
  logs.callableFailed({ ...context, errorId }, error);
  return new HttpsError("internal", `Something went wrong on our side; try again. If it persists, quote error id ${errorId}.`, { errorId });
}

/** An answer given before, given again (an idempotent request repeated with its key). */
export class AnsweredBefore extends Error implements AnswerableError {
  constructor(private readonly answer: CallableAnswer) {
    super(answer.message);
    this.name = "AnsweredBefore";
  }

  callableAnswer(): CallableAnswer {
    return this.answer;
  }
}

function isAnswerable(error: unknown): error is AnswerableError {
  return error instanceof Error && typeof (error as Partial<AnswerableError>).callableAnswer === "function";
}
