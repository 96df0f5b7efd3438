import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { runtimeAccountDeps } from "./account-deps";
import { updatePreferencesSchema } from "./preference-schemas";
import { updatePreferences as update } from "./preferences-service";

/** Do Not Disturb and contact preference: stored for the ring, and applied at ButterflyMX where it allows. */
export const updatePreferences = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 30 }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(updatePreferencesSchema, request.data);
  try {
    await spendQuota(firestore(), { uid, callable: "updatePreferences", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await update(runtimeAccountDeps(request.rawRequest.get("host")), uid, input);
  } catch (error) {
    throw toHttpsError(error, { function: "updatePreferences", uid });
  }
});
