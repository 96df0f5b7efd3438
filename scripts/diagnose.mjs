// `npm run diagnose -- --uid <uid> | --email <email> | --building <building> [--project <id>] [--calls N | --days N]
// [--json]`: why a resident's phone did or did not ring, as support sees it: every check of the `diagnose` callable,
// with evidence and advice; or, for a building, every resident side by side, the building's own checks and whether
// one resident, several or all are affected.
import { commandLine, fail, maskedEmail, residentUid, supportContext, TARGET_HELP, wholeNumber } from "./lib/support-cli.mjs";

const HELP = `Usage: npm run diagnose -- (--uid <uid> | --email <email> | --building <building>) [options]
  --uid <uid>              the resident's Firebase Auth uid
  --email <email>          or their sign-in email (looked up in Firebase Auth)
  --building <building>    or a whole building: a tenant id, building id or building name of a linked resident
  --calls <n>              how many of their latest calls to show (default 10, at most 25)
  --days <n>               the building's window (default 7, at most 30)
  --json                   print the diagnosis as JSON (what the callable answers)
${TARGET_HELP}
Example (with \`npm start\` running): npm run diagnose -- --email resident@example.com`;

const values = commandLine(
  { uid: { type: "string" }, email: { type: "string" }, building: { type: "string" }, calls: { type: "string" }, days: { type: "string" }, json: { type: "boolean", default: false } },
  HELP,
);
if ([values.uid, values.email, values.building].filter(Boolean).length !== 1) fail(`Name exactly one of --uid, --email or --building.\n\n${HELP}`, 2);
const calls = values.calls === undefined ? undefined : wholeNumber("--calls", values.calls, 1, 25);
const days = values.days === undefined ? 7 : wholeNumber("--days", values.days, 1, 30);

const context = await supportContext(values);
if (values.building) {
  await buildingView(context, values.building, days);
  process.exit(0);
}
const uid = await residentUid(context, values);
const { diagnose } = context.lib("support/diagnose-service.js");
const diagnosis = await diagnose({ db: context.db, bmx: context.bmx, now: Date.now }, uid, calls === undefined ? {} : { calls });
if (values.json) {
  console.log(JSON.stringify(diagnosis, null, 2));
} else {
  const who = values.email ? `${uid} (${maskedEmail(values.email)})` : uid;
  console.log(`Why didn't the phone ring? ${who} on ${context.target}, ${diagnosis.checkedAt}\n`);
  const width = Math.max(...diagnosis.checks.map((c) => c.id.length));
  for (const check of diagnosis.checks) {
    console.log(`  ${check.ok ? "✔" : "✘"} ${check.id.padEnd(width)}  ${check.summary}`);
    if (check.advice) console.log(`  ${" ".repeat(width + 4)}→ ${check.advice}`);
  }
  console.log(`\nLatest calls, newest first${diagnosis.calls.length === 0 ? ": none" : ""}`);
  for (const call of diagnosis.calls) {
    const ending = call.endReason ? ` (${call.endReason})` : "";
    console.log(`  ${call.at}  ${call.panel}  ${call.status}${ending}  ${call.guid}`);
    const delivery = [call.delivery.state, call.delivery.reason, call.delivery.resident && `for this resident: ${call.delivery.resident}`].filter(Boolean).join(", ");
    console.log(`      received from ButterflyMX: ${call.received === "webhook" ? "webhook" : "no (recorded by reconciliation)"} · ring: ${delivery}`);
    if (call.problem) console.log(`      ✘ ${call.problem}`);
    for (const device of call.devices) console.log(`      ${device.deviceId} (${device.platform}, ${device.channel}): ${steps(device)}`);
  }
  const failed = diagnosis.checks.filter((c) => !c.ok).length;
  console.log(`\n${failed === 0 ? "Every check passed." : `${failed} check(s) failed.`}`);
}
process.exit(0);

function steps(device) {
  const time = (iso) => iso.slice(11, 19);
  return [
    `rung ${time(device.ringAt)}`,
    device.accepted ? "accepted" : `not accepted (${device.errorCode})`,
    device.received ? `received ${time(device.received)}` : device.unacknowledged ? "never received" : "received: not reported",
    device.displayed && `displayed ${time(device.displayed)}`,
    device.answered && `answered ${time(device.answered)}`,
    device.declined && `declined ${time(device.declined)}`,
    device.stopped && `stop ${device.stopped}`,
  ].filter(Boolean).join(" · ");
}

/** The building view: residents side by side, the building's checks, and the verdict. */
async function buildingView(context, building, windowDays) {
  const { diagnoseBuilding } = context.lib("support/building-diagnosis.js");
  let view;
  try {
    view = await diagnoseBuilding({ db: context.db, bmx: context.bmx, now: Date.now }, { building, windowMs: windowDays * 86_400_000, thresholds: context.thresholds });
  } catch (error) {
    fail(error.message, 2);
  }
  if (values.json) return console.log(JSON.stringify(view, null, 2));
  console.log(`One resident, several, or all? Building ${view.building.name ?? ""} (${view.building.id}) on ${context.target}, ${view.window.from} → ${view.window.to}\n`);
  console.log(`  Verdict: ${view.verdict.summary}\n`);
  console.log("  Residents");
  for (const r of view.residents) {
    const rings = Object.entries(r.lastRing).map(([platform, ring]) => `${platform} ${ring.outcome}${ring.errorCode ? ` (${ring.errorCode})` : ""}`).join(", ") || "no ring in the window";
    console.log(`    ${r.failing.length === 0 ? "✔" : "✘"} ${r.uid}${r.unit ? ` (${r.unit})` : ""}  linked: ${r.linked ? "yes" : "no"} · webhook: ${r.webhookRegistered ? "registered" : "missing"} · last event: ${r.lastEventAt ?? "none"} · last ring: ${rings}${r.failing.length ? ` · failing: ${r.failing.join(", ")}` : ""}`);
  }
  console.log("\n  Building checks");
  const width = Math.max(...view.checks.map((c) => c.id.length));
  for (const check of view.checks) {
    console.log(`    ${check.ok ? "✔" : "✘"} ${check.id.padEnd(width)}  ${check.summary}`);
    if (check.advice) console.log(`    ${" ".repeat(width + 4)}→ ${check.advice}`);
  }
}
