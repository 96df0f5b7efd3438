import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * scripts/lib/auth-emulator-lazy.cjs, preloaded into the Firebase CLI, makes the Auth emulator compile each request
 * validator when it is first used. These fail when a firebase-tools upgrade leaves it nothing to change (every emulator
 * start would silently be about 7 s of CPU longer again).
 */
const AUTH_SERVER = require.resolve("firebase-tools/lib/emulator/auth/server.js");
const fromAuthEmulator = createRequire(AUTH_SERVER);
type Middleware = (openApiDoc: unknown, options: unknown) => Promise<unknown>;

/** An API whose one request schema cannot compile: creating its middleware fails only where schemas compile at once. */
const API = {
  openapi: "3.0.0",
  info: { title: "uncompilable", version: "1" },
  paths: {
    "/x": {
      post: {
        "x-exegesis-controller": "c",
        operationId: "op",
        requestBody: { content: { "application/json": { schema: { type: "no-such-type" } } } },
        responses: { 200: { description: "ok" } },
      },
    },
  },
};
const OPTIONS = { controllers: { c: { op: () => ({}) } } };

it("the Auth emulator still builds its API with exegesis-express's middleware", () => {
  expect(readFileSync(AUTH_SERVER, "utf8")).toMatch(/require\("exegesis-express"\)[\s\S]*exegesisExpress\.middleware\(/);
});

it("without the preload the middleware compiles every schema at once; with it, none until used", async () => {
  const exegesisExpress = fromAuthEmulator("exegesis-express") as { middleware: Middleware };
  await expect(exegesisExpress.middleware(API, OPTIONS)).rejects.toThrow(/schema is invalid/);
  require(join(__dirname, "..", "..", "..", "scripts", "lib", "auth-emulator-lazy.cjs"));
  await expect(exegesisExpress.middleware(API, OPTIONS)).resolves.toEqual(expect.any(Function));
});
