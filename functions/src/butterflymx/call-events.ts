import { z } from "zod";
import { FieldProblem, fieldProblems, missingIsRequired } from "../shared/field-problems";
import { BMX_RINGING_STATUS } from "./call-statuses";

/** An error message for a field that is either missing ("is required") or present and wrong. */
const requiredOr = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is required" : message;

/**
 * ButterflyMX ids are integers in every documented payload; numeric-looking strings are accepted too. They
 * become Firestore document ids (`bmxUsers/{id}`), hence the strict character set.
 */
const ID_RULE = "must be a positive integer or an id of letters, digits, _ or -";
const bmxId = z.union(
  [
    z.int(ID_RULE).positive(ID_RULE),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, ID_RULE)
      // Firestore reserves ids of the form __name__; one would fail as a document id after passing validation.
      .refine((id) => !/^__.*__$/.test(id), "must not be of the form __name__ (reserved by Firestore)"),
  ],
  { error: requiredOr(ID_RULE) },
);

const text = (max: number) => z.string().trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);
const optionalText = z.string().max(320).nullish();

/** The call object of both webhook events (create, status_update). Loose: live events carry fields beyond the partner guide, kept as-is. */
export const bmxCallSchema = z.looseObject({
  guid: z.guid({ error: requiredOr("must be a UUID") }),
  user: z.looseObject({
    id: bmxId,
    email: optionalText,
    first_name: optionalText,
    last_name: optionalText,
    sip_username: optionalText,
  }),
  panel: z.looseObject({
    id: bmxId,
    name: text(200),
    sip_username: optionalText,
  }),
  unit: z.looseObject({
    id: bmxId,
    // Unit labels are strings in the documented payloads; a bare number ("label": 303) means the same unit.
    label: z.union([text(64), z.number().transform(String)], { error: requiredOr("must be a string") }),
  }),
  provider: optionalText,
});

/** ButterflyMX's raw status. Unknown values are stored and end ringing, so only the shape is checked. */
export const bmxStatusSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be a status name of at most 64 letters, digits, _ . : or -");

export const statusUpdateSchema = z.looseObject({ call: bmxCallSchema, status: bmxStatusSchema });

export type BmxCall = z.infer<typeof bmxCallSchema>;

/** The two ButterflyMX webhook actions on a call. */
export type CallEventKind = "create" | "status_update";

/** One incoming ButterflyMX POST about a call: a create or a status update. */
export interface CallEvent {
  kind: CallEventKind;
  /** ButterflyMX's raw status; `initializing` for the create event. */
  bmxStatus: string;
  call: BmxCall;
}

export type ParseResult = { ok: true; event: CallEvent } | { ok: false; problems: FieldProblem[] };

/**
 * Tells the two documented shapes apart: `status_update` is `{call, status}`, `create` is the flat call
 * object. A body with a `call` member is a status update even when other members are wrong, so that its
 * errors name the fields the sender meant.
 */
export function parseCallEvent(body: unknown): ParseResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, problems: [{ field: "(body)", message: "must be a JSON object" }] };
  }
  const deep = pathDeeperThan(body, MAX_DEPTH);
  if (deep) return { ok: false, problems: [{ field: deep, message: `nests deeper than ${MAX_DEPTH} levels` }] };
  if ("call" in body) {
    const parsed = statusUpdateSchema.safeParse(body, { error: missingIsRequired });
    if (!parsed.success) return { ok: false, problems: fieldProblems(parsed.error, "(body)") };
    return { ok: true, event: { kind: "status_update", bmxStatus: parsed.data.status, call: parsed.data.call } };
  }
  const parsed = bmxCallSchema.safeParse(body, { error: missingIsRequired });
  if (!parsed.success) return { ok: false, problems: fieldProblems(parsed.error, "(body)") };
  return { ok: true, event: { kind: "create", bmxStatus: BMX_RINGING_STATUS, call: parsed.data } };
}

/**
 * How deep an event may nest. ButterflyMX's are three levels deep; unknown fields are kept as they come, and a
 * value nested thousands deep would overflow the stack when the event is stored.
 */
export const MAX_DEPTH = 16;

/** The path of the first value nested deeper than `max` levels (its first `max` segments), if any. Iterative. */
function pathDeeperThan(root: object, max: number): string | undefined {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (path.length >= max) return `${path.join(".")}…`;
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}
