// Runs inside `firebase emulators:exec` (`npm test`, console profile): starts the stack beside the emulators
// (local ButterflyMX, developer server, demo resident), then the browser suite against the console.
import { spawnSync } from "node:child_process";
import { ROOT } from "./lib/emulator-env.mjs";
import { localStack } from "./lib/local-stack.mjs";

const stack = localStack("console");
const running = await stack.start();
const result = spawnSync("npm", ["run", "test:browser", "-w", "console", "--", ...process.argv.slice(2)], {
  cwd: ROOT,
  env: { ...process.env, CONSOLE_URL: stack.consoleUrl },
  stdio: "inherit",
});
await running.close();
process.exit(result.status ?? 1);
