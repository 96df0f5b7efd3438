// Firestore reads and writes per call lifecycle (webhook create, ringing D devices in its request → the ring trigger
// as the net → status webhook, stopping them in its request → the stop trigger as the net), counted from the
// Firestore client's own request log on the emulator. Run by `npm run bench`; prints figures, asserts nothing.
// firebase-admin's Firestore client; its request log is where every read and write shows.
import { setLogFunction } from "@google-cloud/firestore";
import { ringCall } from "../functions/src/calls/ring-service";
import { stopCall } from "../functions/src/calls/stop-service";
import { handleWebhook } from "../functions/src/webhook/webhook-service";
import { createBody, statusBody } from "../functions/test/helpers/butterflymx-payloads";
import { isolatedProjectId, testFirestore } from "../functions/test/helpers/emulators";
import { startPushHarness } from "../functions/test/helpers/push-harness";
import { claimedVersion, seedResident, VOIP_TOKEN } from "../functions/test/helpers/fixtures";

const OPERATOR_SECRET = "operator-secret-for-the-cost-benchmark-0123456";
const BMX_USER = 3220259;

/** Billing rules: a write per document written; a read per document returned (at least one per query). */
class Meter {
  reads = 0;
  writes = 0;
  private readonly queries = new Map<string, number>();

  constructor() {
    setLogFunction((line: string) => this.observe(line));
  }

  reset(): void {
    this.reads = 0;
    this.writes = 0;
    this.queries.clear();
  }

  take(): { reads: number; writes: number } {
    const reads = this.reads + [...this.queries.values()].reduce((sum, docs) => sum + Math.max(1, docs), 0);
    const result = { reads, writes: this.writes };
    this.reset();
    return result;
  }

  private observe(line: string): void {
    const match = /^Firestore \S+ \S+ (\S+) \[Firestore\.(request|requestStream)\]: (Sending request|Received response): (.*)$/s.exec(line);
    if (!match) return;
    const [, tag, , kind, json] = match;
    let body: { writes?: unknown[]; documents?: unknown[]; structuredQuery?: unknown; document?: unknown; found?: unknown };
    try {
      body = JSON.parse(json);
    } catch {
      return;
    }
    if (kind === "Sending request") {
      if (Array.isArray(body.writes)) this.writes += body.writes.length;
      if (Array.isArray(body.documents)) this.reads += body.documents.length;
      if (body.structuredQuery) this.queries.set(tag, 0);
    } else if (this.queries.has(tag) && body.document) {
      this.queries.set(tag, this.queries.get(tag)! + 1);
    }
  }
}

const print = (text: string) => process.stdout.write(`${text}\n`);

it("counts reads and writes per call lifecycle", async () => {
  const projectId = isolatedProjectId("lifecycle-cost.bench.ts");
  const firestore = testFirestore(projectId);
  const db = firestore.db;
  const push = await startPushHarness(projectId);
  const meter = new Meter();
  const rows: string[] = [];
  try {
    for (const devices of [1, 10, 100]) {
      await firestore.clear();
      await seedResident(
        db,
        "resident",
        Array.from({ length: devices }, (_, i) =>
          i % 2 === 0
            ? { deviceId: `android-${i}`, platform: "android", fcmToken: `fcm-cost-bench-token-${i}` }
            : { deviceId: `iphone-${i}`, platform: "ios", voipToken: VOIP_TOKEN(i), fcmToken: `fcm-cost-bench-ios-${i}`, bundleId: "com.example.intercom", apnsEnvironment: "production" },
        ),
      );
      await db.doc(`bmxUsers/${BMX_USER}`).set({ uids: ["resident"] });
      const call = createBody();
      const deliver = (body: unknown) =>
        handleWebhook(
          { method: "POST", path: `/${OPERATOR_SECRET}`, contentType: "application/json", rawBody: Buffer.from(JSON.stringify(body)) },
          { db, operatorSecret: OPERATOR_SECRET, retentionDays: 30, now: Date.now, pushes: push.deps(db) },
        );
      // The triggers get the call's version with their event (the webhook's claim still held); reading it here is
      // not counted.
      const eventData = async (claim: "ring" | "stop") => {
        const version = await claimedVersion(db, call.guid as string, claim);
        meter.reset();
        return version;
      };
      meter.reset();
      await deliver(call);
      const create = meter.take();
      await ringCall(call.guid as string, push.deps(db), { seen: await eventData("ring") });
      const ring = meter.take();
      await deliver(statusBody(call, "connecting_sip"));
      const status = meter.take();
      await stopCall(call.guid as string, push.deps(db), { seen: await eventData("stop") });
      const stop = meter.take();
      const writes = create.writes + ring.writes + status.writes + stop.writes;
      const reads = create.reads + ring.reads + status.reads + stop.reads;
      rows.push(
        `${String(devices).padStart(7)} ${`${create.reads}/${create.writes}`.padStart(9)} ${`${ring.reads}/${ring.writes}`.padStart(9)} ${`${status.reads}/${status.writes}`.padStart(9)} ${`${stop.reads}/${stop.writes}`.padStart(9)} ${String(reads).padStart(7)} ${String(writes).padStart(7)} ${String(devices + 3).padStart(9)}`,
      );
    }
  } finally {
    setLogFunction(null);
    await push.close();
    await firestore.close();
  }
  print("\nFirestore operations per call lifecycle (reads/writes per phase; one recipient, half Android, half iOS VoIP+FCM)");
  print("create: the webhook's create and its ring; ring net: onCallCreated; status: the webhook's status and its stop; stop net: onCallUpdated");
  print(`${"devices".padStart(7)} ${"create".padStart(9)} ${"ring net".padStart(9)} ${"status".padStart(9)} ${"stop net".padStart(9)} ${"reads".padStart(7)} ${"writes".padStart(7)} ${"target≤D+3".padStart(9)}`);
  for (const row of rows) print(row);
}, 300_000);
