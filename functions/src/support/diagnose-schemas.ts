import { z } from "zod";

export const MAX_CALLS = 25;

/** `diagnose` input: how many of the latest calls to report (10 by default). */
export const diagnoseInputSchema = z
  .object({ calls: z.int("must be a whole number").min(1, "must be at least 1").max(MAX_CALLS, `must be at most ${MAX_CALLS}`).optional() }, "must be an object")
  .strict();
export type DiagnoseInput = z.infer<typeof diagnoseInputSchema>;
