import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Every non-secret param has a line in functions/.env: the emulator (and so `npm start` and `npm test`) stops to ask
 * for a param it finds nowhere, even one with a default.
 */
describe("functions/.env", () => {
  it("names every defineString and defineInt param of config.ts", () => {
    const root = join(__dirname, "..", "..");
    const config = readFileSync(join(root, "src", "config.ts"), "utf8");
    const params = [...config.matchAll(/define(?:String|Int)\("([A-Z0-9_]+)"/g)].map((m) => m[1]);
    const env = new Set(readFileSync(join(root, ".env"), "utf8").split("\n").flatMap((line) => /^([A-Z0-9_]+)=/.exec(line)?.[1] ?? []));
    expect(params.length).toBeGreaterThan(10);
    expect(params.filter((name) => !env.has(name))).toEqual([]);
  });
});
