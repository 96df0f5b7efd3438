// Runs inside `firebase emulators:exec` (`npm test`, test profile): the integration and rules suites, whose files each
// use a project of their own, on several workers at once; beside them, the e2e suite one file at a time (its files
// share the emulated functions' project and the fixed ports of the fakes those functions reach).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { ROOT } from "./lib/emulator-env.mjs";

const suite = (script) =>
  new Promise((resolve) => {
    const child = spawn("npm", ["run", script, "-w", "functions"], { cwd: ROOT, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

// `npm test` starts the README's walkthrough and the checks that need no emulator once the e2e suite ends
// (E2E_SUITE_ENDED: the file written then), while the integration suite, usually longer, goes on.
const e2eEnded = () => {
  if (process.env.E2E_SUITE_ENDED) writeFileSync(process.env.E2E_SUITE_ENDED, "");
};
const codes = await Promise.all([suite("test:integration"), suite("test:e2e").finally(e2eEnded)]);
process.exit(codes.find((code) => code !== 0) ?? 0);
