// Runs inside `firebase emulators:exec` (`npm test`, test profile): the integration and rules suites, whose files each
// use a project of their own, on several workers at once; beside them, the e2e suite one file at a time (its files
// share the emulated functions' project and the fixed ports of the fakes those functions reach).
import { spawn } from "node:child_process";
import { ROOT } from "./lib/emulator-env.mjs";

const suite = (script) =>
  new Promise((resolve) => {
    const child = spawn("npm", ["run", script, "-w", "functions"], { cwd: ROOT, stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const codes = await Promise.all([suite("test:integration"), suite("test:e2e")]);
process.exit(codes.find((code) => code !== 0) ?? 0);
