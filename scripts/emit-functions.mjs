// `npm test`'s build of the functions: functions/lib as `tsc -p tsconfig.build.json` writes it, file by file without
// the type check, which the same run's types phase does over the functions, their tests and the benchmarks at once
// (tsc spends most of a build reading the dependencies' types). functions/tsconfig.json sets isolatedModules, so
// that check refuses any code whose output would depend on other files' types: a file's JavaScript is then the
// same either way. The deploy's build (`npm run build`) stays tsc.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { ROOT } from "./lib/emulator-env.mjs";

const ts = createRequire(import.meta.url)("typescript");
const FUNCTIONS = join(ROOT, "functions");

const format = (diagnostics) => ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => FUNCTIONS, getNewLine: () => "\n" });

const configErrors = [];
const config = ts.getParsedCommandLineOfConfigFile(join(FUNCTIONS, "tsconfig.build.json"), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => configErrors.push(diagnostic),
});
if (!config || configErrors.length > 0 || config.errors.length > 0) {
  console.error(format([...configErrors, ...(config?.errors ?? [])]));
  process.exit(1);
}

const { outDir, rootDir } = config.options;
const syntaxErrors = [];
for (const file of config.fileNames) {
  const { outputText, sourceMapText, diagnostics } = ts.transpileModule(readFileSync(file, "utf8"), {
    compilerOptions: config.options,
    fileName: file,
    reportDiagnostics: true,
  });
  syntaxErrors.push(...(diagnostics ?? []));
  const target = join(outDir, relative(rootDir, file)).replace(/\.ts$/, ".js");
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, outputText);
  if (sourceMapText) writeFileSync(`${target}.map`, sourceMapText);
}
if (syntaxErrors.length > 0) {
  console.error(format(syntaxErrors));
  process.exit(1);
}
console.log(`functions/lib: ${config.fileNames.length} files emitted (types: checked by the types phase)`);
