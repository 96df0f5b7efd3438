import * as logger from "firebase-functions/logger";

/**
 * Every log line the backend writes, in one place. Lines about a call carry its guid; none carries a
 * secret, token or email address (callers pass only the fields named here).
 */
export const logs = {
  webhookRecorded(fields: { guid: string; event: string; bmxStatus: string; status: string; duplicate: boolean; recipients: number; via: string }) {
    logger.info("call event recorded", fields);
  },
  /** `uid` and `reason` name whose URL spoke for someone else (403), never the secret. */
  webhookRejected(fields: { httpStatus: number; code: string; guid?: string; fields?: string[]; uid?: string; reason?: string }) {
    logger.warn("webhook request rejected", fields);
  },
  webhookStoreFailed(fields: { guid?: string; stage: "authenticate" | "record" }, error: unknown) {
    logger.error("call event not stored: Firestore failed", { ...fields, error: errorSummary(error) });
  },
  callUndeliverable(fields: { guid: string; reason: string }) {
    logger.warn("call has no recipient to ring", fields);
  },
  ringSkipped(fields: { guid: string; reason: string }) {
    logger.info("ring skipped", fields);
  },
  /**
   * A failed ring or stop could not give its claim back (or end its lease early): its retry, or another instance,
   * waits for the lease to expire (LEASE_MS) before it takes over.
   */
  claimNotReleased(fields: { guid: string; kind: "ring" | "stop" }, error: unknown) {
    logger.error("claim not released after a failure: a retry waits for its lease to expire", { ...fields, error: errorSummary(error) });
  },
  /** A ring died too late to ring again; `stopsSent` when its devices were stopped here (a stop had already run). */
  ringInterrupted(fields: { guid: string; stopsSent: boolean }) {
    logger.warn("ring interrupted: the stop reaches every device of the recipients", fields);
  },
  /** Another instance holds the claim past our wait: the trigger fails so that its retry tries again. */
  leaseHeld(fields: { guid: string; trigger: string; kind: string; until: string }) {
    logger.info("claim held by another instance; the trigger retries", fields);
  },
  ringTimeoutSkipped(fields: { guid: string; reason: string }) {
    logger.info("ring timeout: nothing to end", fields);
  },
  /** A call still ringing at the end of its window ended here: its final ButterflyMX status never arrived. */
  ringTimedOut(fields: { guid: string; status: string; bmxStatus: string | null }) {
    logger.warn("ring timeout ended a call still ringing", fields);
  },
  /** Devices that acknowledge their pushes never said they received this call's ring, though the provider accepted it. */
  ringsUnacknowledged(fields: { guid: string; devices: number }) {
    logger.warn("rings accepted but never acknowledged by their devices", fields);
  },
  unacknowledgedNotFlagged(fields: { guid: string }, error: unknown) {
    logger.warn("unacknowledged rings could not be flagged", { ...fields, error: errorSummary(error) });
  },
  ringTimeoutAskFailed(fields: { guid: string }, error: unknown) {
    logger.warn("ring timeout could not ask ButterflyMX for the call's status", { ...fields, error: errorSummary(error) });
  },
  ringTimeoutNotScheduled(fields: { guid: string }, error: unknown) {
    logger.error("ring timeout not scheduled: a lost final status would leave this call ringing", { ...fields, error: errorSummary(error) });
  },
  /** Reconciliation repaired a call: `recorded` (never reached us), `ended` (left ringing) or `status` (final status late). */
  callReconciled(fields: { guid: string; repair: "recorded" | "ended" | "status"; status: string; bmxStatus: string | null }) {
    logger.warn("call reconciled with ButterflyMX's call log", fields);
  },
  reconcileResidentSkipped(fields: { uid: string; reason: string }) {
    logger.info("reconciliation skipped a resident", fields);
  },
  reconcileResidentFailed(fields: { uid: string; reason: string }, error: unknown) {
    logger.warn("reconciliation failed for a resident; the run goes on", { ...fields, error: errorSummary(error) });
  },
  reconcileFinished(fields: { residents: number; failed: number; recorded: number; ended: number; statuses: number; wrapped: boolean; outOfTime: boolean }) {
    logger.info("reconciliation run finished", fields);
  },
  ringFinished(fields: { guid: string; state: string; reason?: string; devices: number; sent: number; failed: number; pruned: number; firstRingMs?: number }) {
    logger.info("ring finished", fields);
  },
  /**
   * The webhook's request left pushes unanswered by its deadline (a slow or stalled provider): its lease lapsed, and
   * a trigger takes over the devices it could not record. Warning: expected rarely, worth noticing when frequent.
   */
  leftToTrigger(fields: { guid: string; kind: "ring" | "stop"; devices: number; recorded: number }) {
    logger.warn("push left to the trigger", fields);
  },
  /** The webhook's ring or stop failed after the call was stored: the event is answered 200, a trigger takes over. */
  requestPushFailed(fields: { guid: string; kind: "ring" | "stop" }, error: unknown) {
    logger.warn("push in the request failed; left to the trigger", { ...fields, error: errorSummary(error) });
  },
  stopSkipped(fields: { guid: string; reason: string }) {
    logger.info("stop skipped", fields);
  },
  stopFinished(fields: { guid: string; devices: number; sent: number; notSent: number; afterRing: boolean; inRequest: boolean }) {
    logger.info("stop finished", fields);
  },
  /** Credentials, quota and payload failures need a human: error level, so that alerting picks them up. */
  pushNeedsAttention(fields: { guid: string; kind: "ring" | "stop"; channel: string; outcome: string; errorCode?: string; devices: number }) {
    logger.error("push failed for a reason retries cannot fix", fields);
  },
  tokenPruned(fields: { guid: string; uid: string; deviceId: string; kind: string; result: string; errorCode?: string }) {
    logger.info("dead push token pruned", fields);
  },
  /**
   * A callable failed for a reason we did not foresee: error level, with the id its caller was given (`internal`,
   * `details.errorId`), so that support can find the line.
   */
  callableFailed(fields: { function: string; uid?: string; errorId: string }, error: unknown) {
    logger.error("callable failed unexpectedly", { ...fields, error: errorSummary(error) });
  },
  triggerFailed(fields: { guid: string; trigger: string }, error: unknown) {
    logger.error("trigger failed", { ...fields, error: errorSummary(error) });
  },
  accountLinked(fields: { uid: string; bmxUserId: string; region: string; tenants: number; created: number; staleRemoved: number; movedFrom: number }) {
    logger.info("ButterflyMX account linked", fields);
  },
  linkFailed(fields: { uid: string; created: number }, error: unknown) {
    logger.warn("ButterflyMX account link failed; rolled back", { ...fields, error: errorSummary(error) });
  },
  preferencesUpdated(fields: { uid: string; fields: string[]; butterflymx: string }) {
    logger.info("preferences updated", fields);
  },
  doorReleased(fields: { uid: string; guid?: string; method: string; path: string; result: string; error?: string }) {
    logger.info("door release answered", fields);
  },
  doorMarkFailed(fields: { guid: string }, error: unknown) {
    logger.warn("door release not shown on the call", { ...fields, error: errorSummary(error) });
  },
  /** Linking could not read the buildings' access points: they stay unknown until a door release reads them. */
  doorsUnknown(fields: { uid: string }, error: unknown) {
    logger.warn("the doors of the tenancies could not be read at link time", { ...fields, error: errorSummary(error) });
  },
  /** ButterflyMX's log could not be read: the history lists our own entries and says it is partial. */
  historyPartial(fields: { uid: string; list: "calls" | "access" }, error: unknown) {
    logger.warn("history partial: ButterflyMX's log could not be read", { ...fields, error: errorSummary(error) });
  },
  accountUnlinked(fields: { uid: string; wasLinked: boolean; integrationsDeleted: number; integrationsLeft: number; devicesRemoved: number }) {
    logger.info("ButterflyMX account unlinked", fields);
  },
  userDataDeleted(fields: { uid: string; integrationsDeleted: number; integrationsLeft: number; devicesRemoved: number; callsDeleted: number; callsLeft: number }) {
    logger.info("deleted user's data removed", fields);
  },
  /** An integration we meant to delete is still registered at ButterflyMX; its URL answers 404 from now on. */
  integrationLeft(fields: { uid: string; tenantId: string; integrationId: string }, error: unknown) {
    logger.warn("ButterflyMX integration could not be deleted", { ...fields, error: errorSummary(error) });
  },
  revokeFailed(fields: { uid: string }, error: unknown) {
    logger.warn("ButterflyMX token could not be revoked", { ...fields, error: errorSummary(error) });
  },
  grantInvalid(fields: { uid: string }) {
    logger.warn("ButterflyMX refused the refresh token; the resident must link again", fields);
  },
  /**
   * A delivery incident opened. `alert` is the stable field the README's log-based alert matches (at error level,
   * firebase-functions puts a stack trace in the message, which also lets Error Reporting group it).
   */
  healthIncidentOpened(fields: { provider: string; kind: string; total: number; failed: number; byReason: Record<string, number>; windowMinutes: number }) {
    logger.error("delivery health incident opened", { alert: "delivery_health_incident_opened", ...fields });
  },
  healthIncidentClosed(fields: { provider: string; kind: string }) {
    logger.info("delivery health incident closed", fields);
  },
  grantWriteFailed(fields: { uid: string; stage: "save" | "release" }, error: unknown) {
    logger.error("ButterflyMX grant could not be saved", { ...fields, error: errorSummary(error) });
  },
};

/** Error name, code and message only: stack traces and request objects can carry tokens. */
export function errorSummary(error: unknown): { name?: string; code?: unknown; message: string } {
  if (error instanceof Error) {
    return { name: error.name, code: (error as { code?: unknown }).code, message: error.message };
  }
  return { message: String(error) };
}
