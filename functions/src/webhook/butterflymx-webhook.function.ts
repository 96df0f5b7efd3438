import { onRequest } from "firebase-functions/v2/https";
import { runtimePushDeps } from "../calls/push-deps";
import { APNS_KEY, CALL_MIN_INSTANCES, CALL_RETENTION_DAYS, REGION, WEBHOOK_OPERATOR_SECRET } from "../config";
import { verifiedUidsForEmail } from "../links/email-recipients";
import { firestore } from "../shared/firebase";
import { handleWebhook } from "./webhook-service";

/** ButterflyMX → us. Public by design: the secret in the URL is the credential (ButterflyMX cannot sign). */
export const butterflymxWebhook = onRequest(
  {
    region: REGION,
    secrets: [WEBHOOK_OPERATOR_SECRET, APNS_KEY],
    invoker: "public",
    // Server to server: no CORS, so OPTIONS gets the same 405 as any other method (the emulator would answer it).
    cors: false,
    minInstances: CALL_MIN_INSTANCES,
    concurrency: 80,
    memory: "256MiB",
    timeoutSeconds: 30,
  },
  async (req, res) => {
    const response = await handleWebhook(
      { method: req.method, path: req.path, contentType: req.get("content-type"), rawBody: req.rawBody },
      {
        db: firestore(),
        operatorSecret: WEBHOOK_OPERATOR_SECRET.value(),
        retentionDays: CALL_RETENTION_DAYS.value(),
        now: Date.now,
        uidsForEmail: (email) => verifiedUidsForEmail(email),
        pushes: runtimePushDeps(),
      },
    );
    res.status(response.status).set(response.headers ?? {}).json(response.body);
  },
);
