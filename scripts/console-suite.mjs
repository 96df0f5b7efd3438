// Runs inside `firebase emulators:exec` (`npm test`, console profile): starts the stack beside the emulators (local
// ButterflyMX, developer server, demo resident), then the README's walkthrough, then the browser suite against the
// console on the demo resident reseeded. `npm test` starts this stack while the emulator suites run; the walkthrough
// waits for their e2e suite to end (WALKTHROUGH_AFTER: a file written then), because beside it, on two cores, the
// emulators answer too slowly for what the tests time out on; the browser suite also waits for the type check and
// unit suites that run beside the walkthrough (BROWSER_SUITE_AFTER). Given arguments (jest's, such as `-t` and a
// browser test's name), only the browser suite runs. Each suite runs as a child process without blocking this one,
// which serves the local ButterflyMX and the developer server. Each suite's duration is appended to
// CONSOLE_SUITE_TIMES (JSON lines), for `npm test`'s summary.
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { ROOT } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";
import { waitForFile } from "./lib/wait-for-file.mjs";

const browserArgs = process.argv.slice(2);

const stack = localStack("console");
const running = await stack.start();
const env = { ...process.env, CONSOLE_URL: stack.consoleUrl, DEV_PANEL_ORIGIN: stack.devPanelOrigin };
const codes = [];
if (browserArgs.length === 0) {
  await waitForFile(process.env.WALKTHROUGH_AFTER);
  codes.push(await suite("walkthrough", ["run", "test:walkthrough", "-w", "console"]));
  // The walkthrough reconciled a call and released the door: the browser suite starts from the demo as seeded.
  await running.reset();
}
await waitForFile(process.env.BROWSER_SUITE_AFTER);
codes.push(await suite("browser", ["run", "test:browser", "-w", "console", "--", ...browserArgs]));
await running.close();
process.exit(codes.find((code) => code !== 0) ?? 0);

function suite(name, args) {
  const startedAt = Date.now();
  const child = spawn("npm", args, { cwd: ROOT, env, stdio: "inherit" });
  return new Promise((resolve) =>
    child.on("exit", (status, signal) => {
      const code = status ?? (signal ? 1 : 0);
      if (process.env.CONSOLE_SUITE_TIMES) appendFileSync(process.env.CONSOLE_SUITE_TIMES, `${JSON.stringify({ name, ms: Date.now() - startedAt, ok: code === 0 })}\n`);
      resolve(code);
    }),
  );
}
