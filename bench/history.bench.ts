// A history page (getCallHistory, getAccessHistory) against its floor: the local ButterflyMX answering one page of
// its log plus one Firestore query, the least a merged page can cost. Run by `npm run bench -- history`; prints
// p50/p95 and their ratio, asserts nothing about time.
import { linkAccount } from "../functions/src/accounts/link-service";
import { accessHistory } from "../functions/src/history/access-history-service";
import { callHistory } from "../functions/src/history/call-history-service";
import { ButterflyMxFake } from "../functions/test/fakes/butterflymx-fake";
import { accountDeps, resident, signInAtButterflyMx, tenant } from "../functions/test/helpers/accounts-harness";
import { createBody } from "../functions/test/helpers/butterflymx-payloads";
import { isolatedProjectId, testFirestore } from "../functions/test/helpers/emulators";
import { seedRingingCall } from "../functions/test/helpers/fixtures";
import { percentile, time } from "./stats";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const UID = "bench-history";
const BMX_USER = "950";

// The test setup silences console (the functions' logs); figures go straight to stdout.
const print = (text: string) => process.stdout.write(`${text}\n`);

it("measures a history page against the fake's own answer plus one Firestore query", async () => {
  const firestore = testFirestore(isolatedProjectId("history.bench.ts"));
  const { db } = firestore;
  const fake = await ButterflyMxFake.start();
  try {
    await firestore.clear();
    fake.addUser(resident(BMX_USER, { tenants: [tenant("t-950", { unitId: "u-950", buildingId: "b-950", accessPoints: ["1"] })] }));
    const deps = accountDeps(db, fake);
    await linkAccount(deps, UID, signInAtButterflyMx(fake, BMX_USER));
    const start = Date.now() - 3_600_000;
    for (let n = 0; n < 40; n++) {
      const guid = await seedRingingCall(db, [UID], { createdAt: start + n * 60_000, body: createBody({ user: { id: 777 } }) });
      fake.addCallLogs(BMX_USER, { id: String(700_000 + n), guid: n % 2 ? guid : `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, loggedAt: new Date(start + n * 60_000 + 30_000).toISOString(), panelId: "28516", status: "canceled" });
      fake.addAccessLogs({ buildingId: "b-950", logged_at: new Date(start + n * 60_000).toISOString(), access_point: 1, release_status: "Unlocked", name: null, release_type: "Tenant", unit: null, tenant_id: "t-950", entry_method: "Swipe to open", image_url: null });
    }
    const historyDeps = { db, bmx: deps.bmx, now: Date.now };
    const grant = (await db.doc(`oauthGrants/${UID}`).get()).get("accessToken") as string;
    const bmxPage = (path: string) => fetch(`${fake.origins.na}${path}`, { headers: { authorization: `Bearer ${grant}` } }).then((r) => r.json());

    const rows: Array<[string, () => Promise<unknown>, () => Promise<unknown>]> = [
      [
        "getCallHistory (20 per page)",
        () => callHistory(historyDeps, UID, { limit: 20 }),
        () => Promise.all([bmxPage("/v3/me/calls"), db.collection("calls").where("recipients", "array-contains", UID).orderBy("createdAt", "desc").limit(25).get()]),
      ],
      [
        "getAccessHistory (20 per page)",
        () => accessHistory(historyDeps, UID, { limit: 20 }),
        () => Promise.all([bmxPage("/v4/buildings/b-950/access_logs?page=1&per=25"), db.collection("accessLogs").where("uid", "==", UID).orderBy("requestedAt", "desc").limit(25).get()]),
      ],
    ];
    print(`\nHistory page, ${SAMPLES} samples each (interleaved with its floor: one page of the local ButterflyMX + one Firestore query)`);
    print(`${"page".padEnd(32)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"floor p50".padStart(10)} ${"floor p95".padStart(10)} ${"× p50".padStart(6)} ${"× p95".padStart(6)}`);
    for (const [name, page, floor] of rows) {
      await page();
      await floor();
      const pages: number[] = [];
      const floors: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        pages.push(await time(page));
        floors.push(await time(floor));
      }
      const [p50, p95, f50, f95] = [percentile(pages, 50), percentile(pages, 95), percentile(floors, 50), percentile(floors, 95)];
      print(`${name.padEnd(32)} ${p50.toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)} ${f50.toFixed(1).padStart(10)} ${f95.toFixed(1).padStart(10)} ${(p50 / f50).toFixed(2).padStart(6)} ${(p95 / f95).toFixed(2).padStart(6)}`);
    }
  } finally {
    await fake.close();
    await firestore.close();
  }
}, 180_000);
