import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The repository carries its own documentation: every relative link resolves inside it, anchors included. */
const ROOT = resolve(__dirname, "..", "..", "..");
const SKIP = new Set(["node_modules", ".git", ".emulators", "lib", "dist", "coverage"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (SKIP.has(name)) return [];
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const headings = [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim());
  return new Set(headings.map((h) => h.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}

const files = markdownFiles(ROOT);

describe("the documentation", () => {
  it("is found", () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(["README.md", "CHANGELOG.md", join("docs", "contract.md"), join("docs", "deploy.md")]));
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))("%s links only to files and headings inside the repository", (_name, file) => {
    const text = readFileSync(file, "utf8");
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const destination = path ? resolve(dirname(file), decodeURI(path)) : file;
      if (!destination.startsWith(ROOT + "/") || !existsSync(destination)) {
        broken.push(target);
        continue;
      }
      if (anchor && destination.endsWith(".md") && !anchors(readFileSync(destination, "utf8")).has(anchor)) broken.push(target);
    }
    expect(broken).toEqual([]);
    expect(text).not.toMatch(/\.\.\/shared\//);
  });

  it("keeps the README to a page a newcomer reads", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });
});
