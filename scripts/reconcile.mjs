// `npm run reconcile -- [--uid <uid> …] [--project <id>] [options]`: one reconciliation run now, as the scheduled
// reconcileCalls does: ButterflyMX's call logs against our calls; repairs, never rings.
import { commandLine, supportContext, TARGET_HELP, wholeNumber } from "./lib/support-cli.mjs";

const HELP = `Usage: npm run reconcile -- [options]
  --uid <uid>              only this resident, whatever their recent activity (repeatable); the scheduled run's
                           place in the list of residents is left alone
  --max-residents <n>      residents looked at in this run (default 200)
  --lookback-hours <h>     how far back each call log is compared (default 24)
${TARGET_HELP}`;

const values = commandLine({ uid: { type: "string", multiple: true }, "max-residents": { type: "string" }, "lookback-hours": { type: "string" } }, HELP);
const options = {};
if (values.uid) options.uids = values.uid;
if (values["max-residents"] !== undefined) options.maxResidents = wholeNumber("--max-residents", values["max-residents"], 1, 10_000);
if (values["lookback-hours"] !== undefined) options.lookbackMs = wholeNumber("--lookback-hours", values["lookback-hours"], 1, 24 * 30) * 3_600_000;

const context = await supportContext(values);
const { reconcileCalls } = context.lib("calls/reconcile-service.js");
const { ringWindowMs } = context.lib("calls/push-deps.js");
const deps = {
  db: context.db,
  bmx: context.bmx,
  now: Date.now,
  ringWindowMs: ringWindowMs(Number(context.params.RING_WINDOW_SECONDS ?? 40)),
  retentionDays: Number(context.params.CALL_RETENTION_DAYS ?? 30),
};
const report = await reconcileCalls(deps, options);
console.log(`Reconciliation on ${context.target}: ${report.residents.length} resident(s)`);
for (const resident of report.residents) {
  const what = resident.result === "checked"
    ? `${resident.recorded} recorded, ${resident.ended} ended, ${resident.statuses} final status(es)`
    : `${resident.result}: ${resident.reason}`;
  console.log(`  ${resident.uid}  ${what}`);
}
console.log(`Calls recorded ${report.recorded}, ended ${report.ended}, final statuses ${report.statuses}.` +
  (report.outOfTime ? " Stopped at the time budget; the next run goes on from there." : report.wrapped || options.uids ? "" : " More residents remain; the next run goes on from there."));
process.exit(report.residents.some((r) => r.result === "failed") ? 1 : 0);
