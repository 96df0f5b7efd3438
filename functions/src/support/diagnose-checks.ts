import { Timestamp } from "firebase-admin/firestore";
import type { CallDocument } from "../calls/call-document";
import type { DeviceRecord, PushRecord } from "../calls/device-records";
import { Facts } from "./diagnose-facts";

export const CHECK_IDS = [
  "account_linked",
  "webhook_registered",
  "webhook_received",
  "has_device",
  "push_tokens_valid",
  "apns_environment",
  "stop_channel",
  "do_not_disturb",
  "contact_preference",
  "recent_calls",
  "ring_timeouts",
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** One answer to "why didn't my phone ring?": what was found (`summary`, `evidence`) and, when it fails, what to do. */
export interface Check {
  id: CheckId;
  ok: boolean;
  summary: string;
  evidence: Record<string, unknown>;
  advice: string | null;
}

/** What happened to one recent call on each of the resident's devices. */
export interface CallReport {
  guid: string;
  at: string;
  status: string;
  endReason?: string;
  panel: string;
  /** Whether the call reached this backend from ButterflyMX's webhook, or only from reconciliation. */
  received: "webhook" | "reconciled";
  /** The delivery state, and what it came to for this resident (`rung`, `no_devices`, `do_not_disturb`…). */
  delivery: { state: string; reason?: string; resident?: string };
  devices: DeviceSteps[];
  /** What went wrong for this resident, when something did. */
  problem?: string;
}

export interface DeviceSteps {
  deviceId: string;
  platform: string;
  channel: string;
  /** When the ring went to the provider; `accepted` when the provider took it (else its error). */
  ringAt: string;
  accepted: boolean;
  errorCode?: string;
  received?: string;
  displayed?: string;
  answered?: string;
  declined?: string;
  unacknowledged?: boolean;
  /** The stop: `sent`, its error, or absent when no stop was needed or recorded. */
  stopped?: string;
}

/** Calls older than this are history, not evidence of a problem now. */
export const RECENT_MS = 7 * 86_400_000;
/**
 * How long after a call everything about it has happened: a call in ButterflyMX's log older than this that never
 * reached us was not delivered, and a call of ours still ringing was left by its ring timeout (the ring window, the
 * ring timeout's grace and some margin).
 */
const SETTLED_AFTER_MS = 2 * 60_000;

export function runChecks(facts: Facts): { checks: Check[]; calls: CallReport[] } {
  const calls = facts.calls.map(({ call, records }) => callReport(facts.uid, call, records));
  const rings = lastRings(facts);
  return {
    checks: [
      accountLinked(facts),
      webhookRegistered(facts),
      webhookReceived(facts),
      hasDevice(facts),
      pushTokensValid(rings),
      apnsEnvironment(facts, rings),
      stopChannel(facts),
      doNotDisturb(facts),
      contactPreference(facts),
      recentCalls(facts, calls),
      ringTimeouts(facts),
    ],
    calls,
  };
}

function check(id: CheckId, ok: boolean, summary: string, evidence: Record<string, unknown>, advice: string): Check {
  return { id, ok, summary, evidence, advice: ok ? null : advice };
}

const iso = (t: Timestamp | number | undefined) => (t === undefined ? undefined : new Date(typeof t === "number" ? t : t.toMillis()).toISOString());

function accountLinked(facts: Facts): Check {
  const { link, grant, bmx } = facts;
  if (!link) {
    return check("account_linked", false, "No ButterflyMX account is linked to this user.", { linked: false },
      "Sign in with ButterflyMX in the app (account linking): until then no call can reach this app.");
  }
  const tenants = bmx.profile.ok ? bmx.profile.value.tenants : link.tenants;
  const evidence = {
    bmxUserId: link.userId,
    linkedAt: iso(link.linkedAt),
    grant: grant?.live ? "live" : grant?.invalidSince ? `refused since ${iso(grant.invalidSince)}` : "missing",
    units: tenants.map((t) => ({ tenantId: t.id, unit: t.unitLabel ?? null, building: t.buildingName ?? null })),
    checkedAtButterflyMx: bmx.profile.ok ? true : bmx.profile.reason,
  };
  if (!grant?.live) {
    return check("account_linked", false, `ButterflyMX ended this app's sign-in (${evidence.grant}).`, evidence,
      "Sign in with ButterflyMX again in the app: ButterflyMX refused the saved sign-in (password change, or signed out elsewhere).");
  }
  if (tenants.length === 0) {
    return check("account_linked", false, "ButterflyMX lists no unit for this account.", evidence,
      "Ask the property manager to add the resident as a tenant in the ButterflyMX OS (Tenants › Add Tenant) with the right unit; having the app is not enough.");
  }
  const units = evidence.units.map((u) => [u.unit, u.building].filter(Boolean).join(", ")).join("; ");
  return check("account_linked", true, `ButterflyMX user ${link.userId} · ${units} · linked ${evidence.linkedAt}.`, evidence, "");
}

function webhookRegistered(facts: Facts): Check {
  const { link, registrations, bmx } = facts;
  if (!link) return check("webhook_registered", false, "Nothing to register: no ButterflyMX account is linked.", { tenants: [] }, "Link the ButterflyMX account first.");
  const tenants = link.tenants.map((tenant) => {
    const atBmx = bmx.integrations.get(tenant.id);
    return {
      tenantId: tenant.id,
      unit: tenant.unitLabel ?? null,
      registered: (registrations.get(tenant.id)?.length ?? 0) > 0,
      atButterflyMx: atBmx === undefined ? "not_asked" : atBmx.ok ? (atBmx.value ? "present" : "missing") : `unknown (${atBmx.reason})`,
    };
  });
  const broken = tenants.filter((t) => !t.registered || t.atButterflyMx === "missing");
  const unknown = tenants.filter((t) => t.registered && t.atButterflyMx !== "present" && t.atButterflyMx !== "missing");
  const summary = broken.length > 0
    ? `No webhook reaches this backend for ${broken.map((t) => t.unit ?? t.tenantId).join(", ")}${broken.some((t) => t.registered) ? " (ButterflyMX no longer has it)" : ""}.`
    : `Registered for ${tenants.length} unit(s)${unknown.length > 0 ? `; not confirmed at ButterflyMX for ${unknown.length}` : ", confirmed at ButterflyMX"}.`;
  return check("webhook_registered", broken.length === 0, summary, { tenants },
    "Link the ButterflyMX account again in the app: linking registers this backend's webhook at ButterflyMX for each unit (it was never registered, or removed at ButterflyMX).");
}

function webhookReceived(facts: Facts): Check {
  const viaWebhook = facts.calls.find(({ call }) => receivedBy(call) === "webhook")?.call;
  const since = facts.link?.linkedAt?.toMillis() ?? Infinity;
  const missing = facts.bmx.log.ok
    ? facts.bmx.log.value.filter((c) => c.at >= since && c.at <= facts.now - SETTLED_AFTER_MS && (!c.recorded || receivedBy(c.recorded) === "reconciled"))
    : [];
  const evidence = {
    lastReceivedAt: iso(viaWebhook?.createdAt) ?? null,
    lastGuid: viaWebhook?.guid ?? null,
    butterflyMxLog: facts.bmx.log.ok ? "read" : facts.bmx.log.reason,
    neverReceived: missing.map((c) => ({ guid: c.guid ?? null, at: iso(c.at), status: c.status ?? null })),
  };
  const last = viaWebhook ? `The last call arrived ${evidence.lastReceivedAt}` : "No call has arrived from ButterflyMX yet";
  if (missing.length > 0) {
    return check("webhook_received", false, `ButterflyMX logged ${missing.length} call(s) since linking that its webhook never delivered (latest ${iso(missing[0].at)}). ${last}.`, evidence,
      "ButterflyMX placed these calls but did not deliver them here: check that the webhook function is deployed and reachable, link the account again to re-register the webhook, and give ButterflyMX support the call times if it goes on.");
  }
  return check("webhook_received", true, `${last}${facts.bmx.log.ok ? "; ButterflyMX's log shows no call missing" : ""}.`, evidence, "");
}

function hasDevice(facts: Facts): Check {
  const devices = facts.devices.map((d) => ({ deviceId: d.deviceId, platform: d.platform, updatedAt: iso(d.updatedAt) ?? null }));
  if (devices.length === 0) {
    return check("has_device", false, "No phone is registered for calls.", { devices },
      "Open the app on the phone, signed in, and allow notifications: the app registers the phone. Signing out removes it.");
  }
  return check("has_device", true, `${devices.length} device(s): ${devices.map((d) => `${d.deviceId} (${d.platform})`).join(", ")}.`, { devices }, "");
}

/** Per device id, its newest ring record among the recent calls. */
type LastRings = Map<string, { guid: string; ring: PushRecord; deviceGone: boolean }>;

function lastRings(facts: Facts): LastRings {
  const registered = new Set(facts.devices.map((d) => d.deviceId));
  const last: LastRings = new Map();
  for (const { call, records } of facts.calls) {
    for (const record of records) {
      const seen = last.get(record.deviceId);
      if (!seen || seen.ring.at.toMillis() < record.ring.at.toMillis()) {
        last.set(record.deviceId, { guid: call.guid, ring: record.ring, deviceGone: !registered.has(record.deviceId) });
      }
    }
  }
  return last;
}

const TOKEN_DEAD = new Set(["prune", "unregistered"]);

function pushTokensValid(last: LastRings): Check {
  const rings = [...last].map(([deviceId, { guid, ring, deviceGone }]) => ({
    deviceId,
    guid,
    at: iso(ring.at),
    channel: ring.channel,
    outcome: ring.outcome,
    errorCode: ring.errorCode ?? null,
    tokenPruned: ring.tokenPruned ?? false,
    stillRegistered: !deviceGone,
  }));
  const dead = rings.filter((r) => TOKEN_DEAD.has(r.outcome) || r.tokenPruned);
  const refused = rings.filter((r) => r.outcome === "credentials");
  const evidence = { devices: rings };
  if (refused.length > 0) {
    return check("push_tokens_valid", false, `The push provider refused this backend's credentials (${refused.map((r) => r.errorCode).join(", ")}).`, evidence,
      "The operator must fix the push credentials (the FCM service account, or APNS_KEY / APNS_KEY_ID / APNS_TEAM_ID); the resident cannot.");
  }
  if (dead.length > 0) {
    const list = dead.map((r) => `${r.deviceId}: ${r.errorCode ?? r.outcome} on ${r.at}${r.stillRegistered ? "" : ", device removed"}`).join("; ");
    return check("push_tokens_valid", false, `A provider said a device's push token is dead (${list}).`, evidence,
      "Open the app on that phone, signed in: it registers a fresh token. After a reinstall or a phone reset, sign in again; if it goes on, sign out and back in.");
  }
  return check("push_tokens_valid", true, rings.length > 0 ? "Every device's last ring was taken by its provider, or failed for a passing reason." : "No ring has been sent yet.", evidence, "");
}

/** APNs's answer to a token from the other environment (sandbox vs production). */
const WRONG_ENVIRONMENT = new Set(["BadDeviceToken"]);

function apnsEnvironment(facts: Facts, last: LastRings): Check {
  const ios = facts.devices.filter((d) => d.platform === "ios").map((d) => ({ deviceId: d.deviceId, apnsEnvironment: d.apnsEnvironment ?? "production", voip: Boolean(d.voipToken) }));
  const wrong = [...last]
    .filter(([, { ring }]) => ring.channel === "apns_voip" && WRONG_ENVIRONMENT.has(ring.errorCode ?? ""))
    .map(([deviceId, { ring }]) => ({ deviceId, at: iso(ring.at), errorCode: ring.errorCode }));
  const evidence = { devices: ios, refused: wrong };
  if (wrong.length > 0) {
    return check("apns_environment", false, `APNs refused the VoIP token of ${wrong.map((w) => w.deviceId).join(", ")} as not of the environment the app named (BadDeviceToken).`, evidence,
      "The app registered its VoIP token with the wrong apnsEnvironment: builds run from Xcode use sandbox; TestFlight and App Store builds use production. Fix the app's registerDevice call, then open it again.");
  }
  return check("apns_environment", true, ios.length > 0 ? `iOS: ${ios.map((d) => `${d.deviceId} (${d.apnsEnvironment})`).join(", ")}; APNs accepted their tokens.` : "No iOS device.", evidence, "");
}

/**
 * iOS devices registered with a VoIP token alone: PushKit rings them, but no push can stop them (VoIP pushes are for new
 * calls only, and the stop goes through FCM).
 */
function stopChannel(facts: Facts): Check {
  const voipOnly = facts.devices.filter((d) => d.platform === "ios" && d.voipToken && !d.fcmToken).map((d) => d.deviceId);
  if (voipOnly.length > 0) {
    return check("stop_channel", false, `${voipOnly.join(", ")} registered a VoIP token only: no push can stop its ringing when the call is answered elsewhere, cancelled or missed.`, { voipOnly },
      "Update the app so that it registers an FCM token beside its VoIP token (both in one registerDevice call): the stop goes through FCM. Until then the app must end the call itself from the call document it listens to.");
  }
  return check("stop_channel", true, "Every device can be told when a call ends.", { voipOnly }, "");
}

function doNotDisturb(facts: Facts): Check {
  const on = facts.preferences.doNotDisturb === true;
  return check("do_not_disturb", !on, on ? "Do Not Disturb is on: no device of this account is rung." : "Do Not Disturb is off.", { doNotDisturb: on },
    "Turn Do Not Disturb off in the app (Account › Calls): while it is on, the intercom rings no device of the account and visitors see \"No Answer\".");
}

function contactPreference(facts: Facts): Check {
  const ours = facts.preferences.contactPreference ?? "mobile_app";
  const theirs = facts.bmx.profile.ok ? (facts.bmx.profile.value.contactPreference ?? null) : null;
  const phone = ours === "phone_call" || theirs === "phone_call";
  const where = ours === "phone_call" ? "here" : "at ButterflyMX";
  return check("contact_preference", !phone,
    phone ? `Contact preference is Phone Call (${where}): ButterflyMX calls the phone number instead, and no push is sent. This is by design.` : "Contact preference is the mobile app.",
    { here: ours, atButterflyMx: theirs ?? (facts.bmx.profile.ok ? null : facts.bmx.profile.reason) },
    "To receive calls in the app, switch the contact preference to the mobile app (Account › Calls).");
}

function recentCalls(facts: Facts, calls: CallReport[]): Check {
  const recent = calls.filter((c) => Date.parse(c.at) >= facts.now - RECENT_MS);
  const troubled = recent.filter((c) => c.problem);
  const evidence = { calls: recent.length, troubled: troubled.map((c) => ({ guid: c.guid, at: c.at, problem: c.problem })) };
  if (troubled.length > 0) {
    return check("recent_calls", false, `${troubled.length} of the last ${recent.length} call(s) did not ring as they should: ${troubled[0].problem} (${troubled[0].at}).`, evidence,
      "See each call below: which device was sent the ring, which provider took it, which device received and showed it. A ring taken by the provider but never received points at the phone (notifications allowed, Low Power Mode off, no Focus mode blocking the app, background refresh on).");
  }
  return check("recent_calls", true, recent.length > 0 ? `The last ${recent.length} call(s) rang as they should.` : "No call in the last 7 days.", evidence, "");
}

/**
 * Whether the ring timeouts run: a call ButterflyMX never ended must be ended by its timeout (a Cloud Task) soon
 * after its window. A recent call still ringing long after means the timeout was never scheduled (the runtime's
 * service account may not enqueue) or never reached the function (it may not invoke it).
 */
function ringTimeouts(facts: Facts): Check {
  const recent = facts.calls.map(({ call }) => call).filter((call) => call.createdAt.toMillis() >= facts.now - RECENT_MS);
  const stuck = recent.filter((call) => call.status === "ringing" && call.createdAt.toMillis() <= facts.now - SETTLED_AFTER_MS);
  const evidence = {
    stillRinging: stuck.map((call) => ({ guid: call.guid, at: iso(call.createdAt) })),
    endedByTimeout: recent.filter((call) => call.endReason === "ring_timeout").length,
  };
  if (stuck.length > 0) {
    return check("ring_timeouts", false, `${stuck.length} call(s) still ring long after their window: their ring timeout never ran (${evidence.stillRinging[0].at}).`, evidence,
      "Check that the functions' service account may enqueue Cloud Tasks and invoke ringTimeout (docs/deploy.md, step 4: the three IAM grants), and search the logs for \"ring timeout not scheduled\". Until then such calls end only when ButterflyMX reports their end, or at the next reconciliation.");
  }
  return check("ring_timeouts", true, evidence.endedByTimeout > 0 ? `${evidence.endedByTimeout} call(s) were ended by their ring timeout; none was left ringing.` : "No call was left ringing past its window.", evidence, "");
}

function receivedBy(call: CallDocument): "webhook" | "reconciled" {
  return call.history[0]?.event === "reconciled" ? "reconciled" : "webhook";
}

/** Recipient outcomes that are by design, reported by their own checks. */
const BY_DESIGN = new Set(["do_not_disturb", "phone_call"]);

function callReport(uid: string, call: CallDocument, records: DeviceRecord[]): CallReport {
  const resident = call.delivery.recipients?.[uid];
  const devices = records.map(deviceSteps);
  const received = receivedBy(call);
  return {
    guid: call.guid,
    at: iso(call.createdAt)!,
    status: call.status,
    ...(call.endReason ? { endReason: call.endReason } : {}),
    panel: call.panel.name,
    received,
    delivery: { state: call.delivery.state, ...(call.delivery.reason ? { reason: call.delivery.reason } : {}), ...(resident ? { resident } : {}) },
    devices,
    ...withProblem(problemOf(call, received, resident, devices)),
  };
}

function withProblem(problem: string | undefined): { problem?: string } {
  return problem ? { problem } : {};
}

function problemOf(call: CallDocument, received: string, resident: string | undefined, devices: DeviceSteps[]): string | undefined {
  if (received === "reconciled") return "ButterflyMX's webhook never delivered this call";
  if (resident && BY_DESIGN.has(resident)) return undefined;
  if (resident === "no_devices") return "no device was registered to ring";
  if (call.delivery.state === "not_rung") return `not rung (${call.delivery.reason ?? "unknown"})`;
  if (call.delivery.state === "undeliverable") return `nobody to ring (${call.delivery.reason ?? "unknown"})`;
  if (resident === "failed" || (devices.length > 0 && devices.every((d) => !d.accepted))) return "no provider took the ring";
  const unheard = devices.filter((d) => d.unacknowledged);
  if (unheard.length > 0) return `the provider took the ring but ${unheard.map((d) => d.deviceId).join(", ")} never received it`;
  return undefined;
}

function deviceSteps(record: DeviceRecord): DeviceSteps {
  const { ring, stop, ack } = record;
  return {
    deviceId: record.deviceId,
    platform: record.platform,
    channel: ring.channel,
    ringAt: iso(ring.at)!,
    accepted: ring.outcome === "sent",
    ...(ring.outcome !== "sent" ? { errorCode: ring.errorCode ?? ring.outcome } : {}),
    ...(ack?.received ? { received: iso(ack.received) } : {}),
    ...(ack?.displayed ? { displayed: iso(ack.displayed) } : {}),
    ...(ack?.answered ? { answered: iso(ack.answered) } : {}),
    ...(ack?.declined ? { declined: iso(ack.declined) } : {}),
    ...(ring.unacknowledged ? { unacknowledged: true } : {}),
    ...(stop ? { stopped: stop.outcome === "sent" ? "sent" : (stop.errorCode ?? stop.outcome) } : {}),
  };
}
