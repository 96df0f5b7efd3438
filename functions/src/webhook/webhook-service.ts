import { Firestore, Timestamp } from "firebase-admin/firestore";
import { CallEvent, parseCallEvent } from "../butterflymx/call-events";
import { PushDeps } from "../calls/push-deps";
import { EventSource, recordCallEvent, RecordedEvent, RefusalReason } from "../calls/record-call-event";
import { ringCall } from "../calls/ring-service";
import { stopCall, StopTarget, stopTargets } from "../calls/stop-service";
import { AudienceMember, loadAudience } from "../devices/audience";
import { logs } from "../logs";
import { withDeadline } from "../shared/deadline";
import { FieldProblem } from "../shared/field-problems";
import { describeSource, lookupSecret, WebhookSource } from "./secret-check";

/** Events are a few hundred bytes; the cap bounds what an authenticated sender can make us store. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * ButterflyMX wants an answer within about 5 s. Firestore work that takes longer is answered 503 instead of
 * hanging for the client's own retry budget (~60 s); finishing late is harmless because events dedupe.
 */
export const FIRESTORE_BUDGET_MS = 4500;

const FUNCTION_NAME = "butterflymxWebhook";

export interface WebhookRequest {
  method: string;
  /** The path after the function's URL, e.g. `/<secret>`. */
  path: string;
  contentType: string | undefined;
  rawBody: Buffer | undefined;
}

export interface WebhookResponse {
  status: number;
  body: WebhookAnswer;
  headers?: Record<string, string>;
}

export type WebhookAnswer =
  | { ok: true; guid: string; status: string; duplicate: boolean }
  | { ok: false; error: { code: string; message: string; fields?: FieldProblem[] } };

export interface WebhookDeps {
  db: Firestore;
  /** Empty (or shorter than 32 characters) when building-wide integrations are not in use. */
  operatorSecret: string;
  retentionDays: number;
  /** Clock for the timestamps written to the call. */
  now: () => number;
  /**
   * Building-wide mode: app users for a ButterflyMX user's email when no one linked their ButterflyMX account
   * (only verified emails may receive someone's intercom calls). Absent: operator events route by id only.
   */
  uidsForEmail?: (email: string) => Promise<string[]>;
  /**
   * The ring and stop edges: the webhook rings a call it creates, and stops a call it ends, before it answers (one
   * attempt per device; a trigger finishes what it leaves). Absent: the triggers do all of it.
   */
  pushes?: PushDeps;
  /** Overrides FIRESTORE_BUDGET_MS (tests). */
  firestoreBudgetMs?: number;
}

/**
 * One ButterflyMX POST (a call event), from raw request to answer. Every 4xx is decided before anything is written;
 * 5xx only when Firestore fails, so that ButterflyMX may retry. An unknown URL is answered 404 whatever the
 * body; a valid body is authenticated by the same request that first reads the call. A call the event creates rings,
 * and a call it ends stops, before the answer (see `pushes`); their failure never changes the answer, since the event
 * is stored and a trigger takes over.
 */
export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  if (request.method !== "POST") {
    return reject(405, "method_not_allowed", `Use POST; ${request.method} is not accepted.`, { headers: { Allow: "POST" } });
  }

  const budget = deps.firestoreBudgetMs ?? FIRESTORE_BUDGET_MS;
  const started = performance.now();
  const remaining = () => budget - (performance.now() - started);

  const secret = secretFromPath(request.path);
  if (secret === undefined) return notFound();
  const lookup = lookupSecret(deps.db, secret, deps.operatorSecret);
  const body = checkBody(request);
  if (!body.ok) {
    let source;
    try {
      source = lookup.source(lookup.ref && (await withDeadline(lookup.ref.get(), remaining(), "authentication")));
    } catch (error) {
      logs.webhookStoreFailed({ stage: "authenticate" }, error);
      return unavailable();
    }
    return source ? body.reject() : notFound();
  }

  const { event } = body;
  const email = event.call.user.email?.trim().toLowerCase();
  const { uidsForEmail } = deps;
  const eventSource = (source: WebhookSource | undefined): EventSource | undefined =>
    source && {
      via: describeSource(source),
      resident: source.kind === "registration" ? { uid: source.uid, bmxUserId: source.bmxUserId } : undefined,
      fallbackRecipients: source.kind === "operator" && email && uidsForEmail ? () => uidsForEmail(email) : undefined,
    };
  const { db, pushes } = deps;
  // One instant for the event and the claims its commit writes (the call's createdAt is its ring's claim time).
  const now = deps.now();
  try {
    const record = recordCallEvent<AudienceMember[], StopTarget[]>(db, {
      event,
      sourceDocument: lookup.ref,
      source: (registration) => eventSource(lookup.source(registration)),
      now: Timestamp.fromMillis(now),
      retentionDays: deps.retentionDays,
      claims: pushes && {
        now,
        prepareRing: (call) => loadAudience(pushes.db, call.recipients),
        prepareStop: (call, allDevices) => stopTargets(pushes.db, call, allDevices),
      },
    });
    // The push clients load while the event's first Firestore round trip is in flight (once per instance).
    if (pushes?.preload) setImmediate(pushes.preload);
    const recorded = await withDeadline(record, remaining(), "recording the call event");
    if ("refused" in recorded) {
      if (recorded.refused === "unknown_source") return notFound();
      return reject(403, "forbidden", FORBIDDEN[recorded.refused], { guid: recorded.guid, uid: recorded.source?.resident?.uid, reason: recorded.refused });
    }
    logs.webhookRecorded({
      guid: recorded.guid,
      event: event.kind,
      bmxStatus: event.bmxStatus,
      status: recorded.status,
      duplicate: recorded.duplicate,
      recipients: recorded.recipients.length,
      via: recorded.via,
    });
    if (recorded.change.kind === "create" && recorded.recipients.length === 0) {
      logs.callUndeliverable({ guid: recorded.guid, reason: "no_recipients" });
    }
    if (pushes) await pushInRequest(recorded, pushes, remaining());
    return { status: 200, body: { ok: true, guid: recorded.guid, status: recorded.status, duplicate: recorded.duplicate } };
  } catch (error) {
    logs.webhookStoreFailed({ guid: event.call.guid, stage: "record" }, error);
    return unavailable();
  }
}

/**
 * The ring or the stop this event's commit claimed, carried out before the answer, within what is left of the budget.
 * A failure or an overrun is logged and left to the triggers: the ring's or stop's lease has lapsed (or expires
 * REQUEST_LEASE_MS after the claim), and they take over what has no record.
 */
async function pushInRequest(recorded: RecordedEvent<AudienceMember[], StopTarget[]>, pushes: PushDeps, budgetMs: number): Promise<void> {
  const { guid } = recorded;
  const kind = recorded.ring ? "ring" : "stop";
  const work: Promise<unknown> | undefined = recorded.ring ? ringCall(guid, pushes, { claimed: recorded.ring }) : recorded.stop ? stopCall(guid, pushes, { claimed: recorded.stop }) : undefined;
  if (!work) return;
  try {
    await withDeadline(work, budgetMs, `the ${kind} in the request`);
  } catch (error) {
    logs.requestPushFailed({ guid, kind }, error);
  }
}

/** The body as a call event, or the 4xx that names what is wrong (answered only to an authenticated sender). */
function checkBody(request: WebhookRequest): { ok: true; event: CallEvent } | { ok: false; reject: () => WebhookResponse } {
  const refuse = (...args: Parameters<typeof reject>) => ({ ok: false as const, reject: () => reject(...args) });
  const body = request.rawBody ?? Buffer.alloc(0);
  if (body.length > MAX_BODY_BYTES) {
    return refuse(413, "payload_too_large", `The body is ${body.length} bytes; the limit is ${MAX_BODY_BYTES}.`);
  }
  if (!isJsonContentType(request.contentType)) {
    return refuse(415, "unsupported_media_type", `Send application/json; got ${request.contentType ? `"${request.contentType}"` : "no Content-Type"}.`);
  }
  if (body.length === 0) return refuse(400, "invalid_json", "The body is empty; send the ButterflyMX call as JSON.");

  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return refuse(400, "invalid_json", `The body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseCallEvent(json);
  if (!parsed.ok) {
    const summary = parsed.problems.map((p) => `${p.field} ${p.message}`).join("; ");
    return refuse(400, "invalid_delivery", `Not a ButterflyMX call delivery: ${summary}.`, { fields: parsed.problems, guid: guidOf(json) });
  }
  return { ok: true, event: parsed.event };
}

/** `/<secret>`; `/butterflymxWebhook/<secret>` too, for hosts that do not strip the function name. */
function secretFromPath(path: string): string | undefined {
  const segments = path.split("/").filter((s) => s.length > 0);
  if (segments.length === 1) return segments[0];
  if (segments.length === 2 && segments[0] === FUNCTION_NAME) return segments[1];
  return undefined;
}

function isJsonContentType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(";")[0].trim().toLowerCase() ?? "";
  return mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/** The guid of a rejected event, for the log line, when it has the shape of one (never free text). */
function guidOf(json: unknown): string | undefined {
  const record = json as { guid?: unknown; call?: { guid?: unknown } } | null;
  const guid = record?.guid ?? record?.call?.guid;
  return typeof guid === "string" && /^[0-9a-fA-F-]{36}$/.test(guid) ? guid : undefined;
}

/** A resident's URL speaks for that resident only (docs/contract.md, "Webhook endpoint"). */
const FORBIDDEN: Record<Exclude<RefusalReason, "unknown_source">, string> = {
  other_user: "This webhook URL was registered for another ButterflyMX user; the event was not recorded.",
  other_users_call: "This call belongs to another ButterflyMX user; the event was not recorded.",
};

function reject(
  status: number,
  code: string,
  message: string,
  extra: { headers?: Record<string, string>; fields?: FieldProblem[]; guid?: string; uid?: string; reason?: string } = {},
): WebhookResponse {
  const { headers, fields, guid, uid, reason } = extra;
  logs.webhookRejected({ httpStatus: status, code, guid, fields: fields?.map((f) => f.field), uid, reason });
  return { status, headers, body: { ok: false, error: { code, message, ...(fields ? { fields } : {}) } } };
}

function notFound(): WebhookResponse {
  return reject(404, "not_found", "No webhook is registered at this URL.");
}

function unavailable(): WebhookResponse {
  return {
    status: 503,
    headers: { "Retry-After": "1" },
    body: { ok: false, error: { code: "unavailable", message: "The call could not be stored; retry." } },
  };
}
