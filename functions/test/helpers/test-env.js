// Google client libraries otherwise probe the GCE metadata server, which stalls tests off Google Cloud.
process.env.METADATA_SERVER_DETECTION = "none";

// The functions' structured logs are noise in test output; TEST_LOGS=1 shows them.
if (!process.env.TEST_LOGS) {
  for (const method of ["log", "info", "warn", "error", "debug"]) global.console[method] = () => undefined;
}
