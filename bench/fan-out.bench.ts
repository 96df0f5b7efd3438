// Fan-out: one call rung to D devices (half Android/FCM, half iOS/VoIP) through ringCall, against sending the
// very same messages raw: firebase-admin `sendEach` (500 per batch) and bare HTTP/2 POSTs to APNs, in parallel.
// Run by `npm run bench`; prints figures, asserts nothing.
import { createPrivateKey, sign } from "node:crypto";
import { connect } from "node:http2";
import { getMessaging, Message } from "firebase-admin/messaging";
import { seenCall } from "../functions/src/calls/delivery-records";
import { ringCall } from "../functions/src/calls/ring-service";
import type { PushGateway } from "../functions/src/push/push-gateway";
import { recordDelivery } from "../functions/src/calls/call-repository";
import { parseDelivery } from "../functions/src/webhook/webhook-schemas";
import { Timestamp } from "firebase-admin/firestore";
import { TEST_APNS, TEST_TLS } from "../functions/test/fakes/tls";
import { createBody } from "../functions/test/helpers/butterflymx-payloads";
import { isolatedProjectId, testFirestore } from "../functions/test/helpers/emulators";
import { startPushHarness, VOIP_TOKEN } from "../functions/test/helpers/push-harness";

const print = (text: string) => process.stdout.write(`${text}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

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
  const messaging = getMessaging(push.app);
  const jwt = providerToken();
  const rows: string[] = [];
  try {
    for (const devices of [1, 10, 100, 1000]) {
      const ours: number[] = [];
      const fanOut: number[] = [];
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
        const parsed = parseDelivery(createBody({ user: { id: 777 } }));
        if (!parsed.ok) throw new Error("bad body");
        const { guid } = (await recordDelivery(db, { delivery: parsed.delivery, source: { via: "bench" }, now: Timestamp.now(), retentionDays: 1 }))!;

        const created = seenCall(await db.doc(`calls/${guid}`).get()); // what the trigger's event carries
        const deps = push.deps(db);
        const sends = timedGateway(deps.gateway());
        const startedAt = Date.now();
        let started = performance.now();
        await ringCall(guid, { ...deps, gateway: () => sends.gateway }, created);
        ours.push(performance.now() - started);
        fanOut.push(sends.elapsed());
        firstPush.push(Math.min(...push.fcm.requests.map((r) => r.receivedAt), ...push.apns.requests.map((r) => r.receivedAt)) - startedAt);

        // The same messages, raw.
        const fcmMessages = push.fcm.requests.map((r) => r.message as unknown as Message);
        const apnsRequests = push.apns.requests.map((r) => ({ token: r.token, headers: r.headers, payload: r.payload }));
        const session = connect(push.apns.origin, { ca: TEST_TLS.ca });
        started = performance.now();
        await Promise.all([
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
                    "apns-topic": String(r.headers["apns-topic"]),
                    "apns-push-type": String(r.headers["apns-push-type"]),
                    "apns-priority": String(r.headers["apns-priority"] ?? "10"),
                    "apns-expiration": String(r.headers["apns-expiration"] ?? "0"),
                  });
                  stream.on("response", () => undefined).on("data", () => undefined).on("end", () => resolve()).on("error", reject);
                  stream.end(JSON.stringify(r.payload));
                }),
            ),
          ),
        ]);
        raw.push(performance.now() - started);
        session.close();
      }
      const o = median(ours);
      const f = median(fanOut);
      const r = median(raw);
      rows.push(
        `${String(devices).padStart(7)} ${f.toFixed(1).padStart(9)} ${r.toFixed(1).padStart(8)} ${(f / r).toFixed(2).padStart(7)} ${String(median(firstPush)).padStart(11)} ${o.toFixed(1).padStart(11)} ${(o / r).toFixed(2).padStart(10)} ${(f / devices).toFixed(2).padStart(12)}`,
      );
    }
  } finally {
    await push.close();
    await firestore.close();
  }
  print(`\nFan-out: our sends (gateway, from the first send to the last answer) vs the same pushes raw, and all of ringCall`);
  print(`(claim, audience, sends, records, summary) for scale; median of ${RUNS}`);
  print(
    `${"devices".padStart(7)} ${"sends ms".padStart(9)} ${"raw ms".padStart(8)} ${"× raw".padStart(7)} ${"1st push ms".padStart(11)} ${"ringCall ms".padStart(11)} ${"call × raw".padStart(10)} ${"sends ms/dev".padStart(12)}`,
  );
  for (const row of rows) print(row);
}, 600_000);
