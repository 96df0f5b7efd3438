import { Device, TokenKind } from "../devices/device-registry";
import { PushSend } from "../push/fan-out";
import { apnsVoipRing, fcmAndroidRing, fcmAndroidStop, fcmIosRing, fcmIosStop, RingInfo, StopInfo } from "../push/push-payloads";
import { CallDocument } from "./call-document";
import { isTerminal, TerminalStatus } from "./call-status";
import { Channel } from "./device-records";

/** What a ring says about the call. */
export function ringInfo(call: CallDocument): RingInfo {
  return {
    guid: call.guid,
    panelName: call.panel.name,
    unitLabel: call.unit.label,
    ...(call.visitorImageUrl ? { visitorImageUrl: call.visitorImageUrl } : {}),
  };
}

/** The alert that replaces an iOS ring's alert, by how the call ended. */
const STOP_TITLES: Record<TerminalStatus, string> = {
  answered: "Call answered",
  declined: "Call declined",
  canceled: "Call ended",
  missed: "Missed call",
  door_opened: "Door opened",
  rolled_over: "Call forwarded to phone",
  ended: "Call ended",
};

/**
 * What a stop says: how the call ended, and the alert an iOS app shows in place of the ring's: for a missed call
 * always, and whatever the ending when the ring itself was an alert (`alertRing`: an app rung over FCM, whose
 * "Visitor calling" must not stay on screen).
 */
export function stopInfo(call: CallDocument, alertRing = false): StopInfo {
  const showAlert = isTerminal(call.status) && (call.status === "missed" || alertRing);
  return {
    guid: call.guid,
    callStatus: call.bmxStatus,
    reason: call.status,
    ...(showAlert ? { alert: { title: STOP_TITLES[call.status as TerminalStatus], body: `${call.panel.name} · unit ${call.unit.label}` } } : {}),
  };
}

/** How one device is reached for one push, or `none` when it has no usable token for it. */
export interface PushPlan {
  device: Device;
  channel: Channel | "none";
  send?: PushSend;
  tokenKind?: TokenKind;
  token?: string;
}

/**
 * Ring channel per device: PushKit VoIP for iOS apps that registered a VoIP token (falling back to an FCM alert
 * when APNs is not configured), FCM data for Android, an FCM alert for iOS apps without PushKit.
 */
export function ringPlan(device: Device, info: RingInfo, apnsConfigured: boolean): PushPlan {
  const { deviceId, platform, fcmToken, voipToken, bundleId, apnsEnvironment } = device;
  if (platform === "ios" && voipToken && bundleId && apnsConfigured) {
    const environment = apnsEnvironment ?? "production";
    return {
      device,
      channel: "apns_voip",
      tokenKind: "voipToken",
      token: voipToken,
      send: { key: deviceId, provider: "apns", build: (_remaining, now) => apnsVoipRing(voipToken, environment, bundleId, info, now) },
    };
  }
  if (fcmToken) {
    const ring = platform === "android" ? fcmAndroidRing : fcmIosRing;
    return {
      device,
      channel: platform === "android" ? "fcm_android" : "fcm_ios",
      tokenKind: "fcmToken",
      token: fcmToken,
      send: { key: deviceId, provider: "fcm", build: (remaining, now) => ring(fcmToken, info, now, remaining) },
    };
  }
  return { device, channel: "none" };
}

/**
 * Stop channel per device, never VoIP: FCM data for Android, an FCM alert or background push for iOS (an alert
 * that replaces the ring's when the ring was an alert: `ringChannel` fcm_ios, or unknown on an app without
 * PushKit). An iOS app registered with a VoIP token only cannot be reached; it ends the call from the call
 * document it watches.
 */
export function stopPlan(device: Device, call: CallDocument, ttlMs: number, ringChannel?: Channel | "none"): PushPlan {
  const { deviceId, platform, fcmToken } = device;
  if (!fcmToken) return { device, channel: "none" };
  const info = stopInfo(call, ringChannel === "fcm_ios" || (ringChannel === undefined && !device.voipToken));
  return {
    device,
    channel: platform === "android" ? "fcm_android" : "fcm_ios",
    tokenKind: "fcmToken",
    token: fcmToken,
    send: {
      key: deviceId,
      provider: "fcm",
      build: () => (platform === "android" ? fcmAndroidStop(fcmToken, info, ttlMs) : fcmIosStop(fcmToken, info)),
    },
  };
}
