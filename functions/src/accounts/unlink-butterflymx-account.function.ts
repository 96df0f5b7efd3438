import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { runtimeAccountDeps } from "./account-deps";
import { noInputSchema } from "./link-schemas";
import { unlinkAccount } from "./unlink-service";

/** Logout from ButterflyMX on every device: integrations, registrations, grant and devices go. Idempotent. */
export const unlinkButterflyMxAccount = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  parseInput(noInputSchema, request.data);
  const deps = runtimeAccountDeps(request.rawRequest.get("host"));
  try {
    await spendQuota(firestore(), { uid, callable: "unlinkButterflyMxAccount", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await unlinkAccount(deps, uid);
  } catch (error) {
    throw toHttpsError(error, { function: "unlinkButterflyMxAccount", uid });
  }
});
