/**
 * `console-build`: pure logic and the deployed build (no emulator). `browser`: the console in Chromium, and
 * `walkthrough`: the README's commands, both run by npm test inside the emulators.
 */
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: "node",
  roots: [`<rootDir>/test/${name === "console-build" ? "unit" : name}`],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.test.json" }] },
  ...extra,
});

module.exports = {
  projects: [project("console-build"), project("browser"), project("walkthrough")],
};
