// Runs inside `firebase emulators:exec` (`npm test`, console profile): starts the stack beside the emulators
// (local ButterflyMX, developer server, demo resident), then the browser suite against the console and the README's
// walkthrough (not when the browser suite is given arguments, e.g. a test name). Each
// runs as a child process without blocking this one, which serves the local ButterflyMX and the developer server.
import { spawn } from "node:child_process";
import { ROOT } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";

const stack = localStack("console");
const running = await stack.start();
// The browser suite, then the README's walkthrough, which changes the demo resident's data (it reconciles) and so
// runs last.
const env = { ...process.env, CONSOLE_URL: stack.consoleUrl, DEV_PANEL_ORIGIN: stack.devPanelOrigin };
let code = await suite(["run", "test:browser", "-w", "console", "--", ...process.argv.slice(2)]);
if (code === 0 && process.argv.length === 2) code = await suite(["run", "test:walkthrough", "-w", "console"]);
await running.close();
process.exit(code);

function suite(args) {
  const child = spawn("npm", args, { cwd: ROOT, env, stdio: "inherit" });
  return new Promise((resolve) => child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))));
}
