import { randomUUID } from "node:crypto";
import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { linkAccount } from "../../src/accounts/link-service";
import { reconcileCalls, ReconcileDeps, ReconcileOptions } from "../../src/calls/reconcile-service";
import { ringCall } from "../../src/calls/ring-service";
import { ringTimedOut } from "../../src/calls/ring-timeout-service";
import { stopCall } from "../../src/calls/stop-service";
import { callHistory } from "../../src/history/call-history-service";
import { ButterflyMxFake } from "../fakes/butterflymx-fake";
import { useFeatureFakes } from "../helpers/feature-fakes";
import { accountDeps, resident, signInAtButterflyMx } from "../helpers/accounts-harness";
import { PushHarness } from "../helpers/push-harness";
import { ANDROID, readCall, seedResident, seedRingingCall } from "../helpers/fixtures";

/** Reconciliation against the ButterflyMX fake's call logs, through the real Firestore emulator. */
const fakes = useFeatureFakes(__filename);
const db = fakes.db;
let fake: ButterflyMxFake;
let push: PushHarness;
beforeAll(() => void ({ fake, push } = fakes));

const MINUTE = 60_000;
const deps = (overrides: Partial<ReconcileDeps> = {}): ReconcileDeps => ({
  db,
  bmx: accountDeps(db, fake).bmx,
  now: Date.now,
  ringWindowMs: 40_000,
  retentionDays: 30,
  ...overrides,
});
const run = (options: Partial<ReconcileOptions> = {}, overrides: Partial<ReconcileDeps> = {}) => reconcileCalls(deps(overrides), options);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** A resident who linked ButterflyMX user `bmxUserId` two hours ago, with a device registered just now. */
async function linkedResident(uid: string, bmxUserId: string): Promise<void> {
  await seedResident(db, uid, [{ ...ANDROID, fcmToken: `${ANDROID.fcmToken}-${uid}` }]);
  fake.addUser(resident(bmxUserId));
  await linkAccount(accountDeps(db, fake), uid, signInAtButterflyMx(fake, bmxUserId));
  await db.doc(`users/${uid}`).update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 2 * 3_600_000) });
}


describe("a call ButterflyMX logged that never reached us", () => {
  it("is recorded as over and never rung, dated when the visitor called, with panel, unit and snapshot; once", async () => {
    await linkedResident("ana", "501");
    const guid = randomUUID();
    const calledAt = ago(5 * MINUTE);
    fake.addCallLogs("501", { id: "1", guid, loggedAt: calledAt, panelId: "28516", panelName: "Lobby", status: "timeout_online_signal", mediumUrl: "https://img.example/v.jpg" });

    await expect(run()).resolves.toMatchObject({ recorded: 1, ended: 0, statuses: 0, residents: [{ uid: "ana", result: "checked", recorded: 1 }] });
    const recorded = (await readCall(db, guid))!;
    expect(recorded).toMatchObject({
      status: "missed",
      bmxStatus: "timeout_online_signal",
      endReason: "reconciled",
      recipients: ["ana"],
      bmxUserId: "501",
      panel: { id: "28516", name: "Lobby" },
      unit: { label: "Unit t-501-1" },
      visitorImageUrl: "https://img.example/v.jpg",
      delivery: { state: "not_rung", reason: "reconciled" },
    });
    expect(recorded.createdAt.toMillis()).toBe(Date.parse(calledAt));
    expect(recorded.history).toEqual([expect.objectContaining({ event: "reconciled", via: "reconcile", status: "missed" })]);

    await expect(ringCall(guid, push.deps(db))).resolves.toEqual({ skipped: "call_missed" });
    expect(push.fcm.requests).toHaveLength(0);
    const history = await callHistory({ db, bmx: accountDeps(db, fake).bmx, now: Date.now }, "ana", {});
    expect(history.calls).toEqual([expect.objectContaining({ guid, status: "missed", at: calledAt, source: "both" })]);
    await expect(run()).resolves.toMatchObject({ recorded: 0, ended: 0, statuses: 0 });
    expect((await readCall(db, guid))!.history).toHaveLength(1);
  });

  it("takes ButterflyMX's terminal status when its log has one, and missed when it has none", async () => {
    await linkedResident("ben", "502");
    const [answered, unknown] = [randomUUID(), randomUUID()];
    fake.addCallLogs("502",
      { id: "1", guid: answered, loggedAt: ago(10 * MINUTE), panelId: "1", status: "connecting_sip" },
      { id: "2", guid: unknown, loggedAt: ago(9 * MINUTE), panelId: "1", status: "initializing" });
    await run();
    expect(await readCall(db, answered)).toMatchObject({ status: "answered", endReason: "reconciled" });
    expect(await readCall(db, unknown)).toMatchObject({ status: "missed", bmxStatus: "initializing", endReason: "reconciled" });
  });

  it("leaves calls still within their ring window to the webhook, and calls before the lookback or the link alone", async () => {
    await linkedResident("cam", "503");
    const [fresh, beforeLink, old] = [randomUUID(), randomUUID(), randomUUID()];
    fake.addCallLogs("503",
      { id: "1", guid: fresh, loggedAt: ago(20_000), panelId: "1", status: "initializing" },
      { id: "2", guid: beforeLink, loggedAt: ago(3 * 3_600_000), panelId: "1", status: "canceled" },
      { id: "3", guid: old, loggedAt: ago(30 * 3_600_000), panelId: "1", status: "canceled" });
    await expect(run()).resolves.toMatchObject({ recorded: 0 });
    await db.doc("users/cam").update({ "butterflymx.linkedAt": Timestamp.fromMillis(Date.now() - 7 * 86_400_000) });
    await expect(run()).resolves.toMatchObject({ recorded: 1 });
    expect(await readCall(db, fresh)).toBeUndefined();
    expect(await readCall(db, beforeLink)).toMatchObject({ status: "canceled" });
    expect(await readCall(db, old)).toBeUndefined();
  });
});

describe("a call whose final status never came", () => {
  it("ends a call left ringing with ButterflyMX's status, and the stop reaches its devices", async () => {
    await linkedResident("dot", "504");
    const guid = await seedRingingCall(db, ["dot"]);
    await ringCall(guid, push.deps(db));
    // Five minutes later, the final status still missing (and its ring timeout lost).
    await db.doc(`calls/${guid}`).update({ createdAt: Timestamp.fromMillis(Date.now() - 5 * MINUTE) });
    fake.addCallLogs("504", { id: "1", guid, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });

    await expect(run()).resolves.toMatchObject({ ended: 1, recorded: 0 });
    expect(await readCall(db, guid)).toMatchObject({ status: "canceled", bmxStatus: "canceled", endReason: "butterflymx" });
    expect((await readCall(db, guid))!.history.at(-1)).toMatchObject({ event: "status_update", via: "reconcile", applied: true });
    await expect(stopCall(guid, push.deps(db))).resolves.toEqual({ stopped: 1 });
    expect(push.fcm.requests.map((r) => r.message.data?.type)).toEqual(["call.ring", "call.end"]);
  });

  it("ends a call left ringing as missed when ButterflyMX's log has no final status either, and spares a call still in its window", async () => {
    await linkedResident("eve", "505");
    const stale = await seedRingingCall(db, ["eve"], { createdAt: Date.now() - 5 * MINUTE });
    const live = await seedRingingCall(db, ["eve"], { createdAt: Date.now() - 90_000 });
    fake.addCallLogs("505",
      { id: "1", guid: stale, loggedAt: ago(5 * MINUTE), panelId: "1", status: "initializing" },
      { id: "2", guid: live, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });
    await expect(run()).resolves.toMatchObject({ ended: 1 });
    expect(await readCall(db, stale)).toMatchObject({ status: "missed", endReason: "reconciled" });
    expect((await readCall(db, stale))!.history.at(-1)).toMatchObject({ event: "reconciled", via: "reconcile" });
    expect(await readCall(db, live)).toMatchObject({ status: "ringing" });
  });

  it("gives a call our timeout ended its final ButterflyMX status, without changing how it ended; once", async () => {
    await linkedResident("fin", "506");
    const guid = await seedRingingCall(db, ["fin"], { createdAt: Date.now() - 5 * MINUTE });
    await ringTimedOut({ db, bmx: accountDeps(db, fake).bmx, now: Date.now, ringWindowMs: 40_000 }, guid);
    expect(await readCall(db, guid)).toMatchObject({ status: "missed", endReason: "ring_timeout" });
    fake.addCallLogs("506", { id: "1", guid, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });

    await expect(run()).resolves.toMatchObject({ statuses: 1 });
    expect(await readCall(db, guid)).toMatchObject({ status: "missed", bmxStatus: "canceled", endReason: "ring_timeout" });
    expect((await readCall(db, guid))!.history.at(-1)).toMatchObject({ event: "status_update", bmxStatus: "canceled", applied: false, via: "reconcile" });
    await expect(run()).resolves.toMatchObject({ statuses: 0 });
  });

  it("leaves a call ButterflyMX ended alone, and another user's call with the same guid", async () => {
    await linkedResident("gil", "507");
    const answered = await seedRingingCall(db, ["gil"], { createdAt: Date.now() - 5 * MINUTE });
    await db.doc(`calls/${answered}`).update({ status: "answered", bmxStatus: "connecting_sip", endReason: "butterflymx" });
    const theirs = await seedRingingCall(db, ["someone-else"], { createdAt: Date.now() - 5 * MINUTE });
    fake.addCallLogs("507",
      { id: "1", guid: answered, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" },
      { id: "2", guid: theirs, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });
    await expect(run()).resolves.toMatchObject({ recorded: 0, ended: 0, statuses: 0 });
    expect(await readCall(db, answered)).toMatchObject({ status: "answered", bmxStatus: "connecting_sip" });
    expect(await readCall(db, theirs)).toMatchObject({ status: "ringing", recipients: ["someone-else"] });
  });
});

describe("a run", () => {
  it("goes on past a resident whose grant is dead or whose log cannot be read", async () => {
    await linkedResident("hana", "508");
    await linkedResident("ivan", "509");
    await linkedResident("jude", "510");
    await db.doc("oauthGrants/hana").update({ accessToken: FieldValue.delete(), refreshToken: FieldValue.delete(), invalidSince: Timestamp.now() });
    fake.fail({ method: "GET", path: /^\/v3\/me\/calls$/ }, { status: 503 });
    const guid = randomUUID();
    fake.addCallLogs("510", { id: "1", guid, loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });

    const report = await run({ concurrency: 1 });
    expect(report.residents).toEqual([
      { uid: "hana", result: "skipped", reason: "grant_invalid" },
      { uid: "ivan", result: "failed", reason: "butterflymx_unavailable" },
      { uid: "jude", result: "checked", recorded: 1, ended: 0, statuses: 0 },
    ]);
    expect(await readCall(db, guid)).toMatchObject({ status: "canceled", recipients: ["jude"] });
  });

  it("skips residents with no recent activity (no device refreshed, not linked) unless named", async () => {
    await linkedResident("kai", "511");
    const longAgo = Timestamp.fromMillis(Date.now() - 90 * 86_400_000);
    await db.doc(`users/kai/devices/${ANDROID.deviceId}`).update({ updatedAt: longAgo });
    await db.doc("users/kai").update({ "butterflymx.linkedAt": longAgo });
    fake.addCallLogs("511", { id: "1", guid: randomUUID(), loggedAt: ago(5 * MINUTE), panelId: "1", status: "canceled" });
    await expect(run()).resolves.toMatchObject({ recorded: 0, residents: [{ uid: "kai", result: "skipped", reason: "inactive" }] });
    await expect(run({ uids: ["kai"] })).resolves.toMatchObject({ recorded: 1 });
  });

  it("looks at a bounded page of residents and resumes after the last one, then starts over", async () => {
    for (const [uid, bmxUserId] of [["la", "512"], ["mo", "513"], ["ny", "514"]]) await linkedResident(uid, bmxUserId);
    const seen = async (options: Partial<ReconcileOptions>) => (await run(options)).residents.map((r) => r.uid);

    await expect(run({ maxResidents: 2 })).resolves.toMatchObject({ wrapped: false });
    expect(await seen({ maxResidents: 2 })).toEqual(["ny"]);
    expect(await seen({ maxResidents: 2 })).toEqual(["la", "mo"]);
    expect(await seen({ maxResidents: 2, uids: ["ny"] })).toEqual(["ny"]);
    expect(await seen({ maxResidents: 2 })).toEqual(["ny"]);
  });

  it("starts no resident past its time budget, and the next run takes over from there", async () => {
    for (const [uid, bmxUserId] of [["oz", "515"], ["pi", "516"], ["qu", "517"]]) await linkedResident(uid, bmxUserId);
    let clock = Date.now();
    const slow = { now: () => (clock += 1_000) };
    const first = await run({ concurrency: 1, budgetMs: 5_000 }, slow);
    expect(first.outOfTime).toBe(true);
    expect(first.wrapped).toBe(false);
    const done = first.residents.map((r) => r.uid);
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(3);
    const second = await run({ concurrency: 1 });
    expect([...done, ...second.residents.map((r) => r.uid)]).toEqual(["oz", "pi", "qu"]);
  });

  it("reads at most maxPages pages of a resident's log", async () => {
    await linkedResident("rex", "518");
    const guids = Array.from({ length: 21 }, () => randomUUID());
    fake.addCallLogs("518", ...guids.map((guid, i) => ({ id: String(i + 1), guid, loggedAt: ago(5 * MINUTE + i * 1000), panelId: "1", status: "canceled" })));
    await expect(run({ maxPages: 1 })).resolves.toMatchObject({ recorded: 20 });
    await expect(run({ maxPages: 2 })).resolves.toMatchObject({ recorded: 1 });
  });
});
