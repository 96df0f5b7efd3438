import { Timestamp } from "firebase-admin/firestore";
import { onCall } from "firebase-functions/v2/https";
import { REGION } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { firestore } from "../shared/firebase";
import { acknowledgeDeliverySchema } from "./acknowledgement-schemas";
import { acknowledgeDelivery as acknowledge } from "./acknowledgements";

/** The app reports what it did with a call's push on this device: received, displayed, answered or declined. */
export const acknowledgeDelivery = onCall({ region: REGION }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(acknowledgeDeliverySchema, request.data);
  try {
    return await acknowledge(firestore(), uid, input, Timestamp.now());
  } catch (error) {
    throw toHttpsError(error, { function: "acknowledgeDelivery", uid });
  }
});
