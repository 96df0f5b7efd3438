import { z } from "zod";

/** One bad field of an input, named by its dot path. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Per-parse zod error map: a missing field reads "is required"; other issues keep their own message. */
export const missingIsRequired = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : undefined);

/** Every zod issue as a FieldProblem; issues about the whole input are named `root`. */
export function fieldProblems(error: z.ZodError, root: string): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : root,
    message: issue.code === "unrecognized_keys" ? `has unknown field(s): ${issue.keys.join(", ")}` : issue.message,
  }));
}
