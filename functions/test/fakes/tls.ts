import { readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(__dirname, "tls");

/** The fakes' certificate and the CA that signed it (test-only material; see tls/README.md). */
export const TEST_TLS = {
  ca: readFileSync(join(dir, "ca.pem")),
  cert: readFileSync(join(dir, "server.pem")),
  key: readFileSync(join(dir, "server-key.pem")),
};

/** The test APNs auth key and the ids the test profile configures for it. */
export const TEST_APNS = {
  key: readFileSync(join(dir, "apns-auth-key.p8"), "utf8"),
  keyId: "TESTKEY001",
  teamId: "TESTTEAM01",
  bundleId: "com.example.intercom",
};
