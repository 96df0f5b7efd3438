// The deployed build must carry no developer panel and no emulator settings, and configure itself from Hosting.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const BUILD = pathToFileURL(join(__dirname, "..", "..", "build.mjs")).href;

describe("console builds", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const build = async (emulators?: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), "console-build-"));
    dirs.push(dir);
    // build.mjs is an ES module and jest runs CommonJS: build in a node of its own.
    const script = `const { buildConsole } = await import(${JSON.stringify(BUILD)}); await buildConsole({ outDir: process.argv[1], emulators: JSON.parse(process.argv[2]) ?? undefined });`;
    const built = spawnSync(process.execPath, ["--input-type=module", "-e", script, dir, JSON.stringify(emulators ?? null)], { encoding: "utf8" });
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
    return { js: readFileSync(join(dir, "console.js"), "utf8"), html: readFileSync(join(dir, "index.html"), "utf8") };
  };

  it("deploys without the developer panel, emulator addresses or demo credentials", async () => {
    const { js, html } = await build();
    expect(html).toContain('src="/console.js"');
    expect(js).toContain("/__/firebase/init.json");
    for (const absent of ["Developer panel", "/outbox", "/play", "demo-password", "127.0.0.1", "demo-api-key"]) expect(js).not.toContain(absent);
    expect(js).toContain("Create account"); // the app's words are in both builds; the emulator entry alone turns sign-up on
    expect(js).not.toMatch(/allowSignUp:\s*(!0|true)/);
  }, 60_000);

  it("serves a Referrer-Policy that an API key restricted by HTTP referrer accepts", () => {
    // The emulator profiles' configs are written from firebase.json (scripts/lib/emulator-env.mjs), headers included.
    const config = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "firebase.json"), "utf8")) as { hosting: { headers: unknown } };
    // no-referrer sends no Referer to Auth and Firestore, which then refuse a browser key restricted by referrer.
    expect(config.hosting.headers).toEqual([expect.objectContaining({ headers: expect.arrayContaining([{ key: "Referrer-Policy", value: "strict-origin-when-cross-origin" }]) })]);
  });

  it("builds the emulator console with its addresses and the developer panel", async () => {
    const emulators = {
      projectId: "demo-x",
      auth: "http://127.0.0.1:1",
      firestore: { host: "127.0.0.1", port: 2 },
      functions: { host: "127.0.0.1", port: 3 },
      devPanelOrigin: "http://127.0.0.1:4",
      demo: { email: "a@example.com", password: "demo-password" },
    };
    const { js } = await build(emulators);
    for (const present of ["Developer panel", "http://127.0.0.1:4", "demo-password", "demo-x"]) expect(js).toContain(present);
    expect(js).not.toContain("/__/firebase/init.json");
    expect(js).toMatch(/allowSignUp:\s*(!0|true)/);
  }, 60_000);
});
