// Builds the console into a folder Hosting serves. `node build.mjs --deploy` (what `firebase deploy --only hosting`
// runs): the deployed entry, configured by Hosting's /__/firebase/init.json, no developer panel, into
// console/dist. The emulator build is made by the scripts (`buildConsole` below), with the emulators' addresses.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEPLOY_DIR = join(HERE, "dist");

/**
 * Builds into `outDir`. With `emulators` (hosts, project id, developer server origin, demo sign-in), the emulator
 * entry with those settings; without, the deployed entry.
 */
export async function buildConsole({ outDir = DEPLOY_DIR, emulators } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(join(HERE, "public"), outDir, { recursive: true });
  await build({
    entryPoints: [join(HERE, "src", emulators ? "emulator-main.ts" : "main.ts")],
    outfile: join(outDir, "console.js"),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: !emulators,
    sourcemap: true,
    legalComments: "eof",
    define: emulators ? { CONSOLE_EMULATORS: JSON.stringify(emulators) } : {},
    logLevel: "warning",
  });
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { deploy: { type: "boolean" } } });
  if (!values.deploy) {
    console.error("Usage: node console/build.mjs --deploy   (npm start builds the emulator console itself)");
    process.exit(2);
  }
  console.log(`console built for deploy: ${await buildConsole()}`);
}
