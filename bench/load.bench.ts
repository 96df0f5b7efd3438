// Ring and stop under load, through the emulators: 1, 10 and 50 calls arriving at once, each to its own resident's
// two devices (Android over FCM, iPhone over APNs VoIP); a second after all have rung, all are answered at once. After
// each round, once its stops are recorded, the floors under the same load (bench/floor): as many bare Firestore
// writes at once, each → a bare trigger → one FCM send; then as many POSTs at once to a bare webhook that reads and
// writes as ours does, in front of the same trigger. Run by `npm run bench`; prints figures, asserts nothing.
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
import { percentile } from "./stats";

/** Calls at once, and how many rounds of them (so that each level has a few hundred samples at most). */
const LEVELS: Array<{ calls: number; rounds: number }> = [
  { calls: 1, rounds: Number(process.env.BENCH_ROUNDS_1 ?? 40) },
  { calls: 10, rounds: Number(process.env.BENCH_ROUNDS_10 ?? 8) },
  { calls: 50, rounds: Number(process.env.BENCH_ROUNDS_50 ?? 4) },
];
/** When the calls are answered, after the last ring reached the phones. */
const ANSWER_AFTER_MS = 1000;
const print = (text: string) => process.stdout.write(`${text}\n`);

/** Arrival times by key, filled from a fake's requests as they come (a benchmark, not a test: it polls every ms). */
class Arrivals<R extends { receivedAt: number }> {
  private seen = 0;
  private readonly first = new Map<string, number>();
  constructor(
    private readonly requests: R[],
    private readonly keyOf: (request: R) => string | undefined,
  ) {}

  async all(keys: string[], deadlineMs = 60_000): Promise<number[]> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      for (; this.seen < this.requests.length; this.seen++) {
        const key = this.keyOf(this.requests[this.seen]);
        if (key !== undefined && !this.first.has(key)) this.first.set(key, this.requests[this.seen].receivedAt);
      }
      if (keys.every((key) => this.first.has(key))) return keys.map((key) => this.first.get(key)!);
      if (Date.now() > deadline) throw new Error(`${keys.filter((k) => !this.first.has(k)).length} of ${keys.length} pushes did not arrive within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

it("measures ring and stop latency with 1, 10 and 50 calls at once, against the floor under the same load", async () => {
  const [fcm, apns] = await Promise.all([FcmFake.start(fakePort("PUSH_FCM_ORIGIN")), ApnsFake.start(fakePort("PUSH_APNS_ORIGIN"))]);
  const firestore = testFirestore(FUNCTIONS_PROJECT_ID);
  const db = firestore.db;
  const origin = `${await functionsOrigin()}/${FUNCTIONS_PROJECT_ID}/${REGION}/butterflymxWebhook`;
  const residents = Math.max(...LEVELS.map((l) => l.calls));
  const now = Timestamp.now();
  // One resident per concurrent call: ButterflyMX user 770000 + i, their own webhook URL, an Android and an iPhone.
  const urls: string[] = [];
  for (let i = 0; i < residents; i++) {
    const uid = `load-${i}`;
    const secret = newWebhookSecret();
    urls.push(`${origin}/${secret}`);
    const batch = db.batch();
    batch.set(db.doc(`webhookRegistrations/${hashSecret(secret)}`), { uid, tenantId: `load-${i}`, bmxIntegrationId: `load-${i}`, bmxUserId: String(770000 + i), region: "na", createdAt: now });
    batch.set(db.doc(`bmxUsers/${770000 + i}`), { uids: [uid] });
    batch.set(db.doc(`users/${uid}`), { preferences: { doNotDisturb: false, contactPreference: "mobile_app" } });
    batch.set(db.doc(`users/${uid}/devices/android`), { deviceId: "android", uid, platform: "android", fcmToken: `fcm-load-android-${i}`, createdAt: now, updatedAt: now });
    batch.set(db.doc(`users/${uid}/devices/iphone`), { deviceId: "iphone", uid, platform: "ios", voipToken: VOIP_TOKEN(i + 1), bundleId: "com.example.intercom", apnsEnvironment: "production", createdAt: now, updatedAt: now });
    await batch.commit();
  }
  const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
  const rings = new Arrivals(fcm.requests, (r) => (r.message.data?.type === "call.ring" ? r.message.data.guid : undefined));
  const voip = new Arrivals(apns.requests, (r) => (r.payload as { guid?: string }).guid);
  const stops = new Arrivals(fcm.requests, (r) => (r.message.data?.type === "call.end" ? r.message.data.guid : undefined));
  const floors = new Arrivals(fcm.requests, (r) => (r.token.startsWith("floor-") || r.token.startsWith("webhook-floor-") ? r.token : undefined));
  const floorWebhook = await floorWebhookUrl();

  print("\nRing and stop under load through the emulators (ms; ratios are p50 / floor p50, and ×wh p50 / the webhook floor's p50 (wh), at the same load)");
  const head = (name: string) => `${`${name} p50`.padStart(7)} ${"p95".padStart(7)}`;
  print(`${"calls".padStart(5)} ${"samples".padStart(7)}  ${head("floor")}  ${head("wh floor")}  ${head("ring")} ${"×".padStart(6)} ${"×wh".padStart(6)}  ${head("stop")} ${"×".padStart(6)} ${"×wh".padStart(6)}`);
  try {
    for (const level of LEVELS) {
      // Each level's row as soon as it is measured; a level the emulator cannot serve says why, and the next is tried.
      try {
        // One unmeasured round per level: the emulator starts a worker per concurrent invocation, cold the first time.
        await round(level.calls);
        const ring: number[] = [];
        const stop: number[] = [];
        const floor: number[] = [];
        const webhookFloor: number[] = [];
        for (let r = 0; r < level.rounds; r++) {
          const measured = await round(level.calls);
          ring.push(...measured.ring);
          stop.push(...measured.stop);
          floor.push(...measured.floor);
          webhookFloor.push(...measured.webhookFloor);
        }
        const cell = (values: number[]) => `${percentile(values, 50).toFixed(1).padStart(7)} ${percentile(values, 95).toFixed(1).padStart(7)}`;
        const ratio = (values: number[], to = floor) => (percentile(values, 50) / percentile(to, 50)).toFixed(2).padStart(6);
        print(
          `${String(level.calls).padStart(5)} ${String(ring.length).padStart(7)}  ${cell(floor)}  ${cell(webhookFloor)}  ${cell(ring)} ${ratio(ring)} ${ratio(ring, webhookFloor)}  ${cell(stop)} ${ratio(stop)} ${ratio(stop, webhookFloor)}  ${(percentile(ring, 95) / percentile(webhookFloor, 95)).toFixed(2)} ×wh at p95`,
        );
      } catch (error) {
        print(`${String(level.calls).padStart(5)}  not measured: ${(error as Error).message}`);
      }
    }
  } finally {
    await Promise.all([fcm.close(), apns.close()]);
    await firestore.close();
  }

  /**
   * `calls` calls at once: created together, rung, then answered together; once their stops are recorded, as many
   * floor writes together, then as many POSTs to the bare webhook.
   */
  async function round(calls: number): Promise<{ ring: number[]; stop: number[]; floor: number[]; webhookFloor: number[] }> {
    const bodies = Array.from({ length: calls }, (_, i) => createBody({ user: { id: 770000 + i } }));
    const guids = bodies.map((b) => b.guid as string);
    const posted = preciseNow();
    await Promise.all(bodies.map((body, i) => post(urls[i], body)));
    const [viaFcm, viaApns] = await Promise.all([rings.all(guids), voip.all(guids)]);
    const ring = viaFcm.map((at, i) => Math.min(at, viaApns[i]) - posted);

    // Answered a moment after ringing, as residents do (bench/ring-latency.bench.ts also measures a stop racing the ring).
    await new Promise((resolve) => setTimeout(resolve, ANSWER_AFTER_MS));
    const ended = preciseNow();
    await Promise.all(bodies.map((body, i) => post(urls[i], statusBody(body, "connecting_sip"))));
    const stop = (await stops.all(guids)).map((at) => at - ended);
    await stopsRecorded(db, guids);

    const ids = Array.from({ length: calls }, () => `floor-${randomUUID()}`);
    const written = preciseNow();
    await Promise.all(ids.map((id) => writeFloor(db, id, id)));
    const floor = (await floors.all(ids)).map((at) => at - written);

    const webhookIds = Array.from({ length: calls }, () => `webhook-floor-${randomUUID()}`);
    const webhookPosted = preciseNow();
    await Promise.all(webhookIds.map((id) => postFloorWebhook(floorWebhook, id, id)));
    const webhookFloor = (await floors.all(webhookIds)).map((at) => at - webhookPosted);
    return { ring, stop, floor, webhookFloor };
  }
}, 1_800_000);
