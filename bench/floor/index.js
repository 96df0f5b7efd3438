// The floor the ring latency is compared with: a bare Firestore-created trigger that sends one FCM message, over
// the same local-FCM transport the emulated functions use (firebase-admin messaging, HTTP/1.1 agent to the fake).
// Loaded only by `npm run bench` (its own emulator codebase); never deployed.
const { readFileSync } = require("node:fs");
const { Agent } = require("node:https");
const { connect } = require("node:tls");
const { onDocumentCreated } = require("firebase-functions/v2/firestore");
const { initializeApp } = require("firebase-admin/app");
const { getMessaging } = require("firebase-admin/messaging");

let messaging;
function fcm() {
  if (messaging) return messaging;
  const target = new URL(process.env.PUSH_FCM_ORIGIN);
  const ca = readFileSync(process.env.PUSH_CA_FILE);
  const agent = new Agent({ keepAlive: true, ca });
  agent.createConnection = (options) => connect({ ...options, host: target.hostname, port: Number(target.port), servername: "fcm.googleapis.com", ca });
  const app = initializeApp(
    { projectId: process.env.GCLOUD_PROJECT, httpAgent: agent, credential: { getAccessToken: async () => ({ access_token: "bench", expires_in: 3600 }) } },
    "bench-floor",
  );
  messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  return messaging;
}

exports.benchFloorRing = onDocumentCreated({ document: "benchFloor/{id}", region: "us-central1" }, async (event) => {
  await fcm().send({ token: event.data.get("token"), data: { type: "bench.floor", id: event.params.id } });
});
