import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { BmxError } from "../butterflymx/butterflymx-errors";
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

/** Domain errors to HttpsError, in one place; anything unexpected is `internal` without its details. */
export function toHttpsError(error: unknown): HttpsError {
  if (error instanceof HttpsError) return error;
  if (error instanceof InvalidInput) {
    return new HttpsError("invalid-argument", error.message, { fields: [{ field: error.field, message: error.problem }] });
  }
  if (error instanceof Conflict) return new HttpsError("already-exists", error.message);
  if (error instanceof BmxError) return bmxHttpsError(error);
  return new HttpsError("internal", "Something went wrong on our side; try again.");
}

function bmxHttpsError(error: BmxError): HttpsError {
  const details = { butterflymx: { kind: error.kind, operation: error.operation, ...(error.httpStatus ? { httpStatus: error.httpStatus } : {}) } };
  switch (error.kind) {
    case "invalid_grant":
    case "unauthorized":
      return new HttpsError("failed-precondition", "ButterflyMX no longer accepts this account's sign-in: link the ButterflyMX account again.", details);
    case "unavailable":
    case "timeout":
    case "bad_response":
      return new HttpsError("unavailable", `ButterflyMX is not answering properly (${error.operation}); try again shortly.`, details);
    default:
      return new HttpsError("failed-precondition", error.message, { ...details, problems: error.problems });
  }
}
