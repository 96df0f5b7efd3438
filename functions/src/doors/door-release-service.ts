import { DocumentReference, DocumentSnapshot, Timestamp } from "firebase-admin/firestore";
import { BmxError } from "../butterflymx/butterflymx-errors";
import { CallDocument } from "../calls/call-document";
import { callRef, markDoorRelease } from "../calls/call-repository";
import { LinkedTenant, userRef } from "../devices/user-profile";
import { GrantSession } from "../links/grant-store";
import { logs } from "../logs";
import { AnsweredBefore, NotAllowed, PreconditionFailed } from "../shared/errors";
import { ifUnchanged, updateIfUnchanged } from "../shared/firebase";
import { AccessLogDocument, accessLogId, accessLogRef, ReleaseResult } from "./access-logs";
import { DoorDeps } from "./door-deps";
import { ReleaseDoorInput } from "./door-schemas";

export interface DoorReleaseAnswer {
  requestId: string;
  accessLogId: string;
  result: ReleaseResult;
  /** ButterflyMX's words when it refused or failed; why the result is `unknown`. */
  message?: string;
}

/**
 * How long a request may stay `pending`: one ButterflyMX request (10 s, once more after a refused token) and the
 * writes around it. A request still pending after that was asked by an instance that died: its result is `unknown`.
 */
export const PENDING_MS = 30_000;

/** What the request opens, once checked against the caller's call or tenancies. */
type Target =
  | { method: "in_call"; call: CallDocument }
  | { method: "access_point"; tenantId: string; accessPointId: string };

/**
 * Opens a door for the signed-in resident, at most once per `requestId`: the door the visitor of a call they
 * received called from (ButterflyMX's in-call v3 path, with the webhook's own panel and unit ids; during a live
 * call the panel is told too, so that it stops dialling), or an access point of one of their tenancies (v4).
 * ButterflyMX is asked once and never again: a release is not idempotent there, and an answer that never came is
 * recorded as `unknown`, not failed. Every request that reaches ButterflyMX leaves an access log entry; a call's
 * door release shows on the call for every recipient.
 */
export async function releaseDoor(deps: DoorDeps, uid: string, input: ReleaseDoorInput): Promise<DoorReleaseAnswer> {
  const { db } = deps;
  const id = accessLogId(uid, input.requestId);
  const ref = accessLogRef(db, id);
  const earlier = await ref.get();
  if (earlier.exists) return answerOf(deps, ref, earlier);

  const target = await checkTarget(deps, uid, input);
  const session = await GrantSession.open(db, deps.bmx, uid, { now: deps.now });
  if (!session) throw new PreconditionFailed("Link your ButterflyMX account first: doors open through it.");

  const requestedAt = Timestamp.fromMillis(deps.now());
  const log: AccessLogDocument = {
    uid,
    requestId: input.requestId,
    method: target.method,
    ...(target.method === "in_call"
      ? { callGuid: target.call.guid, panel: target.call.panel, unitId: target.call.unit.id }
      : { tenantId: target.tenantId, accessPointId: target.accessPointId }),
    requestedAt,
    result: "pending",
    pendingUntil: Timestamp.fromMillis(requestedAt.toMillis() + PENDING_MS),
  };
  // Concurrent requests with one key: one creates the entry and asks ButterflyMX, the others wait for its answer.
  if (!(await ifUnchanged(ref.create(log)))) return answerOf(deps, ref, await ref.get());
  const guid = target.method === "in_call" ? target.call.guid : undefined;
  const mark = (result: DoorReleaseAnswer["result"] | "pending") =>
    guid ? markDoorRelease(db, guid, { requestedAt, result, by: uid }).catch((error: unknown) => logs.doorMarkFailed({ guid }, error)) : undefined;

  const [outcome] = await Promise.all([ask(deps, session, target), mark("pending")]);
  if ("error" in outcome) {
    await Promise.all([ref.update({ result: "failed", error: outcome.error.callableAnswer(), finishedAt: Timestamp.fromMillis(deps.now()) }), mark("failed")]);
    logs.doorReleased({ uid, guid, method: target.method, result: "failed", error: outcome.error.kind });
    throw outcome.error;
  }
  const panelSignaled = outcome.result === "released" && target.method === "in_call" && isLive(target.call) ? await signalPanel(deps, session, target.call) : undefined;
  await Promise.all([
    ref.update({
      result: outcome.result,
      finishedAt: Timestamp.fromMillis(deps.now()),
      ...(outcome.bmxId ? { bmxId: outcome.bmxId } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
      ...(panelSignaled !== undefined ? { panelSignaled } : {}),
    }),
    mark(outcome.result),
  ]);
  logs.doorReleased({ uid, guid, method: target.method, result: outcome.result });
  return { requestId: input.requestId, accessLogId: id, result: outcome.result, ...(outcome.message ? { message: outcome.message } : {}) };
}

/** Who may open what: a recipient, within the window after the call; a tenant's own access points. */
async function checkTarget(deps: DoorDeps, uid: string, input: ReleaseDoorInput): Promise<Target> {
  const { db } = deps;
  const [profile, call] = await Promise.all([userRef(db, uid).get(), "callGuid" in input ? callRef(db, input.callGuid).get() : undefined]);
  const tenants = (profile.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? [];
  if (profile.get("butterflymx") === undefined) throw new PreconditionFailed("Link your ButterflyMX account first: doors open through it.");
  const disabled = (tenant: LinkedTenant | undefined) => {
    if (tenant?.doorReleaseEnabled === false) {
      throw new PreconditionFailed(`${tenant.buildingName ?? "This building"} does not let residents open its doors from the app (ButterflyMX's open_door_button_enabled is off).`);
    }
  };
  if (!("callGuid" in input)) {
    const tenant = tenants.find((t) => t.id === input.tenantId);
    if (!tenant) throw new NotAllowed(`Tenant ${input.tenantId} is not one of your ButterflyMX tenancies.`);
    disabled(tenant);
    return { method: "access_point", tenantId: input.tenantId, accessPointId: input.accessPointId };
  }
  const document = call?.data() as CallDocument | undefined;
  // A call the caller did not receive is refused the same way whether it exists or not.
  if (!document?.recipients.includes(uid)) throw new NotAllowed("This call did not ring for you, so you cannot open its door.");
  if (document.endReason === "reconciled") {
    throw new PreconditionFailed("This call was found in ButterflyMX's log after it was over and never rang: its door cannot be opened from it.");
  }
  // The door is the one of the caller's own unit: a call naming another unit (a resident can POST to their own
  // webhook URL) or none (several tenancies) opens nothing.
  const tenant = tenants.find((t) => t.unitId !== undefined && t.unitId !== "" && t.unitId === document.unit.id);
  if (!tenant) throw new NotAllowed("This call's unit is not one of your ButterflyMX tenancies, so its door cannot be opened from it.");
  const openUntil = doorOpenUntil(document, deps.releaseWindowMs);
  if (deps.now() > openUntil) {
    const minutes = Math.round(deps.releaseWindowMs / 60_000);
    throw new PreconditionFailed(`This call ended more than ${minutes} minute(s) ago (or began more than ${MAX_CALL_MS / 60_000} minutes ago): its door can no longer be opened from it.`);
  }
  disabled(tenant);
  return { method: "in_call", call: document };
}

/** However long a conversation goes on, its door opens from the call for at most this long after the visitor called. */
export const MAX_CALL_MS = 30 * 60_000;

/**
 * Until when the call's door may open: the window after the call's real end, and never past MAX_CALL_MS after the
 * visitor called. A ringing call has not ended. An answered call is a conversation until ButterflyMX reports anything
 * after the answer (its end); answering alone sets `endedAt` (the end of the ringing), not the end of the talk.
 */
function doorOpenUntil(call: CallDocument, windowMs: number): number {
  const cap = call.createdAt.toMillis() + MAX_CALL_MS;
  if (call.status === "ringing") return cap;
  const endedAt = call.endedAt?.toMillis() ?? call.updatedAt.toMillis();
  if (call.status !== "answered") return Math.min(endedAt + windowMs, cap);
  const after = call.history.find((entry) => entry.at.toMillis() > endedAt);
  return after ? Math.min(after.at.toMillis() + windowMs, cap) : cap;
}

type Outcome = { result: ReleaseResult; bmxId?: string; message?: string } | { error: BmxError };

/** Asks ButterflyMX once. Its refusal and its failures are results; a sign-in it no longer accepts is an error. */
async function ask(deps: DoorDeps, session: GrantSession, target: Target): Promise<Outcome> {
  try {
    const released =
      target.method === "in_call"
        ? await deps.bmx.openDoorInCall(session, { panelId: target.call.panel.id, unitId: target.call.unit.id })
        : await deps.bmx.releaseDoor(session, { tenantId: target.tenantId, accessPointId: target.accessPointId });
    return { result: "released", ...(released.id ? { bmxId: released.id } : {}) };
  } catch (error) {
    if (!(error instanceof BmxError)) return { result: "unknown", message: "The request failed on our side after it may have reached ButterflyMX." };
    switch (error.kind) {
      case "invalid_grant":
      case "unauthorized":
        return { error };
      case "rejected":
      case "not_found":
        return { result: "refused", message: error.problems.join("; ") || error.message };
      case "unavailable":
        return { result: "failed", message: error.message };
      default:
        // No answer, or one we cannot read: the door may have opened.
        return { result: "unknown", message: error.message };
    }
  }
}

/** A call whose panel may still be connected: ringing, or answered and talking. */
function isLive(call: CallDocument): boolean {
  return call.status === "ringing" || call.status === "answered";
}

/** Tells the calling panel the door opened (best effort: the door is open either way). */
async function signalPanel(deps: DoorDeps, session: GrantSession, call: CallDocument): Promise<boolean> {
  try {
    await deps.bmx.notifyPanel(session, "open_door", { panelId: call.panel.id, guid: call.guid });
    return true;
  } catch (error) {
    logs.panelSignalFailed({ guid: call.guid }, error);
    return false;
  }
}

/**
 * The answer of a request made before with the same key: its result, or the error it was answered with. While
 * another instance is still asking ButterflyMX, waits for it; one that died leaves the result `unknown`.
 */
async function answerOf(deps: DoorDeps, ref: DocumentReference, snapshot: DocumentSnapshot): Promise<DoorReleaseAnswer> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let current = snapshot;
  for (;;) {
    const log = current.data() as AccessLogDocument;
    if (log.error) throw new AnsweredBefore(log.error as ConstructorParameters<typeof AnsweredBefore>[0]);
    if (log.result !== "pending") {
      return { requestId: log.requestId, accessLogId: ref.id, result: log.result, ...(log.message ? { message: log.message } : {}) };
    }
    if ((log.pendingUntil?.toMillis() ?? 0) <= deps.now()) {
      const message = "The instance asking ButterflyMX stopped before its answer came: the door may or may not have opened.";
      const lapsed = await updateIfUnchanged(ref, { result: "unknown", message, finishedAt: Timestamp.fromMillis(deps.now()) }, current.updateTime!);
      if (lapsed) return { requestId: log.requestId, accessLogId: ref.id, result: "unknown", message };
    } else {
      await sleep(250);
    }
    current = await ref.get();
  }
}
