// Ring and stop latency through the emulators: webhook POST → the first ring request arriving at the local FCM
// and APNs servers, and status POST → the stop request; beside it, in the same run, two floors (bench/floor): a
// bare Firestore write → a bare trigger → one FCM send, and a POST to a bare webhook (one read, one write) in front
// of the same trigger. Both are measured once the call's stop is recorded (the emulator delivers events one at a
// time, so a floor measured during the call's own tail waits behind its events), and the first alone before the
// calls too. A third of the calls end the moment the ring reaches the phones (the status races the ring's own
// recording), a third a moment later (ANSWER_AFTER_MS: a resident answering); on the last third, the floor is also
// measured racing the ring (its bare write goes out the moment the ring reaches the phones).
// Also: the first call after the emulators start, every worker cold (ring, then each floor's own first call); for
// every call, whether its first ring and its stop reached the fakes before the webhook's answer did, and how many
// ring and stop pushes each device got; and a stalled provider (the first push of a call to one device held far past
// the webhook's deadline): the webhook's answer, and when the trigger's takeover rang the device again.
// Run by `npm run bench`; prints figures, asserts nothing.
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { REGION } from "../functions/src/config";
import { hashSecret, newWebhookSecret } from "../functions/src/links/webhook-secrets";
import { ApnsFake } from "../functions/test/fakes/apns-fake";
import { FcmFake } from "../functions/test/fakes/fcm-fake";
import { preciseNow } from "../functions/test/fakes/server-lifecycle";
import { createBody, statusBody } from "../functions/test/helpers/butterflymx-payloads";
import { fakePort, functionsOrigin, FUNCTIONS_PROJECT_ID, testFirestore } from "../functions/test/helpers/emulators";
import { VOIP_TOKEN } from "../functions/test/helpers/fixtures";
import { floorWebhookUrl, postFloorWebhook, writeFloor } from "./floors";
import { stopsRecorded } from "./stops-recorded";
import { median, percentile } from "./stats";

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
/** Floor samples taken alone, before the calls. */
const FLOOR_ALONE = 50;
const WARM_UP = 5;
/** When a third of the calls is answered, after the ring reached the phones. */
const ANSWER_AFTER_MS = 1000;
/** Calls with a stalled provider, each way (FCM, then APNs). */
const STALLED = Number(process.env.BENCH_STALLED ?? 20);
/** How long the stalled provider holds its answer: far past the webhook's push deadline (REQUEST_PUSH_MS). */
const STALL_MS = 10_000;
const print = (text: string) => process.stdout.write(`${text}\n`);


/** Resolves with the first request `find` matches, checking every millisecond (a benchmark, not a test). */
async function arrival<T>(find: () => T | undefined, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error("no request arrived within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function percentiles(values: number[]): string {
  return [50, 95, 99].map((p) => percentile(values, p).toFixed(1).padStart(6)).join(" ");
}

it("measures ring and stop latency against the bare-trigger floor", async () => {
  const [fcm, apns] = await Promise.all([FcmFake.start(fakePort("PUSH_FCM_ORIGIN")), ApnsFake.start(fakePort("PUSH_APNS_ORIGIN"))]);
  const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
  const db = firestore.db;
  const secret = newWebhookSecret();
  const webhook = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook/${secret}`;
  const now = Timestamp.now();
  await db.doc(`webhookRegistrations/${hashSecret(secret)}`).set({ uid: "bench-resident", tenantId: "bench", bmxIntegrationId: "bench", region: "na", createdAt: now });
  await db.doc("bmxUsers/880088").set({ uids: ["bench-resident"] });
  await db.doc("users/bench-resident").set({ preferences: { doNotDisturb: false, contactPreference: "mobile_app" } });
  const android = { deviceId: "bench-pixel", uid: "bench-resident", platform: "android", fcmToken: "fcm-bench-latency-android", createdAt: now, updatedAt: now };
  const iphone = { deviceId: "bench-iphone", uid: "bench-resident", platform: "ios", voipToken: VOIP_TOKEN(77), fcmToken: "fcm-bench-latency-iphone", bundleId: "com.example.intercom", apnsEnvironment: "production", createdAt: now, updatedAt: now };
  await db.doc(`users/bench-resident/devices/${android.deviceId}`).set(android);
  await db.doc(`users/bench-resident/devices/${iphone.deviceId}`).set(iphone);
  /** POSTs to the webhook; resolves with when its answer arrived. */
  const post = async (body: unknown) => {
    const answer = await fetch(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    await answer.arrayBuffer();
    return preciseNow();
  };

  const ring: number[] = [];
  const ringFcm: number[] = [];
  const ringApns: number[] = [];
  const stopRacing: number[] = [];
  const stopLater: number[] = [];
  const floor: number[] = [];
  const floorRacing: number[] = [];
  const floorAlone: number[] = [];
  const webhookFloor: number[] = [];
  /** The floor once: a bare write → the bare trigger's FCM send, in ms. */
  const floorSend = async () => {
    const id = randomUUID();
    const written = preciseNow();
    await writeFloor(db, id, `floor-${id}`);
    return (await arrival(() => fcm.requests.find((r) => r.token === `floor-${id}`))).receivedAt - written;
  };
  const floorWebhook = await floorWebhookUrl();
  /** The webhook floor once: a POST to the bare webhook → the bare trigger's FCM send, in ms. */
  const webhookFloorSend = async () => {
    const id = randomUUID();
    const posted = preciseNow();
    await postFloorWebhook(floorWebhook, id, `webhook-floor-${id}`);
    return (await arrival(() => fcm.requests.find((r) => r.token === `webhook-floor-${id}`))).receivedAt - posted;
  };
  let coldRing = 0;
  let coldFloor = 0;
  let coldWebhookFloor = 0;
  let ringInRequest = 0;
  let stopInRequest = 0;
  let stopsMeasured = 0;
  const pushCounts = { calls: 0, ringOnce: 0, stopAtMostOnce: 0 };
  const stalledAnswers: Record<"fcm" | "apns", number[]> = { fcm: [], apns: [] };
  const takeovers: Record<"fcm" | "apns", number[]> = { fcm: [], apns: [] };
  try {
    // Every worker cold: the ring's first call, then each floor's own first call.
    {
      const call = createBody({ user: { id: 880088 } });
      const posted = preciseNow();
      await post(call);
      const guid = call.guid as string;
      const [viaFcm, viaApns] = await Promise.all([
        arrival(() => fcm.requests.find((r) => r.message.data?.guid === guid && r.message.data?.type === "call.ring")),
        arrival(() => apns.requests.find((r) => (r.payload as { guid?: string }).guid === guid)),
      ]);
      coldRing = Math.min(viaFcm.receivedAt, viaApns.receivedAt) - posted;
      await post(statusBody(call, "connecting_sip"));
      await stopsRecorded(db, [guid]);
      coldFloor = await floorSend();
      coldWebhookFloor = await webhookFloorSend();
    }
    for (let i = 0; i < WARM_UP + FLOOR_ALONE; i++) {
      const took = await floorSend();
      if (i >= WARM_UP) floorAlone.push(took);
    }
    for (let i = 0; i < WARM_UP + CALLS; i++) {
      const call = createBody({ user: { id: 880088 } });
      const guid = call.guid as string;
      const posted = preciseNow();
      const answered = await post(call);
      const [viaFcm, viaApns] = await Promise.all([
        arrival(() => fcm.requests.find((r) => r.message.data?.guid === guid && r.message.data?.type === "call.ring")),
        arrival(() => apns.requests.find((r) => (r.payload as { guid?: string }).guid === guid)),
      ]);
      const kind = (["racing", "later", "floor racing"] as const)[i % 3];
      const stopArrival = () => arrival(() => fcm.requests.find((r) => r.message.data?.guid === guid && r.message.data?.type === "call.end" && r.token === android.fcmToken));
      let stopTook: number | undefined;
      let floorRaced: number | undefined;
      let stopAnswered: number;
      if (kind === "floor racing") {
        floorRaced = await floorSend();
        stopAnswered = await post(statusBody(call, "connecting_sip"));
        await stopArrival();
      } else {
        if (kind === "later") await new Promise((resolve) => setTimeout(resolve, ANSWER_AFTER_MS));
        const ended = preciseNow();
        stopAnswered = await post(statusBody(call, "connecting_sip"));
        stopTook = (await stopArrival()).receivedAt - ended;
      }
      const stopAt = (await stopArrival()).receivedAt;
      await stopsRecorded(db, [guid]);
      const floorTook = await floorSend();
      const webhookFloorTook = await webhookFloorSend();

      if (i < WARM_UP) continue;
      if (Math.min(viaFcm.receivedAt, viaApns.receivedAt) < answered) ringInRequest++;
      if (stopAt < stopAnswered) stopInRequest++;
      stopsMeasured++;
      // Per device: ring pushes (Android over FCM, iPhone over APNs) and stop pushes (both over FCM).
      const ofCall = (type: string, token: string) => fcm.requests.filter((r) => r.token === token && r.message.data?.guid === guid && r.message.data?.type === type).length;
      const iphoneRings = apns.requests.filter((r) => (r.payload as { guid?: string }).guid === guid).length;
      pushCounts.calls++;
      if (ofCall("call.ring", android.fcmToken) === 1 && iphoneRings === 1 && ofCall("call.ring", iphone.fcmToken) === 0) pushCounts.ringOnce++;
      if (ofCall("call.end", android.fcmToken) <= 1 && ofCall("call.end", iphone.fcmToken) <= 1) pushCounts.stopAtMostOnce++;
      ringFcm.push(viaFcm.receivedAt - posted);
      ringApns.push(viaApns.receivedAt - posted);
      ring.push(Math.min(viaFcm.receivedAt, viaApns.receivedAt) - posted);
      floor.push(floorTook);
      webhookFloor.push(webhookFloorTook);
      if (floorRaced !== undefined) floorRacing.push(floorRaced);
      if (stopTook !== undefined) (kind === "later" ? stopLater : stopRacing).push(stopTook);
    }

    // A stalled provider: the call's first push to one device is held STALL_MS; the webhook answers after its
    // deadline, and the ring trigger takes the device over.
    for (const provider of ["fcm", "apns"] as const) {
      for (let i = 0; i < STALLED; i++) {
        const call = createBody({ user: { id: 880088 } });
        const guid = call.guid as string;
        if (provider === "fcm") fcm.script(android.fcmToken, { ok: true, delayMs: STALL_MS });
        else apns.script(iphone.voipToken, { status: 200, delayMs: STALL_MS });
        const posted = preciseNow();
        stalledAnswers[provider].push((await post(call)) - posted);
        const again = await arrival(() =>
          provider === "fcm"
            ? fcm.requests.filter((r) => r.message.data?.guid === guid && r.token === android.fcmToken)[1]
            : apns.requests.filter((r) => (r.payload as { guid?: string }).guid === guid)[1],
        );
        takeovers[provider].push(again.receivedAt - posted);
        await post(statusBody(call, "connecting_sip"));
        await stopsRecorded(db, [guid]);
      }
    }
  } finally {
    await Promise.all([fcm.close(), apns.close()]);
    await firestore.close();
  }
  print(`\nRing latency through the emulators, ${CALLS} calls after ${WARM_UP} warm-up calls (ms)`);
  print(`${"path".padEnd(58)} ${"p50".padStart(6)} ${"p95".padStart(6)} ${"p99".padStart(6)}`);
  print(`${"floor: Firestore write → bare trigger → one FCM send".padEnd(58)} ${percentiles(floor)}`);
  print(`${"floor alone, before the calls".padEnd(58)} ${percentiles(floorAlone)}`);
  print(`${"floor, racing a ring (written as the ring reaches phones)".padEnd(58)} ${percentiles(floorRacing)}`);
  print(`${"webhook floor: POST → bare webhook → bare trigger → FCM".padEnd(58)} ${percentiles(webhookFloor)}`);
  print(`${"ring: webhook POST → first push (FCM or APNs)".padEnd(58)} ${percentiles(ring)}`);
  print(`${"ring: webhook POST → Android ring at FCM".padEnd(58)} ${percentiles(ringFcm)}`);
  print(`${"ring: webhook POST → VoIP ring at APNs".padEnd(58)} ${percentiles(ringApns)}`);
  print(`${"stop: status POST → Android stop at FCM, racing the ring".padEnd(58)} ${percentiles(stopRacing)}`);
  print(`${`stop: the same, answered ${ANSWER_AFTER_MS} ms after the ring`.padEnd(58)} ${percentiles(stopLater)}`);
  const ratio = (values: number[], to = floor) => (median(values) / median(to)).toFixed(2);
  print(`p50 / floor p50: ring ${ratio(ring)}, stop racing the ring ${ratio(stopRacing)}, stop answered later ${ratio(stopLater)}`);
  print(`p50 / webhook floor p50: ring ${ratio(ring, webhookFloor)}, stop racing the ring ${ratio(stopRacing, webhookFloor)}, stop answered later ${ratio(stopLater, webhookFloor)}`);
  print(`p50 / floor racing a ring p50: stop racing the ring ${ratio(stopRacing, floorRacing)}`);
  // What the issue-15 target leaves room for: a webhook that only stores before the same trigger, and the stop beside the ring.
  print(`p50 / floor p50, the webhook floor itself: ${ratio(webhookFloor)}`);
  print(`p50 / ring p50: stop racing the ring ${ratio(stopRacing, ring)}, stop answered later ${ratio(stopLater, ring)}`);
  print(`first call, every worker cold: ring ${coldRing.toFixed(0)} ms, floor ${coldFloor.toFixed(0)} ms (ratio ${(coldRing / coldFloor).toFixed(2)}), webhook floor ${coldWebhookFloor.toFixed(0)} ms (ratio ${(coldRing / coldWebhookFloor).toFixed(2)})`);
  const share = (n: number, of: number) => `${n} of ${of} (${((100 * n) / of).toFixed(1)}%)`;
  print(`in the request: first ring before the webhook's answer ${share(ringInRequest, ring.length)}; stop before the status's answer ${share(stopInRequest, stopsMeasured)}`);
  print(`exactly once: each device rung once ${share(pushCounts.ringOnce, pushCounts.calls)}; at most one stop per device ${share(pushCounts.stopAtMostOnce, pushCounts.calls)}`);
  for (const provider of ["fcm", "apns"] as const) {
    print(`stalled ${provider === "fcm" ? "FCM (Android)" : "APNs (iPhone VoIP)"}, ${STALLED} calls: webhook answer p50/p95/p99 ${percentiles(stalledAnswers[provider])} ms; takeover ring at ${percentiles(takeovers[provider])} ms after the POST`);
  }
}, 900_000);
