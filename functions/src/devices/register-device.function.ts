import { Timestamp } from "firebase-admin/firestore";
import { onCall } from "firebase-functions/v2/https";
import { APNS_BUNDLE_ID, APNS_ENVIRONMENT, REGION } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { firestore } from "../shared/firebase";
import { registerDevice as register } from "./device-registry";
import { registerDeviceSchema } from "./device-schemas";

/** The app registers (or refreshes) this install's push tokens for the signed-in resident. */
export const registerDevice = onCall({ region: REGION }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(registerDeviceSchema, request.data);
  try {
    return await register(firestore(), uid, input, {
      now: Timestamp.now(),
      defaults: { apnsEnvironment: APNS_ENVIRONMENT.value() === "sandbox" ? "sandbox" : "production", bundleId: APNS_BUNDLE_ID.value() },
    });
  } catch (error) {
    throw toHttpsError(error, { function: "registerDevice", uid });
  }
});
