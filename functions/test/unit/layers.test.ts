import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

// Folders are layers (docs/internals.md, "Layout"): every import of src/ points down this list, never up or sideways into
// another folder of the same layer, and no file reaches itself again through its imports.
const LAYERS: string[][] = [
  ["index.ts"],
  ["webhook", "accounts", "history", "support"],
  ["health"],
  ["doors"],
  ["calls"],
  ["devices"],
  ["push", "links"],
  ["butterflymx"],
  ["shared", "config.ts"],
  ["logs.ts"],
];

const SRC = join(__dirname, "..", "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** src-relative paths (without extension) of every module a file imports, type-only imports and requires included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|require\(|import\()"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((s) => relative(SRC, join(dirname(file), s)).split(sep).join("/"));
}

const moduleOf = (file: string) => relative(SRC, file).split(sep).join("/").replace(/\.ts$/, "");
const folderOf = (module: string) => (module.includes("/") ? module.split("/")[0] : `${module}.ts`);
const layerOf = (folder: string) => LAYERS.findIndex((layer) => layer.includes(folder));

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [moduleOf(file), importsOf(file)]));

describe("src/ layering", () => {
  it("puts every folder and root file in a layer", () => {
    const unplaced = [...new Set([...graph.keys()].map(folderOf))].filter((folder) => layerOf(folder) < 0);
    expect(unplaced).toEqual([]);
  });

  it("imports only from its own folder or a lower layer", () => {
    const upward: string[] = [];
    for (const [module, imports] of graph) {
      const from = folderOf(module);
      for (const target of imports) {
        const to = folderOf(target);
        if (to !== from && layerOf(to) <= layerOf(from)) upward.push(`${module} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import cycles between files", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (module: string, path: string[]) => {
      if (state.get(module) === "done") return;
      if (state.get(module) === "visiting") {
        cycles.push([...path.slice(path.indexOf(module)), module].join(" → "));
        return;
      }
      state.set(module, "visiting");
      for (const target of graph.get(module) ?? []) visit(target, [...path, module]);
      state.set(module, "done");
    };
    for (const module of graph.keys()) visit(module, []);
    expect(cycles).toEqual([]);
  });
});
