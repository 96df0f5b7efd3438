import { onCall } from "firebase-functions/v2/https";
import { BUTTERFLYMX_CLIENT_SECRET, REGION, USER_REQUESTS_PER_MINUTE } from "../config";
import { parseInput, requireUid, toHttpsError } from "../shared/errors";
import { spendQuota } from "../shared/quota";
import { firestore } from "../shared/firebase";
import { accessHistory } from "./access-history-service";
import { runtimeHistoryDeps } from "./history-deps";
import { historyQuerySchema } from "./history-schemas";

/** The resident's door releases, newest first: ours merged with ButterflyMX's access logs, a page at a time. */
export const getAccessHistory = onCall({ region: REGION, secrets: [BUTTERFLYMX_CLIENT_SECRET], timeoutSeconds: 60 }, async (request) => {
  const uid = requireUid(request.auth);
  const query = parseInput(historyQuerySchema, request.data);
  try {
    await spendQuota(firestore(), { uid, callable: "getAccessHistory", perWindow: USER_REQUESTS_PER_MINUTE.value(), now: Date.now() });
    return await accessHistory(runtimeHistoryDeps(), uid, query);
  } catch (error) {
    throw toHttpsError(error, { function: "getAccessHistory", uid });
  }
});
