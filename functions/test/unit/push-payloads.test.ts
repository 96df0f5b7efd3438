import type { CallDocument } from "../../src/calls/call-document";
import { stopInfo } from "../../src/calls/push-plan";
import { apnsVoipRing, fcmAndroidRing, fcmAndroidStop, fcmIosRing, fcmIosStop, ringData, stopData } from "../../src/push/push-payloads";

const info = { guid: "ba17520f-8768-4723-88f9-5eaa2c35171a", panelName: "Front Door", unitLabel: "4B", visitorImageUrl: "https://s3.example.com/v.jpg" };
const SENT_AT = Date.UTC(2026, 10, 22, 12, 0, 0);

describe("ring payloads", () => {
  it("carries the documented keys, all strings", () => {
    const data = ringData(info, SENT_AT);
    expect(data).toEqual({
      type: "call.ring",
      guid: info.guid,
      panelName: "Front Door",
      unitLabel: "4B",
      callStatus: "initializing",
      visitorImageUrl: "https://s3.example.com/v.jpg",
      sentAt: "2026-11-22T12:00:00.000Z",
    });
    expect(Object.values(data).every((v) => typeof v === "string")).toBe(true);
    expect(ringData({ ...info, visitorImageUrl: undefined }, SENT_AT)).not.toHaveProperty("visitorImageUrl");
  });

  it("rings Android with a high-priority data message that collapses on the guid and expires with the ring", () => {
    const message = fcmAndroidRing("tok", info, SENT_AT, 37_250.6);
    expect(message).toEqual({ token: "tok", data: ringData(info, SENT_AT), android: { priority: "high", ttl: 37_250, collapseKey: info.guid } });
    expect(message).not.toHaveProperty("notification");
  });

  it("rings an FCM-only iOS app with a time-sensitive alert that expires with the ring", () => {
    const message = fcmIosRing("tok", info, SENT_AT, 30_000);
    expect(message.apns?.headers).toEqual({
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-collapse-id": info.guid,
      "apns-expiration": String(SENT_AT / 1000 + 30),
    });
    expect(message.apns?.payload?.aps).toMatchObject({ alert: { title: "Front Door" }, "interruption-level": "time-sensitive" });
  });

  it("rings PushKit with a VoIP push that is delivered now or never", () => {
    const request = apnsVoipRing("ab".repeat(32), "sandbox", "com.example.intercom", info, SENT_AT);
    expect(request).toEqual({
      token: "ab".repeat(32),
      environment: "sandbox",
      headers: {
        "apns-push-type": "voip",
        "apns-topic": "com.example.intercom.voip",
        "apns-priority": "10",
        "apns-expiration": "0",
        "apns-collapse-id": info.guid,
      },
      payload: ringData(info, SENT_AT),
    });
    expect(Buffer.byteLength(JSON.stringify(request.payload))).toBeLessThan(5 * 1024);
  });

  it("stays under FCM's 4 KB with the longest values the webhook accepts", () => {
    const long = { guid: info.guid, panelName: "p".repeat(200), unitLabel: "u".repeat(64), visitorImageUrl: `https://${"x".repeat(2030)}` };
    expect(Buffer.byteLength(JSON.stringify(fcmIosRing("t".repeat(200), long, SENT_AT, 40_000)))).toBeLessThan(4096);
  });
});

describe("stop payloads", () => {
  const call = { guid: info.guid, panel: { id: "28516", name: "Front Door" }, unit: { id: "1859622", label: "4B" } } as CallDocument;
  const stop = stopInfo({ ...call, bmxStatus: "connecting_sip", status: "answered" });

  it("carries the documented keys", () => {
    expect(stopData(stop)).toEqual({ type: "call.end", guid: info.guid, callStatus: "connecting_sip", reason: "answered" });
  });

  it("stops Android with a high-priority data message for the same guid", () => {
    expect(fcmAndroidStop("tok", stop, 30_000)).toEqual({
      token: "tok",
      data: stopData(stop),
      android: { priority: "high", ttl: 30_000, collapseKey: info.guid },
    });
  });

  it("stops iOS with a background push, never VoIP", () => {
    const message = fcmIosStop("tok", stop);
    expect(message.apns?.headers).toEqual({ "apns-push-type": "background", "apns-priority": "5", "apns-collapse-id": info.guid });
    expect(message.apns?.payload?.aps).toEqual({ contentAvailable: true });
  });

  it("shows a missed call on iOS when nobody answered", () => {
    const message = fcmIosStop("tok", stopInfo({ ...call, bmxStatus: "timeout_online_signal", status: "missed" }));
    expect(message.apns?.headers).toMatchObject({ "apns-push-type": "alert", "apns-collapse-id": info.guid });
    expect(message.apns?.payload?.aps).toMatchObject({ alert: { title: "Missed call", body: "Front Door · unit 4B" } });
  });
});
