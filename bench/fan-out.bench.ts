// Fan-out: one call rung to D devices (half Android/FCM, half iOS/VoIP) through ringCall; then the very pushes it
// sent, again through our gateway alone and raw (firebase-admin `sendEach`, 500 per batch, and bare HTTP/2 POSTs
// to APNs, in parallel), interleaved. Run by `npm run bench`; prints figures, asserts nothing.
import { createPrivateKey, sign } from "node:crypto";
import { ClientHttp2Session, connect, SecureClientSessionOptions } from "node:http2";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getMessaging, TokenMessage } from "firebase-admin/messaging";
import { seenCall } from "../functions/src/calls/call-repository";
import { ringCall } from "../functions/src/calls/ring-service";
import type { PushGateway } from "../functions/src/push/push-gateway";
import type { ApnsRequest } from "../functions/src/push/push-payloads";
import { recordCallEvent } from "../functions/src/calls/record-call-event";
import { parseCallEvent } from "../functions/src/butterflymx/call-events";
import { Timestamp } from "firebase-admin/firestore";
import { TEST_APNS, TEST_TLS } from "../functions/test/fakes/tls";
import { createBody } from "../functions/test/helpers/butterflymx-payloads";
import { isolatedProjectId, testFirestore } from "../functions/test/helpers/emulators";
import type { FcmFake } from "../functions/test/fakes/fcm-fake";
import { preciseNow } from "../functions/test/fakes/server-lifecycle";
import { startPushHarness } from "../functions/test/helpers/push-harness";
import { VOIP_TOKEN } from "../functions/test/helpers/fixtures";
import { median } from "./stats";

/**
 * Sends firebase-admin's HTTP/2 connections for fcm.googleapis.com to the FCM fake (trusting the test CA), for the
 * raw `sendEach` on firebase-admin's default transport. One adjustment: firebase-admin 13 sends `:scheme: https:` (the
 * URL's protocol, colon included), which Google's front end accepts and Node's nghttp2 server rejects as a
 * protocol error, so the redirected session sends `https`. Returns the restore function.
 */
function redirectFcmTo(fake: FcmFake): () => void {
  // The CommonJS module object itself: firebase-admin looks `connect` up on it at call time.
  const http2 = require("node:http2") as typeof import("node:http2");
  const original = http2.connect;
  http2.connect = ((authority: string | URL, ...rest: unknown[]) => {
    if (String(authority).startsWith("https://fcm.googleapis.com")) {
      const options = (typeof rest[0] === "object" ? rest[0] : {}) as SecureClientSessionOptions;
      const session = original(fake.origin, { ...options, ca: TEST_TLS.ca, servername: "fcm.googleapis.com" });
      const request = session.request.bind(session);
      session.request = ((headers, requestOptions) =>
        request({ ...headers, ":scheme": String(headers?.[":scheme"] ?? "https").replace(/:$/, "") }, requestOptions)) as typeof session.request;
      return session;
    }
    return (original as (...args: unknown[]) => ClientHttp2Session)(authority, ...rest);
  }) as typeof http2.connect;
  return () => {
    http2.connect = original;
  };
}

const print = (text: string) => process.stdout.write(`${text}\n`);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COLUMNS = ["devices", "gateway ms", " raw ms", "gateway × raw", "ringCall sends ms", "1st push ms", "ringCall ms", "ringCall × raw", "raw ms/device"];

/** An APNs provider token (ES256 JWT) signed with node:crypto alone. */
function providerToken(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${part({ alg: "ES256", kid: TEST_APNS.keyId })}.${part({ iss: TEST_APNS.teamId, iat: Math.floor(Date.now() / 1000) })}`;
  const signature = sign("sha256", Buffer.from(input), { key: createPrivateKey(TEST_APNS.key), dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** The gateway ringCall sends through, timed from its first send to its last answer (one round: every push succeeds). */
function timedGateway(gateway: PushGateway): { gateway: PushGateway; elapsed: () => number } {
  let first = 0;
  let last = 0;
  const timed = <T>(work: () => Promise<T>) => async () => {
    first ||= performance.now();
    try {
      return await work();
    } finally {
      last = performance.now();
    }
  };
  return {
    gateway: {
      sendFcm: (messages) => timed(() => gateway.sendFcm(messages))(),
      sendApns: (requests, timeoutMs) => timed(() => gateway.sendApns(requests, timeoutMs))(),
    },
    elapsed: () => last - first,
  };
}

it("rings D devices against raw sendEach + raw HTTP/2", async () => {
  const projectId = isolatedProjectId("fan-out.bench.ts");
  const firestore = testFirestore(projectId);
  const db = firestore.db;
  const push = await startPushHarness(projectId);
  // Raw FCM: firebase-admin's default transport (HTTP/2, a new connection per sendEach call), on an app of its own.
  const restore = redirectFcmTo(push.fcm);
  const rawApp = initializeApp({ projectId, credential: { getAccessToken: async () => ({ access_token: "raw", expires_in: 3600 }) } }, "fan-out-raw");
  const messaging = getMessaging(rawApp);
  const jwt = providerToken();
  // Raw APNs keeps one warm session, as our client does across invocations.
  const session = connect(push.apns.origin, { ca: TEST_TLS.ca });
  const rows: string[] = [];

  /** firebase-admin `sendEach` in batches of 500 and bare HTTP/2 POSTs on one session, in parallel. */
  const sendRaw = (fcmMessages: TokenMessage[], apnsRequests: Array<Pick<ApnsRequest, "token" | "headers" | "payload">>) =>
    Promise.all([
      (async () => {
        for (let i = 0; i < fcmMessages.length; i += 500) await messaging.sendEach(fcmMessages.slice(i, i + 500));
      })(),
      Promise.all(
        apnsRequests.map(
          (r) =>
            new Promise<void>((resolve, reject) => {
              const stream = session.request({
                ":method": "POST",
                ":path": `/3/device/${r.token}`,
                authorization: `bearer ${jwt}`,
                "content-type": "application/json",
                ...r.headers,
              });
              stream.on("response", () => undefined).on("data", () => undefined).on("end", () => resolve()).on("error", reject);
              stream.end(JSON.stringify(r.payload));
            }),
        ),
      ),
    ]);
  try {
    for (const devices of [1, 10, 100, 1000]) {
      const ours: number[] = [];
      const fanOut: number[] = [];
      const alone: number[] = [];
      const firstPush: number[] = [];
      const raw: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        await firestore.clear();
        push.fcm.reset();
        push.apns.reset();
        const batchSize = 400;
        for (let start = 0; start < devices; start += batchSize) {
          const batch = db.batch();
          for (let i = start; i < Math.min(devices, start + batchSize); i++) {
            const device =
              i % 2 === 0
                ? { deviceId: `android-${i}`, platform: "android", fcmToken: `fcm-fanout-bench-token-${i}` }
                : { deviceId: `iphone-${i}`, platform: "ios", voipToken: VOIP_TOKEN(i % 256) + i.toString(16).padStart(8, "0"), bundleId: TEST_APNS.bundleId, apnsEnvironment: "production" };
            batch.set(db.doc(`users/resident/devices/${device.deviceId}`), { uid: "resident", createdAt: Timestamp.now(), updatedAt: Timestamp.now(), ...device });
          }
          await batch.commit();
        }
        await db.doc("users/resident").set({ preferences: { doNotDisturb: false, contactPreference: "mobile_app" } });
        await db.doc("bmxUsers/777").set({ uids: ["resident"] });
        const parsed = parseCallEvent(createBody({ user: { id: 777 } }));
        if (!parsed.ok) throw new Error("bad body");
        const { guid } = (await recordCallEvent(db, { event: parsed.event, source: () => ({ via: "bench" }), now: Timestamp.now(), retentionDays: 1 }));

        const created = seenCall(await db.doc(`calls/${guid}`).get()); // what the trigger's event carries
        const deps = push.deps(db);
        const sends = timedGateway(deps.gateway());
        const startedAt = preciseNow();
        let started = performance.now();
        await ringCall(guid, { ...deps, gateway: () => sends.gateway }, { seen: created });
        ours.push(performance.now() - started);
        fanOut.push(sends.elapsed());
        firstPush.push(Math.min(...push.fcm.requests.map((r) => r.receivedAt), ...push.apns.requests.map((r) => r.receivedAt)) - startedAt);

        // The same messages again, through our gateway alone and raw, alternating so that neither gets the
        // quieter moments: the gateway's figure is our sending code, ringCall's "sends" also carries the garbage
        // and timers of the Firestore work around it.
        const fcmMessages = push.fcm.requests.map((r) => r.message as unknown as TokenMessage);
        const apnsRequests: ApnsRequest[] = push.apns.requests.map((r) => ({
          token: r.token,
          environment: "production",
          headers: Object.fromEntries(Object.entries(r.headers).filter(([name]) => name.startsWith("apns-")).map(([name, value]) => [name, String(value)])),
          payload: r.payload,
        }));
        const gateway = deps.gateway();
        for (const order of [0, 1]) {
          for (const which of order === 0 ? ["gateway", "raw"] : ["raw", "gateway"]) {
            push.fcm.reset();
            push.apns.reset();
            started = performance.now();
            if (which === "gateway") {
              await Promise.all([gateway.sendFcm(fcmMessages), gateway.sendApns(apnsRequests, 30_000)]);
              alone.push(performance.now() - started);
            } else {
              await sendRaw(fcmMessages, apnsRequests);
              raw.push(performance.now() - started);
            }
          }
        }
      }
      const [g, r, f, o] = [alone, raw, fanOut, ours].map(median);
      rows.push(
        [devices, g, r, g / r, f, median(firstPush), o, o / r, r / devices]
          .map((value, i) => (i === 0 || i === 5 ? String(Math.round(value)) : value.toFixed(i === 3 || i === 7 ? 2 : 1)).padStart(COLUMNS[i].length))
          .join(" "),
      );
    }
  } finally {
    restore();
    await deleteApp(rawApp);
    session.close();
    await push.close();
    await firestore.close();
  }
  print(`\nFan-out: the pushes of one call through our gateway alone vs the same pushes raw (interleaved, ${RUNS * 2} each);`);
  print(`beside them, inside ringCall: its sends (first send to last answer), its first push, and all of it (claim, audience,`);
  print(`sends, records, summary); medians`);
  print(COLUMNS.join(" "));
  for (const row of rows) print(row);
}, 600_000);
