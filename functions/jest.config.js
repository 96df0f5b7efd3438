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
const tested = { ...emulated, setupFiles: [...emulated.setupFiles, "<rootDir>/test/helpers/retry-idempotent-fetch.js"] };

module.exports = {
  // A test's time is never asserted: the timeout only ends a test that hangs, and a loaded machine must not fail it.
  testTimeout: 60_000,
  projects: [
    project("unit", { setupFiles: ["<rootDir>/test/helpers/test-env.js"] }),
    project("integration", tested),
    project("rules", tested),
    project("e2e", tested),
    // Benchmarks (`npm run bench`), never part of `npm test`: they print figures and assert nothing about time.
    project("bench", { ...emulated, roots: ["<rootDir>/../bench"], testMatch: ["**/*.bench.ts"] }),
  ],
};
