// Preloaded into the Firebase CLI wherever the scripts start the emulators (`node --require`, see `firebaseCli()` in
// emulator-env.mjs). At every start the Auth emulator compiles a validator for each operation of the Identity
// Toolkit API: about 7 s of CPU on this project's machines, before any emulator answers. exegesis, which it uses,
// can compile each validator when the operation is first called instead (its own `lazyCompileValidationSchemas`
// option), and validates the same; firebase-tools does not ask for it, so this does. Where firebase-tools no longer
// loads exegesis-express, nothing is changed.
try {
  const { createRequire } = require("node:module");
  const fromAuthEmulator = createRequire(require.resolve("firebase-tools/lib/emulator/auth/server.js"));
  const exegesisExpress = fromAuthEmulator("exegesis-express");
  const { middleware } = exegesisExpress;
  exegesisExpress.middleware = (openApiDoc, options, done) => middleware(openApiDoc, { lazyCompileValidationSchemas: true, ...options }, done);
} catch {
  // firebase-tools without the module: its own start, unchanged
}
