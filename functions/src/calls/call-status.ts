import { BMX_RINGING_STATUS } from "../butterflymx/call-statuses";

/**
 * Call status: our vocabulary, derived from ButterflyMX's raw status (kept beside it as `bmxStatus`).
 * `ringing` is the only live state; the first terminal status a call reaches is final.
 */
export const CALL_STATUSES = [
  "ringing",
  "answered",
  "declined",
  "canceled",
  "missed",
  "door_opened",
  "rolled_over",
  "ended",
] as const;

export type CallStatus = (typeof CALL_STATUSES)[number];
export type TerminalStatus = Exclude<CallStatus, "ringing">;

const FROM_BMX: Readonly<Record<string, CallStatus>> = {
  [BMX_RINGING_STATUS]: "ringing",
  connecting_sip: "answered",
  // ButterflyMX's Android SDK knows two more ways of saying someone picked up.
  voip_connected: "answered",
  answered_on_another_device: "answered",
  rejected: "declined",
  canceled: "canceled",
  timeout_online_signal: "missed",
  opened_door: "door_opened",
  voip_rollover: "rolled_over",
};

/** Maps a raw ButterflyMX status; anything unknown ends ringing as `ended` rather than being rejected. */
export function statusFromBmx(bmxStatus: string): CallStatus {
  return Object.hasOwn(FROM_BMX, bmxStatus) ? FROM_BMX[bmxStatus] : "ended";
}

export function isTerminal(status: CallStatus): status is TerminalStatus {
  return status !== "ringing";
}

/**
 * The status a call moves to when `incoming` is reported while it is `current`: ringing accepts anything,
 * a terminal status never changes (no regression to ringing, no rewriting of how the call ended).
 */
export function nextStatus(current: CallStatus, incoming: CallStatus): CallStatus {
  return isTerminal(current) ? current : incoming;
}
