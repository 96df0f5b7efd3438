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
import { refreshDoors } from "./tenancy-doors";
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
  | { method: "in_call"; path: "/v3/notifications/open_door" | "/v3/me/open_door"; call: CallDocument; tenant: LinkedTenant }
  | { method: "access_point"; path: "/v4/door_release_requests"; tenant: LinkedTenant; accessPointId: string };

/**
 * Opens a door for the signed-in resident, at most once per `requestId`: the door the visitor of a call they
 * received called from, or an access point of one of their tenancies. The door must be one ButterflyMX lists for
 * the caller's tenancy (the ids in a call come from a webhook, which a resident can forge): the lists kept at link
 * time, read again when the door is not on them. ButterflyMX is asked once and never again: a release is not
 * idempotent there, and an answer that never came is recorded as `unknown`, not failed. Every request that reaches
 * ButterflyMX leaves an access log entry that says which path answered; a call's door release shows on the call
 * for every recipient.
 */
export async function releaseDoor(deps: DoorDeps, uid: string, input: ReleaseDoorInput): Promise<DoorReleaseAnswer> {
  const { db } = deps;
  const id = accessLogId(uid, input.requestId);
  const ref = accessLogRef(db, id);
  const earlier = await ref.get();
  if (earlier.exists) return answerOf(deps, ref, earlier);

  const claimed = await checkTarget(deps, uid, input);
  const session = await GrantSession.open(db, deps.bmx, uid, { now: deps.now });
  if (!session) throw new PreconditionFailed("Link your ButterflyMX account first: doors open through it.");
  const target = await confirmDoor(deps, uid, session, claimed);

  const requestedAt = Timestamp.fromMillis(deps.now());
  const log: AccessLogDocument = {
    uid,
    requestId: input.requestId,
    method: target.method,
    path: target.path,
    ...(target.method === "in_call"
      ? { callGuid: target.call.guid, panel: target.call.panel, unitId: target.call.unit.id }
      : { tenantId: target.tenant.id, accessPointId: target.accessPointId }),
    requestedAt,
    result: "pending",
    pendingUntil: Timestamp.fromMillis(requestedAt.toMillis() + PENDING_MS),
    expireAt: Timestamp.fromMillis(requestedAt.toMillis() + deps.retentionDays * 86_400_000),
  };
  // Concurrent requests with one key: one creates the entry and asks ButterflyMX, the others wait for its answer.
  if (!(await ifUnchanged(ref.create(log)))) return answerOf(deps, ref, await ref.get());
  const guid = target.method === "in_call" ? target.call.guid : undefined;
  const mark = (result: DoorReleaseAnswer["result"] | "pending") =>
    guid ? markDoorRelease(db, guid, { requestedAt, result, by: uid }).catch((error: unknown) => logs.doorMarkFailed({ guid }, error)) : undefined;

  const [outcome] = await Promise.all([ask(deps, session, target), mark("pending")]);
  if ("error" in outcome) {
    await Promise.all([ref.update({ result: "failed", error: outcome.error.callableAnswer(), finishedAt: Timestamp.fromMillis(deps.now()) }), mark("failed")]);
    logs.doorReleased({ uid, guid, method: target.method, path: target.path, result: "failed", error: outcome.error.kind });
    throw outcome.error;
  }
  await Promise.all([
    ref.update({
      result: outcome.result,
      finishedAt: Timestamp.fromMillis(deps.now()),
      ...(outcome.bmxId ? { bmxId: outcome.bmxId } : {}),
      ...(outcome.message ? { message: outcome.message } : {}),
    }),
    mark(outcome.result),
  ]);
  logs.doorReleased({ uid, guid, method: target.method, path: target.path, result: outcome.result });
  return { requestId: input.requestId, accessLogId: id, result: outcome.result, ...(outcome.message ? { message: outcome.message } : {}) };
}

/** The target as the caller's own records allow it, before ButterflyMX is asked anything. */
type Claimed = { method: "in_call"; call: CallDocument; tenant: LinkedTenant } | { method: "access_point"; tenant: LinkedTenant; accessPointId: string };

/** Who may open what: a recipient of a call to their own unit, within the window; a tenant, at their own building. */
async function checkTarget(deps: DoorDeps, uid: string, input: ReleaseDoorInput): Promise<Claimed> {
  const { db } = deps;
  const [profile, call] = await Promise.all([userRef(db, uid).get(), "callGuid" in input ? callRef(db, input.callGuid).get() : undefined]);
  const tenants = (profile.get("butterflymx.tenants") as LinkedTenant[] | undefined) ?? [];
  if (profile.get("butterflymx") === undefined) throw new PreconditionFailed("Link your ButterflyMX account first: doors open through it.");
  if (!("callGuid" in input)) {
    const tenant = tenants.find((t) => t.id === input.tenantId);
    if (!tenant) throw new NotAllowed(`Tenant ${input.tenantId} is not one of your ButterflyMX tenancies.`);
    refuseDisabled(tenant);
    return { method: "access_point", tenant, accessPointId: input.accessPointId };
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
  refuseDisabled(tenant);
  return { method: "in_call", call: document, tenant };
}

function refuseDisabled(tenant: LinkedTenant): void {
  if (tenant.doorReleaseEnabled === false) {
    throw new PreconditionFailed(`${tenant.buildingName ?? "This building"} does not let residents open its doors from the app (ButterflyMX's open_door_button_enabled is off).`);
  }
}

/**
 * The door must be one ButterflyMX lists for the tenancy: the call's panel among the tenancy's panels, the access
 * point among its building's. A door not on the stored lists (or lists never read) is looked up once more at
 * ButterflyMX, and refused when it is still not there.
 */
async function confirmDoor(deps: DoorDeps, uid: string, session: GrantSession, claimed: Claimed): Promise<Target> {
  const listed = (tenant: LinkedTenant) =>
    claimed.method === "in_call" ? tenant.panelIds?.includes(claimed.call.panel.id) === true : tenant.accessPoints?.some((point) => point.id === claimed.accessPointId) === true;
  let tenant = claimed.tenant;
  if (!listed(tenant)) {
    tenant = (await refreshDoors(deps, uid, session)).find((t) => t.id === claimed.tenant.id) ?? { id: claimed.tenant.id };
    if (!listed(tenant)) {
      throw new NotAllowed(
        claimed.method === "in_call"
          ? `ButterflyMX does not list panel ${claimed.call.panel.id} for your unit, so this call's door cannot be opened from it.`
          : `ButterflyMX does not list access point ${claimed.accessPointId} in the building of tenant ${claimed.tenant.id}.`,
      );
    }
    refuseDisabled(tenant);
  }
  if (claimed.method === "access_point") return { ...claimed, tenant, path: "/v4/door_release_requests" };
  return { ...claimed, tenant, path: realEnd(claimed.call) === undefined ? "/v3/notifications/open_door" : "/v3/me/open_door" };
}

/** However long a conversation goes on, its door opens from the call for at most this long after the visitor called. */
export const MAX_CALL_MS = 30 * 60_000;

/**
 * When the call really ended; undefined while it rings or its conversation goes on. An answered call is a
 * conversation until ButterflyMX reports anything after the answer (its end): answering sets `endedAt`, the end of
 * the ringing, not of the talk.
 */
function realEnd(call: CallDocument): number | undefined {
  if (call.status === "ringing") return undefined;
  const endedAt = call.endedAt?.toMillis() ?? call.updatedAt.toMillis();
  if (call.status !== "answered") return endedAt;
  return call.history.find((entry) => entry.at.toMillis() > endedAt)?.at.toMillis();
}

/** Until when the call's door may open: the window after the call's real end, and never past MAX_CALL_MS after the visitor called. */
function doorOpenUntil(call: CallDocument, windowMs: number): number {
  const cap = call.createdAt.toMillis() + MAX_CALL_MS;
  const end = realEnd(call);
  return end === undefined ? cap : Math.min(end + windowMs, cap);
}

type Outcome = { result: ReleaseResult; bmxId?: string; message?: string } | { error: BmxError };

/** Asks ButterflyMX once, on the target's path. Its refusal and its failures are results; a sign-in it no longer accepts is an error. */
async function ask(deps: DoorDeps, session: GrantSession, target: Target): Promise<Outcome> {
  try {
    let released: { id?: string };
    if (target.method === "access_point") released = await deps.bmx.releaseDoor(session, { tenantId: target.tenant.id, accessPointId: target.accessPointId });
    else if (target.path === "/v3/me/open_door") released = await deps.bmx.openPanelDoor(session, { panelId: target.call.panel.id, unitId: target.call.unit.id });
    else released = await deps.bmx.openDoorInCall(session, { panelId: target.call.panel.id, guid: target.call.guid }).then(() => ({}));
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
