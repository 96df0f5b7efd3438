import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { requireLinkingConfigured, runtimeAccountDeps } from "./account-deps";
import { linkAccount } from "./link-service";
import { linkAccountSchema } from "./link-schemas";

/** The app hands over ButterflyMX's authorization code (PKCE); we link the account and register its webhooks. */
export const linkButterflyMxAccount = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const input = parseInput(linkAccountSchema, request.data);
  requireLinkingConfigured();
  const deps = runtimeAccountDeps(request.rawRequest.get("host"));
  try {
    await spendQuota(firestore(), { uid, callable: "linkButterflyMxAccount", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await linkAccount(deps, uid, input);
  } catch (error) {
    throw toHttpsError(error, { function: "linkButterflyMxAccount", uid });
  }
});
