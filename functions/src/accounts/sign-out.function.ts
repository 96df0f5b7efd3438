import { onCall } from "firebase-functions/v2/https";
import { REGION } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { firestore } from "../shared/firebase";
import { unregisterDevice } from "../devices/device-registry";
import { unregisterDeviceSchema } from "../devices/device-schemas";

/** The resident signs out on this phone: the install stops ringing; the ButterflyMX link stays for their other phones. */
export const signOut = onCall({ region: REGION }, async (request) => {
  const uid = requireUid(request.auth);
  const { deviceId } = parseInput(unregisterDeviceSchema, request.data);
  try {
    return await unregisterDevice(firestore(), uid, deviceId);
  } catch (error) {
    throw toHttpsError(error, { function: "signOut", uid });
  }
});
