import { onCall } from "firebase-functions/v2/https";
import { REGION } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { firestore } from "../shared/firebase";
import { unregisterDevice as unregister } from "./device-registry";
import { unregisterDeviceSchema } from "./device-schemas";

/** The app removes this install: nothing more reaches it. Idempotent. */
export const unregisterDevice = onCall({ region: REGION }, async (request) => {
  const uid = requireUid(request.auth);
  const { deviceId } = parseInput(unregisterDeviceSchema, request.data);
  try {
    return await unregister(firestore(), uid, deviceId);
  } catch (error) {
    throw toHttpsError(error, { function: "unregisterDevice", uid });
  }
});
