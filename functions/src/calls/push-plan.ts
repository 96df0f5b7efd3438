import { DeviceRecord, TokenKind } from "../devices/device-registry";
import { PushSend } from "../push/fan-out";
import { apnsVoipRing, fcmAndroidRing, fcmAndroidStop, fcmIosRing, fcmIosStop, RingInfo, StopInfo } from "../push/push-payloads";
import { CallDocument } from "./call-document";
import { Channel } from "./delivery-records";

/** What a ring says about the call. */
export function ringInfo(call: CallDocument): RingInfo {
  return {
    guid: call.guid,
    panelName: call.panel.name,
    unitLabel: call.unit.label,
    ...(call.visitorImageUrl ? { visitorImageUrl: call.visitorImageUrl } : {}),
  };
}

/** What a stop says: how the call ended, and for a missed call the "Missed call" alert an iOS app shows. */
export function stopInfo(call: CallDocument): StopInfo {
  return {
    guid: call.guid,
    callStatus: call.bmxStatus,
    reason: call.status,
    ...(call.status === "missed" ? { alert: { title: "Missed call", body: `${call.panel.name} · unit ${call.unit.label}` } } : {}),
  };
}

/** How one device is reached for one push, or `none` when it has no usable token for it. */
export interface PushPlan {
  device: DeviceRecord;
  channel: Channel | "none";
  send?: PushSend;
  tokenKind?: TokenKind;
  token?: string;
}

/**
 * Ring channel per device: PushKit VoIP for iOS apps that registered a VoIP token (falling back to an FCM alert
 * when APNs is not configured), FCM data for Android, an FCM alert for iOS apps without PushKit.
 */
export function ringPlan(device: DeviceRecord, info: RingInfo, apnsConfigured: boolean): PushPlan {
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
 * Stop channel per device, never VoIP: FCM data for Android, an FCM alert or background push for iOS. An iOS
 * app registered with a VoIP token only cannot be reached; it ends the call from the call document it watches.
 */
export function stopPlan(device: DeviceRecord, info: StopInfo, ttlMs: number): PushPlan {
  const { deviceId, platform, fcmToken } = device;
  if (!fcmToken) return { device, channel: "none" };
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
