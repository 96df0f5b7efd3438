// The Chromium the console's browser suite drives: `CHROMIUM_PATH`, else a system Chromium or Chrome, else (Linux
// x64) the headless Chromium that the devDependency @sparticuz/chromium ships inside its npm tarball, so that
// `npm install && npm test` needs no system package.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, SetupError } from "./emulator-env.mjs";

const require = createRequire(join(ROOT, "console", "package.json"));

const SYSTEM_BROWSERS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

const INSTALL_ONE =
  "No Chromium for the console's browser suite: install Chromium or Chrome (Debian: sudo apt-get install chromium), or set CHROMIUM_PATH to one.";

/**
 * The browser's path, or a promise of it while the packaged one unpacks on first use (about 7 s, beside other work).
 * Throws a SetupError at once, naming what to install, when there is none to be had.
 */
export function chromiumPath() {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen)) throw new SetupError(`CHROMIUM_PATH points at ${chosen}, which does not exist.`);
    return chosen;
  }
  const system = SYSTEM_BROWSERS.find((path) => existsSync(path));
  if (system) return system;
  if (process.platform === "linux" && process.arch === "x64") return packagedChromium();
  throw new SetupError(INSTALL_ONE);
}

/**
 * @sparticuz/chromium unpacks its browser into the temp folder and reuses any `chromium` it finds there, whatever
 * its version. Unpacked here instead, into a folder of the repository named after the package's version (a child
 * process with its own TMPDIR), and moved into place only once complete, so that an interrupted unpack is redone.
 */
function packagedChromium() {
  let entry;
  try {
    entry = require.resolve("@sparticuz/chromium");
  } catch {
    throw new SetupError(`${INSTALL_ONE} (The packaged one, @sparticuz/chromium, is missing: run npm install.)`);
  }
  // Its exports map hides package.json: read beside its entry point (build/index.js).
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8"));
  const folder = join(ROOT, ".emulators", `chromium-${version}`);
  const binary = join(folder, "chromium");
  if (existsSync(binary)) return binary;
  return unpack(entry, version, folder);
}

async function unpack(entry, version, folder) {
  const staging = `${folder}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  console.log(`Unpacking the headless Chromium of @sparticuz/chromium ${version} into ${folder} (once)`);
  const unpacked = await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", `const { default: chromium } = await import(${JSON.stringify(pathToFileURL(entry).href)});
        console.log(await chromium.executablePath());`],
      { env: { ...process.env, TMPDIR: staging }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
  if (unpacked.status !== 0 || unpacked.stdout.trim() !== join(staging, "chromium")) {
    rmSync(staging, { recursive: true, force: true });
    throw new SetupError(`${INSTALL_ONE} (Unpacking @sparticuz/chromium failed: ${(unpacked.stderr || unpacked.stdout).trim().split("\n").at(-1)})`);
  }
  rmSync(folder, { recursive: true, force: true });
  renameSync(staging, folder);
  return join(folder, "chromium");
}
