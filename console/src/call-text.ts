// Words for what the call documents say, kept free of the DOM so that they are unit-tested.
import type { Call, CallStatus, DeviceRecord, PushRecord } from "./contract";

const STATUS_WORDS: Record<CallStatus, string> = {
  ringing: "Ringing",
  answered: "Answered",
  declined: "Declined",
  canceled: "Cancelled by the visitor",
  missed: "Missed",
  door_opened: "Door opened",
  rolled_over: "Rolled over to phone",
  ended: "Ended",
};

export function statusWords(status: string): string {
  return STATUS_WORDS[status as CallStatus] ?? status;
}

const NOT_RUNG: Record<string, string> = {
  do_not_disturb: "Not rung: Do Not Disturb was on.",
  phone_call: "Not rung: your contact preference is a phone call, so ButterflyMX calls your phone instead of the app.",
  no_devices: "Not rung: no device of yours was registered.",
  nothing_to_ring: "Not rung: none of your devices had a token to push to.",
  no_recipients: "Not rung: no app user is linked to this ButterflyMX user.",
  ended_before_create: "Not rung: the call was over before it reached this backend.",
  ring_window_passed: "Not rung: it reached this backend after its ring window.",
  reconciled: "Not rung: ButterflyMX never delivered this call; it was recorded later from ButterflyMX's call log.",
  no_push_accepted: "Rung, but neither FCM nor APNs accepted a push.",
  ring_interrupted: "The ring was interrupted; the stop reached every device.",
};

/** What happened to the ring for user `uid`, in one sentence. */
export function ringWords(call: Call, uid: string): string {
  const { delivery } = call;
  const mine = delivery.recipients?.[uid];
  if (mine && mine !== "rung" && mine !== "failed") return NOT_RUNG[mine] ?? `Not rung: ${mine}.`;
  switch (delivery.state) {
    case "pending":
    case "ringing":
      return "Ringing your devices…";
    case "rung": {
      const devices = delivery.recipientDevices?.[uid];
      const rung = devices ? `Rang ${devices.sent} of your ${devices.devices} device(s)` : "Rang your devices";
      return delivery.firstRingMs === undefined ? `${rung}.` : `${rung}; the first ring was accepted ${delivery.firstRingMs} ms after the call arrived.`;
    }
    case "failed":
      return NOT_RUNG[delivery.reason ?? "no_push_accepted"] ?? NOT_RUNG.no_push_accepted;
    default:
      return NOT_RUNG[delivery.reason ?? ""] ?? `Not rung (${delivery.state}${delivery.reason ? `: ${delivery.reason}` : ""}).`;
  }
}

/** Whether the call rang (or is ringing) on this user's devices: not when they were skipped (Do Not Disturb, …). */
export function rangFor(call: Call, uid: string): boolean {
  const mine = call.delivery.recipients?.[uid];
  return mine === undefined || mine === "rung" || mine === "failed";
}

/** The call's badge for this user: its status, except that a call that is not ringing for them does not say "Ringing". */
export function badgeFor(call: Call, uid: string): { status: string; words: string } {
  if (call.status === "ringing" && !rangFor(call, uid)) return { status: "not_rung", words: "Not ringing for you" };
  return { status: call.status, words: statusWords(call.status) };
}

const END_WORDS: Record<string, string> = {
  butterflymx: "as ButterflyMX reported",
  ring_timeout: "nobody answered in time",
  reconciled: "found afterwards in ButterflyMX's call log",
};

/** How the call came to its end, in words ("nobody answered in time"). */
export function endWords(endReason: string | undefined): string | undefined {
  return endReason === undefined ? undefined : (END_WORDS[endReason] ?? endReason);
}

/** What the stop did for this user, or undefined while there is none, or when nothing rang for them. */
export function stopWords(call: Call, uid: string): string | undefined {
  const stop = call.delivery.stop;
  if (!stop || !rangFor(call, uid) || (stop.state === "stopped" && !stop.devices)) return undefined;
  if (stop.state !== "stopped") return "Stopping the ringing on every device…";
  const unreachable = stop.unreachable ? ` (${stop.unreachable} could not be reached by a stop push)` : "";
  return `Ringing stopped on ${stop.sent ?? 0} of ${stop.devices ?? 0} device(s)${unreachable}.`;
}

/** One push to one device: "sent via fcm_android in 12 ms", "prune via apns_voip: BadDeviceToken". */
export function outcomeWords(push: PushRecord | undefined): string {
  if (!push) return "—";
  if (push.outcome === "no_channel") return "no push can reach it (a VoIP token only: register an FCM token too)";
  const detail = push.errorCode ? `: ${push.errorCode}` : push.latencyMs === undefined ? "" : ` in ${push.latencyMs} ms`;
  const flag = push.unacknowledged ? " (never acknowledged)" : "";
  return `${push.outcome} via ${push.channel}${detail}${flag}`;
}

/** The acknowledgements a device sent for the call, in their order. */
export function ackWords(record: DeviceRecord): string {
  const acks = Object.entries(record.ack ?? {}).sort(([, a], [, b]) => a.toMillis() - b.toMillis());
  return acks.length === 0 ? "—" : acks.map(([event]) => event).join(" → ");
}

/** "ringing for 12 s": how long a call created at `createdAtMs` has been ringing at `now`. */
export function ringingFor(createdAtMs: number, now: number): string {
  return `ringing for ${Math.max(0, Math.floor((now - createdAtMs) / 1000))} s`;
}
