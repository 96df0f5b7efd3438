// The client contract as a web app sees it: the documents it may read (docs/contract.md "Data model"), and the callables
// with their inputs and answers (docs/contract.md "Device registration", "ButterflyMX accounts", "Resident features",
// "diagnose"). Every other file of the console goes through these names.
import type { Timestamp } from "firebase/firestore";
import { type Functions, httpsCallable } from "firebase/functions";

/** The region every function runs in (`functions/src/config.ts` `REGION`). */
export const REGION = "us-central1";

export type CallStatus = "ringing" | "answered" | "declined" | "canceled" | "missed" | "door_opened" | "rolled_over" | "ended";

export interface HistoryEntry {
  event: string;
  bmxStatus: string;
  status: CallStatus;
  applied: boolean;
  via: string;
  at: Timestamp;
}

/** `calls/{guid}`, readable by its recipients. */
export interface Call {
  guid: string;
  status: CallStatus;
  bmxStatus: string;
  recipients: string[];
  panel?: { id?: string; name?: string };
  unit?: { id?: string; label?: string };
  visitorImageUrl?: string;
  createdAt: Timestamp;
  updatedAt?: Timestamp;
  endedAt?: Timestamp;
  endReason?: string;
  history: HistoryEntry[];
  delivery: {
    state: string;
    reason?: string;
    recipients?: Record<string, string>;
    recipientDevices?: Record<string, { devices: number; sent: number }>;
    firstRingMs?: number;
    stop?: { state: string; devices?: number; sent?: number; failed?: number; unreachable?: number };
  };
  doorRelease?: { requestedAt: Timestamp; result: string; by: string };
}

/** One push to one device, under `ring` or `stop` of its device record; `outcome` is the push's outcome. */
export interface PushRecord {
  channel: string;
  outcome: string;
  errorCode?: string;
  latencyMs?: number;
  unacknowledged?: boolean;
  at?: Timestamp;
}

/** A device record: `calls/{guid}/deliveries/{deviceId}`, readable by the device's owner. */
export interface DeviceRecord {
  uid: string;
  deviceId: string;
  platform: string;
  ring?: PushRecord;
  stop?: PushRecord;
  ack?: Partial<Record<AckEvent, Timestamp>>;
}

/** `users/{uid}`. */
export interface Profile {
  butterflymx?: {
    userId: string;
    region?: string;
    environment?: string;
    tenants: { id: string; unitLabel?: string; buildingName?: string; doorReleaseEnabled?: boolean }[];
    linkedAt?: Timestamp;
  };
  preferences?: { doNotDisturb?: boolean; contactPreference?: ContactPreference };
}

/** `users/{uid}/devices/{deviceId}`. */
export interface Device {
  deviceId: string;
  platform: "android" | "ios";
  fcmToken?: string;
  voipToken?: string;
  apnsEnvironment?: string;
  appVersion?: string;
  updatedAt?: Timestamp;
}

export type ContactPreference = "mobile_app" | "phone_call";
export type AckEvent = "received" | "displayed" | "answered" | "declined";
export const ACK_EVENTS: readonly AckEvent[] = ["received", "displayed", "answered", "declined"];

export interface Page<T> {
  nextCursor?: string;
  partial?: boolean;
  calls?: T[];
  entries?: T[];
}

export interface CallHistoryEntry {
  guid?: string;
  at: string;
  panel?: { name?: string };
  unit?: { label?: string };
  status: string;
  rang?: { devices: number; sent: number };
  source: string;
}

export interface AccessHistoryEntry {
  id: string;
  at: string;
  accessPoint?: string;
  /** The door in words: the access point's name, or the calling panel's. */
  door: string;
  result: string;
  method?: string;
  callGuid?: string;
  source: string;
}

export interface DiagnoseCheck {
  id: string;
  ok: boolean;
  summary: string;
  evidence: Record<string, unknown>;
  advice: string | null;
}

export interface DiagnoseAnswer {
  uid: string;
  checkedAt: string;
  checks: DiagnoseCheck[];
}

type HistoryQuery = { limit?: number; cursor?: string };

/** The callables, typed as docs/contract.md documents them. */
export function callables(functions: Functions) {
  const callable = <I, O>(name: string) => httpsCallable<I, O>(functions, name);
  return {
    releaseDoor: callable<{ requestId: string; callGuid: string }, { requestId: string; accessLogId: string; result: string; message?: string }>("releaseDoor"),
    acknowledgeDelivery: callable<{ guid: string; deviceId: string; event: AckEvent }, { recorded: boolean; at: string }>("acknowledgeDelivery"),
    updatePreferences: callable<{ doNotDisturb?: boolean; contactPreference?: ContactPreference }, { preferences: Profile["preferences"]; butterflymx: string }>("updatePreferences"),
    registerDevice: callable<{ deviceId: string; platform: "android" | "ios"; fcmToken?: string; voipToken?: string; apnsEnvironment?: "sandbox" | "production"; appVersion?: string }, { deviceId: string; moved: number }>("registerDevice"),
    unregisterDevice: callable<{ deviceId: string }, { deviceId: string; removed: boolean }>("unregisterDevice"),
    getCallHistory: callable<HistoryQuery, Page<CallHistoryEntry>>("getCallHistory"),
    getAccessHistory: callable<HistoryQuery, Page<AccessHistoryEntry>>("getAccessHistory"),
    diagnose: callable<{ calls?: number }, DiagnoseAnswer>("diagnose"),
  };
}
export type Callables = ReturnType<typeof callables>;
