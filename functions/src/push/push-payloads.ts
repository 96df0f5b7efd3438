import type { TokenMessage } from "firebase-admin/messaging";
import { BMX_RINGING_STATUS } from "../butterflymx/call-statuses";

/** What a ring says about the call; every value is a string, as FCM data requires. */
export interface RingInfo {
  guid: string;
  panelName: string;
  unitLabel: string;
  visitorImageUrl?: string;
}

/** What a stop says: how the call ended, and the alert that replaces an iOS ring's alert, when one should. */
export interface StopInfo {
  guid: string;
  /** ButterflyMX's raw status (`callStatus` in the data). */
  callStatus: string;
  /** Our status (`reason` in the data). */
  reason: string;
  alert?: { title: string; body: string };
}

/** One request to APNs: the device token, its environment, headers and JSON payload. */
export interface ApnsRequest {
  token: string;
  environment: "production" | "sandbox";
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

export function ringData(info: RingInfo, sentAt: number): Record<string, string> {
  return {
    type: "call.ring",
    guid: info.guid,
    panelName: info.panelName,
    unitLabel: info.unitLabel,
    callStatus: BMX_RINGING_STATUS,
    ...(info.visitorImageUrl ? { visitorImageUrl: info.visitorImageUrl } : {}),
    sentAt: new Date(sentAt).toISOString(),
  };
}

export function stopData(info: StopInfo): Record<string, string> {
  return { type: "call.end", guid: info.guid, callStatus: info.callStatus, reason: info.reason };
}

/**
 * Android ring: data only (the app builds its full-screen call notification), high priority, collapsing on the
 * guid, and a ttl of what is left of the ring window so that a late device never rings for a gone visitor.
 */
export function fcmAndroidRing(token: string, info: RingInfo, sentAt: number, ttlMs: number): TokenMessage {
  return {
    token,
    data: ringData(info, sentAt),
    android: { priority: "high", ttl: Math.max(0, Math.floor(ttlMs)), collapseKey: info.guid },
  };
}

/** iOS app registered with FCM only (no PushKit): a visible, time-sensitive alert that expires with the ring. */
export function fcmIosRing(token: string, info: RingInfo, sentAt: number, ttlMs: number): TokenMessage {
  return {
    token,
    data: ringData(info, sentAt),
    apns: {
      headers: {
        "apns-push-type": "alert",
        "apns-priority": "10",
        "apns-collapse-id": info.guid,
        "apns-expiration": String(Math.floor((sentAt + Math.max(0, ttlMs)) / 1000)),
      },
      payload: {
        aps: {
          alert: { title: info.panelName, body: `Visitor calling unit ${info.unitLabel}` },
          sound: "default",
          category: "INCOMING_CALL",
          "interruption-level": "time-sensitive",
        },
      },
    },
  };
}

/** PushKit VoIP ring: delivered now or never (`apns-expiration: 0`); the payload mirrors the FCM data keys. */
export function apnsVoipRing(token: string, environment: ApnsRequest["environment"], bundleId: string, info: RingInfo, sentAt: number): ApnsRequest {
  return {
    token,
    environment,
    headers: {
      "apns-push-type": "voip",
      "apns-topic": `${bundleId}.voip`,
      "apns-priority": "10",
      "apns-expiration": "0",
      "apns-collapse-id": info.guid,
    },
    payload: ringData(info, sentAt),
  };
}

/** Android stop: a data message for the same guid; the app dismisses its call UI (and shows "missed" itself). */
export function fcmAndroidStop(token: string, info: StopInfo, ttlMs: number): TokenMessage {
  return {
    token,
    data: stopData(info),
    android: { priority: "high", ttl: Math.max(0, Math.floor(ttlMs)), collapseKey: info.guid },
  };
}

/**
 * iOS stop, never VoIP (iOS kills apps that get a VoIP push without a new call): a visible alert when the stop
 * has one to show, otherwise a background push; both replace the ring's alert through the collapse id.
 */
export function fcmIosStop(token: string, info: StopInfo): TokenMessage {
  const { alert } = info;
  return {
    token,
    data: stopData(info),
    apns: alert
      ? {
          headers: { "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": info.guid },
          payload: { aps: { alert, sound: "default" } },
        }
      : {
          headers: { "apns-push-type": "background", "apns-priority": "5", "apns-collapse-id": info.guid },
          payload: { aps: { contentAvailable: true } },
        },
  };
}
