/** Suites: `unit` (pure logic, no emulator) and the emulator suites, which `npm test` runs inside `firebase emulators:exec`. */
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: "node",
  roots: [`<rootDir>/test/${name}`],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  ...extra,
});

const emulated = { globalSetup: "<rootDir>/test/helpers/require-emulators.js", setupFiles: ["<rootDir>/test/helpers/test-env.js"] };

module.exports = {
  projects: [
    project("unit", { setupFiles: ["<rootDir>/test/helpers/test-env.js"] }),
    project("integration", emulated),
    project("rules", emulated),
    project("e2e", emulated),
    // Benchmarks (`npm run bench`), never part of `npm test`: they print figures and assert nothing about time.
    project("bench", { ...emulated, roots: ["<rootDir>/../bench"], testMatch: ["**/*.bench.ts"] }),
  ],
};
