import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
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
  return new HttpsError("internal", "Something went wrong on our side; try again.");
}
