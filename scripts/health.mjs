// `npm run health -- [--project <id>] [--json]`: the delivery-health watch as it sees things now: the last window's
// rings per provider and why some failed, and every incident (open or closed), on the emulators or a deployed project.
import { commandLine, supportContext, TARGET_HELP } from "./lib/support-cli.mjs";

const HELP = `Usage: npm run health -- [options]
  --json                   print the window and the incidents as JSON
${TARGET_HELP}`;

const values = commandLine({ json: { type: "boolean", default: false } }, HELP);
const context = await supportContext(values);
const { measureWindow, findings, HEALTH_WINDOW_MS } = context.lib("health/delivery-health.js");
const { HEALTH_INCIDENTS } = context.lib("health/health-incidents.js");
const window = await measureWindow(context.db, Date.now());
const incidents = (await context.db.collection(HEALTH_INCIDENTS).get()).docs.map((doc) => {
  const { openedAt, lastSeenAt, closedAt, evidence, ...rest } = doc.data();
  const iso = (t) => t?.toDate().toISOString();
  return { id: doc.id, ...rest, openedAt: iso(openedAt), lastSeenAt: iso(lastSeenAt), ...(closedAt ? { closedAt: iso(closedAt) } : {}), evidence: { ...evidence, windowStart: iso(evidence.windowStart) } };
});
if (values.json) {
  console.log(JSON.stringify({ window: { ...window, start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() }, incidents }, null, 2));
  process.exit(0);
}
console.log(`Delivery health on ${context.target}: the last ${HEALTH_WINDOW_MS / 60_000} minutes (${new Date(window.start).toISOString()} → ${new Date(window.end).toISOString()})\n`);
for (const [provider, counts] of Object.entries(window.providers)) {
  const found = findings(counts, context.thresholds);
  const state = !found ? "no ring" : found.credentials || found.failure_rate ? "UNHEALTHY" : "healthy";
  const reasons = Object.entries(counts.byReason).map(([reason, n]) => `${reason} ${n}`).join(", ");
  console.log(`  ${provider.toUpperCase().padEnd(4)} ${state.padEnd(9)} ${counts.total} ring(s), ${counts.failed} failed${reasons ? ` (${reasons})` : ""}`);
}
console.log(`\nIncidents${incidents.length === 0 ? ": none" : ""}`);
for (const incident of incidents) {
  console.log(`  ${incident.state === "open" ? "✘ open  " : "✔ closed"} ${incident.id}  opened ${incident.openedAt} (${incident.opened} time(s)), last seen ${incident.lastSeenAt}${incident.closedAt ? `, closed ${incident.closedAt}` : ""}`);
}
process.exit(0);
