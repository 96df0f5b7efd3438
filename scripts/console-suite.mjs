// Runs inside `firebase emulators:exec` (`npm test`, console profile): starts the stack beside the emulators
// (local ButterflyMX, developer server, demo resident), then the browser suite against the console. The suite
// runs as a child process without blocking this one, which serves the local ButterflyMX and the developer server.
import { spawn } from "node:child_process";
import { ROOT } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";

const stack = localStack("console");
const running = await stack.start();
const suite = spawn("npm", ["run", "test:browser", "-w", "console", "--", ...process.argv.slice(2)], {
  cwd: ROOT,
  env: { ...process.env, CONSOLE_URL: stack.consoleUrl, DEV_PANEL_ORIGIN: stack.devPanelOrigin },
  stdio: "inherit",
});
const code = await new Promise((resolve) => suite.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))));
await running.close();
process.exit(code);
