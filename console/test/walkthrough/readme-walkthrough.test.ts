// The README's "Five minutes with the emulators", command by command in the order written, against the browser
// suite's stack (its emulators, local ButterflyMX and demo resident as seeded): `npm test` runs it before the browser
// suite, which then starts from the demo reseeded (scripts/console-suite.mjs). The commands are read from the README
// itself, so the page and this test agree.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");
if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error("The walkthrough runs through `npm test` (scripts/console-suite.mjs), inside the emulators.");

jest.setTimeout(180_000);

interface Run {
  code: number | null;
  out: string;
}

/** One README command (`simulate -- call`), as a newcomer types it, against this stack's emulators. */
function run(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "scripts", `${script}.mjs`), ...args], { cwd: ROOT, env: { ...process.env, INTERCOM_RELAY_PROFILE: "console" } });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** The commands of the README's five minutes, in their order: `[script, args]`. */
function walkthrough(): Array<[string, string[]]> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Five minutes");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/^\s*npm run (simulate|diagnose|reconcile)(?: -- )?([^#\n]*?)\s*(?:#.*)?$/gm)].map(([, script, args]) => [script, args.split(/\s+/).filter(Boolean)]);
}

/** What each command must show, by its place in the README (a command may appear twice). */
const EXPECT: Record<string, RegExp[]> = {
  "simulate call": [/HTTP 200/, /status=ringing/, /state=rung/, /apns call\.ring/],
  "simulate duplicate": [/"duplicate": true/],
  "simulate answer": [/status=answered/, /stop: .*state=stopped/, /fcm {2}call\.end/],
  "simulate watch": [/status=missed endReason=ring_timeout/, /stop: .*state=stopped/],
  "simulate outbox": [/call\.ring → token/],
  "simulate open-door": [/"result": "released"/],
  "simulate history": [/getCallHistory/, /getAccessHistory/, /"source": "butterflymx"/],
  "diagnose --email resident@example.com": [/✘ webhook_received/, /never delivered/],
  reconcile: [/1 recorded/],
};

it("runs every command of the README's five minutes, in the order written", async () => {
  const commands = walkthrough();
  expect(commands.map(([script, args]) => [script, ...args].join(" "))).toEqual([
    "simulate call", "simulate duplicate", "simulate answer", "simulate call", "simulate watch", "simulate outbox", "simulate open-door", "simulate history",
    "diagnose --email resident@example.com", "reconcile",
  ]);
  // `watch` follows the unanswered call until its ring timeout (about 43 s): it starts in its turn, and the commands
  // after it run meanwhile, as in a second terminal.
  const watching: Array<Promise<[string, Run]>> = [];
  for (const [script, args] of commands) {
    const name = [script, ...args].join(" ");
    const running = run(script, args).then((result): [string, Run] => [name, result]);
    if (name === "simulate watch") {
      await new Promise((resolve) => setTimeout(resolve, 1000)); // it has read the call before the next command
      watching.push(running);
      continue;
    }
    check(...(await running));
  }
  for (const result of await Promise.all(watching)) check(...result);
});

function check(name: string, result: Run): void {
  expect({ name, code: result.code }).toEqual({ name, code: 0 });
  for (const pattern of EXPECT[name] ?? []) expect({ name, out: result.out }).toEqual({ name, out: expect.stringMatching(pattern) });
}
