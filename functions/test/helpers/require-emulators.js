// Emulator suites must never pass by skipping: without the emulators they fail here, saying how to run them.
module.exports = async () => {
  const missing = ["FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "FIREBASE_EMULATOR_HUB"].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `The integration, rules and e2e suites need the Firebase emulators (${missing.join(", ")} not set). ` +
        "Run them with `npm test` from the repository root, which starts the emulators.",
    );
  }
};
