// The floors the ring latency is compared with: a bare Firestore-created trigger that sends one FCM message, over
// the same local-FCM transport the emulated functions use (firebase-admin messaging, HTTP/1.1 agent to the fake);
// and a bare webhook in front of it that does what any webhook storing an authenticated call must (one read of
// three documents, one write of two), with none of the ring's work. Loaded only by `npm run bench` (its own
// emulator codebase); never deployed.
const { readFileSync } = require("node:fs");
const { Agent } = require("node:https");
const { connect } = require("node:tls");
const { onDocumentCreated } = require("firebase-functions/v2/firestore");
const { onRequest } = require("firebase-functions/v2/https");
const { initializeApp } = require("firebase-admin/app");
const { getFirestore } = require("firebase-admin/firestore");
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

let db;
exports.benchFloorWebhook = onRequest({ region: "us-central1" }, async (request, response) => {
  db ??= getFirestore(initializeApp({ projectId: process.env.GCLOUD_PROJECT }, "bench-floor-webhook"));
  const { id, token } = request.body;
  // As the real webhook: the sender's registration, the call and the links in one read; the call and its raw copy
  // in one write.
  await db.getAll(db.doc("benchFloorAuth/sender"), db.doc(`benchFloor/${id}`), db.doc("benchFloorLinks/user"));
  const batch = db.batch();
  batch.create(db.doc(`benchFloor/${id}`), { token });
  batch.set(db.doc(`benchFloorRaw/${id}`), request.body);
  await batch.commit();
  response.json({ ok: true });
});
